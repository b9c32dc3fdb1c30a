package process_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// storedTraits reads persons.traits of the person a user id points at,
// as stored.
func storedTraits(t *testing.T, s *store.Store, user string) map[string]any {
	t.Helper()
	p := person(t, s, model.IdentityUserID, user)
	var raw string
	if err := s.WriterDB().QueryRowContext(ctx, fmt.Sprintf("SELECT traits FROM persons WHERE id = %d", p.ID)).Scan(&raw); err != nil {
		t.Fatalf("traits of %s: %v", user, err)
	}
	m := map[string]any{}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("traits of %s are not a JSON object: %q: %v", user, raw, err)
	}
	return m
}

// replay processes every event again, as after a change of rules.
func replay(t *testing.T, s *store.Store) {
	t.Helper()
	if _, err := s.ReplayEvents(ctx, 0, 0); err != nil {
		t.Fatalf("replay: %v", err)
	}
	processAll(t, s)
}

// batchModes run a scenario's messages as one batch, and as one batch per
// message (so that what a batch merges with was read back from the table).
var batchModes = []struct {
	name    string
	perStep bool
}{{"one batch", false}, {"batch per message", true}}

func TestIdentifyTraitsStoredOnPerson(t *testing.T) {
	// A step sends one message, min minutes after t0.
	type step func(f *feed, min int)
	identify := func(user, traits string) step {
		return func(f *feed, min int) { f.identify("", user, min, traits) }
	}
	cases := []struct {
		name  string
		steps []step
		want  map[string]any
		// The fields user u1 must hold; wantAccount is its account's name
		// ("" for none).
		wantName, wantTitle, wantEmail, wantAccount string
	}{
		{
			name: "custom scalars stored, reserved traits go to fields",
			steps: []step{identify("u1", `{"industry":"software","employees":250,"plan":"enterprise","Lead Source":"webinar",
				"vip":true,"nested":{"a":1},"tags":["x","y"],"email":"Li.Lei@Acme-Data.cn","name":"李雷","firstName":"雷",
				"title":"CTO","company":"Acme","phone":"13812345679","crm_id":"c-1"}`)},
			want:     map[string]any{"industry": "software", "employees": 250.0, "plan": "enterprise", "Lead Source": "webinar", "vip": true},
			wantName: "李雷", wantTitle: "CTO", wantEmail: "li.lei@acme-data.cn", wantAccount: "Acme",
		},
		{
			name: "a later identify replaces, removes and adds keys and keeps the rest",
			steps: []step{
				identify("u1", `{"industry":"software","plan":"enterprise","Lead Source":"webinar","employees":250}`),
				identify("u1", `{"plan":"growth","Lead Source":null,"region":"east"}`),
			},
			want: map[string]any{"industry": "software", "employees": 250.0, "plan": "growth", "region": "east"},
		},
		{
			name: "track properties and context traits never become traits",
			steps: []step{
				identify("u1", `{"plan":"enterprise"}`),
				func(f *feed, min int) {
					f.track("", "u1", "Form Submitted", min, `{"budget":"1m","plan":"free","email":"li@qq.com"}`)
				},
				func(f *feed, min int) {
					f.send(model.Event{Type: model.EventIdentify, UserID: "u1"}, min,
						`{"traits":{"region":"north"},"context":{"traits":{"channel_hint":"ads","plan":"free"}}}`)
				},
				func(f *feed, min int) {
					f.send(model.Event{Type: model.EventPage, UserID: "u1", URL: "https://www.revloop.cn/"}, min,
						`{"properties":{"path":"/"},"context":{"traits":{"plan":"free"}}}`)
				},
			},
			want:      map[string]any{"plan": "enterprise", "region": "north"},
			wantEmail: "li@qq.com",
		},
		{
			name:  "null for a trait never stored leaves nothing",
			steps: []step{identify("u1", `{"plan":null,"note":""}`)},
			want:  map[string]any{"note": ""},
		},
	}
	for _, mode := range batchModes {
		for _, c := range cases {
			t.Run(mode.name+"/"+c.name, func(t *testing.T) {
				storetest.Run(t, func(t *testing.T, s *store.Store) {
					f := newFeed(t, s)
					for i, st := range c.steps {
						st(f, i)
						if mode.perStep {
							processAll(t, s)
						}
					}
					processAll(t, s)
					if got := storedTraits(t, s, "u1"); !reflect.DeepEqual(got, c.want) {
						t.Fatalf("traits %v, want %v", got, c.want)
					}
					replay(t, s)
					if got := storedTraits(t, s, "u1"); !reflect.DeepEqual(got, c.want) {
						t.Fatalf("after a replay: traits %v, want %v", got, c.want)
					}
					p := person(t, s, model.IdentityUserID, "u1")
					if p.Name != c.wantName || p.Title != c.wantTitle || p.Email != c.wantEmail {
						t.Fatalf("fields name %q title %q email %q, want %q %q %q", p.Name, p.Title, p.Email, c.wantName, c.wantTitle, c.wantEmail)
					}
					got := ""
					if p.Account != nil {
						got = p.Account.Name
					}
					if got != c.wantAccount {
						t.Fatalf("account %q, want %q", got, c.wantAccount)
					}
				})
			})
		}
	}
}

func TestIdentifyTraitBounds(t *testing.T) {
	many := map[string]any{"email": "a@acme-data.cn", "name": "A"}
	for i := range 150 {
		many[fmt.Sprintf("k%03d", i)] = i
	}
	manyJSON, _ := json.Marshal(many)
	long := strings.Repeat("数据", 834) // 5,004 bytes; 1,000 falls inside a character
	cases := []struct {
		name   string
		traits string
		check  func(t *testing.T, got map[string]any)
	}{
		{"at most 100 keys per message", string(manyJSON), func(t *testing.T, got map[string]any) {
			if len(got) != 100 {
				t.Fatalf("%d traits stored, want 100", len(got))
			}
			for k := range got {
				if !strings.HasPrefix(k, "k") {
					t.Fatalf("reserved trait %q stored", k)
				}
			}
		}},
		{"a long string is clipped on a character boundary", fmt.Sprintf(`{"about":%q,"short":"中文"}`, long), func(t *testing.T, got map[string]any) {
			s, _ := got["about"].(string)
			if len(s) > 1000 || len(s) < 997 || !utf8.ValidString(s) || !strings.HasPrefix(long, s) {
				t.Fatalf("clipped to %d bytes (valid UTF-8 %v, prefix %v)", len(s), utf8.ValidString(s), strings.HasPrefix(long, s))
			}
			if got["short"] != "中文" {
				t.Fatalf("short trait %v", got["short"])
			}
		}},
		{"keys longer than 64 bytes are not kept", fmt.Sprintf(`{%q:1,%q:2}`, strings.Repeat("k", 64), strings.Repeat("k", 65)), func(t *testing.T, got map[string]any) {
			want := map[string]any{strings.Repeat("k", 64): 1.0}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("traits %v, want %v", got, want)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, s *store.Store) {
				f := newFeed(t, s)
				f.identify("", "u1", 0, c.traits)
				processAll(t, s)
				c.check(t, storedTraits(t, s, "u1"))
			})
		})
	}
}

// account is an account's row as the company traits leave it.
type account struct {
	ID        int64
	Name      string
	Domain    string
	GroupID   string
	Industry  string
	Employees int64
	Plan      string
}

func accountOf(t *testing.T, s *store.Store, user string) account {
	t.Helper()
	p := person(t, s, model.IdentityUserID, user)
	if p.AccountID == 0 {
		t.Fatalf("%s has no account", user)
	}
	a := account{ID: p.AccountID}
	if err := s.WriterDB().QueryRowContext(ctx, fmt.Sprintf("SELECT name, domain, group_id, industry, employees, plan FROM accounts WHERE id = %d", p.AccountID)).
		Scan(&a.Name, &a.Domain, &a.GroupID, &a.Industry, &a.Employees, &a.Plan); err != nil {
		t.Fatalf("account of %s: %v", user, err)
	}
	return a
}

// companyCase is identify messages and the accounts they must leave.
type companyCase struct {
	name     string
	msgs     []companyMsg
	want     map[string]account // by user id; ID is not compared
	same     [][]string         // pairs of users that share one account
	differ   [][]string         // pairs of users in different accounts
	accounts int64              // how many accounts there are
}

type companyMsg struct{ user, traits string }

func TestCompanyTraitPlacesPerson(t *testing.T) {
	type msg = companyMsg
	cases := []companyCase{
		{
			name:     "an id is a group id",
			msgs:     []msg{{"c1", `{"email":"wang@yunqi.cn","company":{"id":"g-1","name":"云启数据","industry":"software","employee_count":250,"plan":"pro"}}`}},
			want:     map[string]account{"c1": {Name: "云启数据", Domain: "yunqi.cn", GroupID: "g-1", Industry: "software", Employees: 250, Plan: "pro"}},
			accounts: 1,
		},
		{
			name: "the latest plan wins; a message without one keeps it",
			msgs: []msg{
				{"c1", `{"email":"wang@yunqi.cn","company":{"id":"g-1","name":"云启数据","plan":"free"}}`},
				{"c1", `{"company":{"id":"g-1","plan":"enterprise"}}`},
				{"c2", `{"email":"zhou@yunqi.cn","company":{"id":"g-1","name":"云启数据"}}`},
			},
			want:     map[string]account{"c1": {Name: "云启数据", Domain: "yunqi.cn", GroupID: "g-1", Plan: "enterprise"}},
			same:     [][]string{{"c1", "c2"}},
			accounts: 1,
		},
		{
			name: "the same group id again finds the account",
			msgs: []msg{
				{"c1", `{"company":{"id":"g-1","name":"云启数据","industry":"software","employee_count":250}}`},
				{"c2", `{"email":"li@163.com","company":{"id":"g-1","industry":"retail","employee_count":9}}`},
			},
			want: map[string]account{"c2": {Name: "云启数据", GroupID: "g-1", Industry: "software", Employees: 250}},
			same: [][]string{{"c1", "c2"}}, accounts: 1,
		},
		{
			name: "no id: the company's website, not a free-mail email",
			msgs: []msg{
				{"c2", `{"email":"zhang@gmail.com","company":{"name":"Acme","website":"https://www.acme.cn"}}`},
				{"c3", `{"email":"zhao@qq.com","company":{"name":"Acme China","domain":"ACME.cn"}}`},
			},
			want: map[string]account{"c2": {Name: "Acme", Domain: "acme.cn"}},
			same: [][]string{{"c2", "c3"}}, accounts: 1,
		},
		{
			name: "no id and no website: the business email's domain",
			msgs: []msg{
				{"c2", `{"email":"zhang@beta.cn","company":{"name":"Beta","industry":"education"}}`},
				{"c3", `{"email":"zhao@beta.cn"}`},
			},
			want: map[string]account{"c2": {Name: "Beta", Domain: "beta.cn", Industry: "education"}},
			same: [][]string{{"c2", "c3"}}, accounts: 1,
		},
		{
			name: "a placed person stays; the account's empty fields are filled, set ones kept",
			msgs: []msg{
				{"c4", `{"email":"li@delta.cn"}`},
				{"c4", `{"company":{"name":"Other","website":"other.cn","industry":"manufacturing","employee_count":"40"}}`},
				{"c5", `{"email":"x@delta.cn","company":{"industry":"retail","employee_count":500}}`},
			},
			want:     map[string]account{"c4": {Name: "delta.cn", Domain: "delta.cn", Industry: "manufacturing", Employees: 40}},
			same:     [][]string{{"c4", "c5"}},
			accounts: 1,
		},
		{
			name: "an id moves a placed person to the group's account",
			msgs: []msg{
				{"c4", `{"email":"li@delta.cn"}`},
				{"c5", `{"email":"x@delta.cn"}`},
				{"c4", `{"company":{"id":"g-2","name":"Delta Holdings"}}`},
			},
			// The message brings no email: the new account has no domain
			// (delta.cn stays the old account's).
			want:   map[string]account{"c4": {Name: "Delta Holdings", GroupID: "g-2"}},
			differ: [][]string{{"c4", "c5"}}, accounts: 2,
		},
		{
			name:     "a free-mail person without id or website stays without account",
			msgs:     []msg{{"c6", `{"email":"w@gmail.com","company":{"industry":"software"}}`}},
			accounts: 0,
		},
	}
	for _, mode := range batchModes {
		for _, c := range cases {
			t.Run(mode.name+"/"+c.name, func(t *testing.T) {
				storetest.Run(t, func(t *testing.T, s *store.Store) {
					f := newFeed(t, s)
					for i, m := range c.msgs {
						f.identify("", m.user, i, m.traits)
						if mode.perStep {
							processAll(t, s)
						}
					}
					processAll(t, s)
					c.check(t, s)
					replay(t, s)
					c.check(t, s)
				})
			})
		}
	}
}

// check is one case of TestCompanyTraitPlacesPerson.
func (c companyCase) check(t *testing.T, s *store.Store) {
	t.Helper()
	for user, want := range c.want {
		got := accountOf(t, s, user)
		got.ID = 0
		if got != want {
			t.Fatalf("%s: account %+v, want %+v", user, got, want)
		}
	}
	for _, users := range c.same {
		if a, b := accountOf(t, s, users[0]), accountOf(t, s, users[1]); a.ID != b.ID {
			t.Fatalf("%s in account %d, %s in %d; want one account", users[0], a.ID, users[1], b.ID)
		}
	}
	for _, users := range c.differ {
		if a, b := accountOf(t, s, users[0]), accountOf(t, s, users[1]); a.ID == b.ID {
			t.Fatalf("%s and %s both in account %d", users[0], users[1], a.ID)
		}
	}
	if n := count(t, s, "SELECT COUNT(*) FROM accounts"); n != c.accounts {
		t.Fatalf("%d accounts, want %d", n, c.accounts)
	}
}

func TestFirstTouchAcrossBatches(t *testing.T) {
	const (
		paid    = "https://www.revloop.cn/?utm_source=baidu&utm_medium=cpc"
		mail    = "https://www.revloop.cn/?utm_source=newsletter&utm_medium=email"
		organic = "https://www.revloop.cn/"
		baidu   = "https://www.baidu.com/s?wd=revloop"
	)
	type touch struct {
		url, ref string
		min      int
	}
	type batch struct {
		touches     []touch
		wantChannel model.Channel
		wantAt      int // minutes after t0
	}
	cases := []struct {
		name string
		// identifyAt is when the person identifies (in the first batch).
		identifyAt int
		batches    []batch
	}{
		{
			name: "an earlier touch in a later batch moves the first touch; a later one never does", identifyAt: 31,
			batches: []batch{
				{[]touch{{paid, "", 30}}, model.ChannelPaidSearch, 30},
				{[]touch{{mail, "", 60}, {organic, baidu, 10}}, model.ChannelOrganicSearch, 10},
				{[]touch{{paid, "", 90}}, model.ChannelOrganicSearch, 10},
			},
		},
		{
			name: "a tie keeps the older touchpoint", identifyAt: 31,
			batches: []batch{
				{[]touch{{paid, "", 30}}, model.ChannelPaidSearch, 30},
				{[]touch{{mail, "", 30}}, model.ChannelPaidSearch, 30},
				{[]touch{{organic, baidu, 20}, {mail, "", 20}}, model.ChannelOrganicSearch, 20},
			},
		},
		{
			name: "a person known before any touch gets one earlier than first seen", identifyAt: 50,
			batches: []batch{
				{nil, "", 50},
				{[]touch{{mail, "", 70}}, model.ChannelEmail, 50},
				{[]touch{{paid, "", 40}}, model.ChannelPaidSearch, 40},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, s *store.Store) {
				f := newFeed(t, s)
				check := func(after string, b batch) {
					t.Helper()
					p := person(t, s, model.IdentityUserID, "u1")
					wantAt := t0.Add(time.Duration(b.wantAt) * time.Minute)
					if p.FirstTouchChannel != b.wantChannel || !p.FirstSeenAt.Equal(wantAt) {
						t.Fatalf("after %s: first touch %q at %s, want %q at %s", after, p.FirstTouchChannel, p.FirstSeenAt, b.wantChannel, wantAt)
					}
				}
				for i, b := range c.batches {
					if i == 0 {
						f.identify("a1", "u1", c.identifyAt, `{"email":"li@acme-data.cn"}`)
					}
					for _, tc := range b.touches {
						f.page("a1", "", tc.url, tc.ref, tc.min)
					}
					processAll(t, s)
					check(fmt.Sprintf("batch %d", i+1), b)
				}
				// A replay reads the first touch back from the touchpoints.
				replay(t, s)
				check("a replay", c.batches[len(c.batches)-1])
			})
		})
	}
}
