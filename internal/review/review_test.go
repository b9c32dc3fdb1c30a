package review_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/review"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var ctx = context.Background()

func target(metric, value string) review.TargetInput {
	return review.TargetInput{Metric: metric, Value: json.RawMessage(value)}
}

// Targets are metrics of the catalogue, once each, in their unit (yuan
// for money, exact to the fen), not negative, whole for counts, bounded;
// every refusal names the target and what is wrong.
func TestParseTargets(t *testing.T) {
	ok := []struct {
		in   []review.TargetInput
		want []model.CampaignTarget
	}{
		{[]review.TargetInput{target("leads", "500"), target("won_revenue", "5000000"), target("cost_per_lead", "126.5")},
			[]model.CampaignTarget{{Metric: "leads", Value: 50000}, {Metric: "won_revenue", Value: 500000000}, {Metric: "cost_per_lead", Value: 12650}}},
		{[]review.TargetInput{target(" ROI ", "2.35"), target("first_follow_up_hours", "1.5")},
			[]model.CampaignTarget{{Metric: "roi", Value: 235}, {Metric: "first_follow_up_hours", Value: 150}}},
		{[]review.TargetInput{target("leads", `"1,200"`), target("cost", "3e3"), target("orders", "0")},
			[]model.CampaignTarget{{Metric: "leads", Value: 120000}, {Metric: "cost", Value: 300000}, {Metric: "orders", Value: 0}}},
		{[]review.TargetInput{target("won_revenue", "10000000000")}, []model.CampaignTarget{{Metric: "won_revenue", Value: 1_000_000_000_000}}},
		{nil, []model.CampaignTarget{}},
	}
	for _, tc := range ok {
		got, err := review.ParseTargets(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%v: %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
	bad := []struct {
		in     []review.TargetInput
		field  string
		saying string
	}{
		{[]review.TargetInput{target("leeds", "5")}, "targets[0].metric", `unknown metric "leeds"`},
		{[]review.TargetInput{target("", "5")}, "targets[0].metric", "required"},
		{[]review.TargetInput{target("leads", "5"), target("leads", "6")}, "targets[1].metric", "leads is also targets[0]"},
		{[]review.TargetInput{target("leads", "-5")}, "targets[0].value", "leads: must not be negative"},
		{[]review.TargetInput{target("cost", "-0.01")}, "targets[0].value", "cost: must not be negative"},
		{[]review.TargetInput{target("leads", "5.5")}, "targets[0].value", "leads: a whole number"},
		{[]review.TargetInput{target("cost", "1.005")}, "targets[0].value", "cost: at most two decimals"},
		{[]review.TargetInput{target("leads", "10000001")}, "targets[0].value", "leads: at most 10000000"},
		{[]review.TargetInput{target("won_revenue", "10000000000.01")}, "targets[0].value", "won_revenue: at most 10000000000"},
		{[]review.TargetInput{target("leads", "1e999999999")}, "targets[0].value", "leads: at most"},
		{[]review.TargetInput{target("leads", `"lots"`)}, "targets[0].value", `leads: "lots" is not a number`},
		{[]review.TargetInput{target("leads", "true")}, "targets[0].value", "not a number"},
		{[]review.TargetInput{target("leads", "null")}, "targets[0].value", "a value is required"},
		{[]review.TargetInput{target("leads", "")}, "targets[0].value", "a value is required"},
		{[]review.TargetInput{target("leads", `"1/3"`)}, "targets[0].value", "not a number"},
	}
	for _, tc := range bad {
		_, err := review.ParseTargets(tc.in)
		var ie *review.InvalidError
		if !errors.As(err, &ie) || ie.Fields[0].Field != tc.field || !strings.Contains(ie.Error(), tc.saying) || ie.Fields[0].Key == "" {
			t.Errorf("%v: %v, want %s: …%s…", tc.in, err, tc.field, tc.saying)
		}
	}
	var many []review.TargetInput
	for range 17 {
		many = append(many, target("leads", "1"))
	}
	if _, err := review.ParseTargets(many); err == nil || !strings.Contains(err.Error(), "at most 16") {
		t.Errorf("17 targets: %v", err)
	}
}

// An action item's owner is a user's email or id (a number or a string),
// or the caller; every refusal names the field.
func TestCreateAction(t *testing.T) {
	now := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		me, _ := s.CreateUser(ctx, model.User{Email: "me@x.cn", Role: model.RoleMarketer, CreatedAt: now})
		other, _ := s.CreateUser(ctx, model.User{Email: "other@x.cn", Role: model.RoleSales, CreatedAt: now})
		s.CreateUser(ctx, model.User{Email: "gone@x.cn", Role: model.RoleSales, CreatedAt: now})
		s.CreateUser(ctx, model.User{Email: "look@x.cn", Role: model.RoleViewer, CreatedAt: now})
		if _, err := s.WriterDB().ExecContext(ctx, "UPDATE users SET disabled_at = CURRENT_TIMESTAMP WHERE email = 'gone@x.cn'"); err != nil {
			t.Fatal(err)
		}
		c, err := s.CreateCampaign(ctx, model.Campaign{Code: "web", Name: "直播", Channel: model.ChannelWebinar}, now)
		if err != nil {
			t.Fatal(err)
		}
		svc := review.Service{Store: s, Now: func() time.Time { return now }}
		by := review.Caller{UserID: me, Name: "me@x.cn"}
		for _, tc := range []struct {
			owner string
			want  int64
		}{{"", me}, {"null", me}, {`"OTHER@x.cn"`, other}, {`"` + itoa(other) + `"`, other}, {itoa(other), other}} {
			a, err := svc.CreateAction(ctx, c.ID, review.ActionInput{Action: "跟进", Owner: json.RawMessage(tc.owner), Due: "2026-03-10"}, by)
			if err != nil || a.OwnerID != tc.want || a.CreatedBy != "me@x.cn" || a.Status != model.ActionOpen {
				t.Errorf("owner %s: %+v %v, want owner %d", tc.owner, a, err, tc.want)
			}
		}
		a, err := svc.CreateAction(ctx, c.ID, review.ActionInput{Action: "已完成的", Due: "2026-03-01", Status: "done"}, by)
		if err != nil || a.Status != model.ActionDone || a.ClosedAt == nil {
			t.Errorf("recorded done: %+v %v", a, err)
		}
		bad := []struct {
			in     review.ActionInput
			by     review.Caller
			saying string
		}{
			{review.ActionInput{Due: "2026-03-10"}, by, "action: is required"},
			{review.ActionInput{Action: strings.Repeat("长", 501), Due: "2026-03-10"}, by, "action: at most 500 characters"},
			{review.ActionInput{Action: "x\x07", Due: "2026-03-10"}, by, "action: must not hold control characters"},
			{review.ActionInput{Action: "x"}, by, "due: required"},
			{review.ActionInput{Action: "x", Due: "10/03/2026"}, by, `due: "10/03/2026" is not a day`},
			{review.ActionInput{Action: "x", Due: "2026-03-10", Owner: json.RawMessage(`"nobody@x.cn"`)}, by, `owner: no user "nobody@x.cn"`},
			{review.ActionInput{Action: "x", Due: "2026-03-10", Owner: json.RawMessage(`"gone@x.cn"`)}, by, "owner: user gone@x.cn is disabled"},
			{review.ActionInput{Action: "x", Due: "2026-03-10", Owner: json.RawMessage(`"bob"`)}, by, "neither a user's email nor a user id"},
			{review.ActionInput{Action: "x", Due: "2026-03-10", Owner: json.RawMessage(`"look@x.cn"`)}, by, "owner: user look@x.cn is a viewer"},
			{review.ActionInput{Action: "x", Due: "2026-03-10"}, review.Caller{Name: "api key"}, "owner: name the owner"},
			{review.ActionInput{Action: "x", Due: "2026-03-10", Status: "half"}, by, `status: "half": want open, done or dropped`},
			{review.ActionInput{Action: "x", Due: "2026-03-10", Finding: strings.Repeat("f", 201)}, by, "finding: at most 200"},
		}
		for _, tc := range bad {
			_, err := svc.CreateAction(ctx, c.ID, tc.in, tc.by)
			var ie *review.InvalidError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.saying) {
				t.Errorf("%+v: %v, want …%s…", tc.in, err, tc.saying)
			}
		}
		if _, err := svc.CreateAction(ctx, 999, review.ActionInput{Action: "x", Due: "2026-03-10"}, by); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an unknown campaign: %v", err)
		}
		if _, err := svc.SetActionStatus(ctx, c.ID, a.ID, "finished", by); err == nil || !strings.Contains(err.Error(), "want open, done or dropped") {
			t.Errorf("a bad status: %v", err)
		}
		// A sales user changes the items they own or recorded, not others';
		// a marketer any.
		theirs, err := svc.CreateAction(ctx, c.ID, review.ActionInput{Action: "回访", Owner: json.RawMessage(itoa(other)), Due: "2026-03-10"}, by)
		if err != nil {
			t.Fatal(err)
		}
		sales := review.Caller{UserID: other, Name: "other@x.cn", Role: model.RoleSales}
		if _, err := svc.SetActionStatus(ctx, c.ID, a.ID, "dropped", sales); !errors.Is(err, review.ErrNotYours) {
			t.Errorf("a sales user closed another's item: %v", err)
		}
		if got, err := svc.SetActionStatus(ctx, c.ID, theirs.ID, "done", sales); err != nil || got.Status != model.ActionDone {
			t.Errorf("the owner: %+v %v", got, err)
		}
		if got, err := svc.SetActionStatus(ctx, c.ID, a.ID, " Dropped ", review.Caller{UserID: me, Name: "me@x.cn", Role: model.RoleMarketer}); err != nil || got.Status != model.ActionDropped {
			t.Errorf("dropped: %+v %v", got, err)
		}
		if _, err := svc.SetActionStatus(ctx, c.ID, 99999, "done", by); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an unknown item: %v", err)
		}
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
