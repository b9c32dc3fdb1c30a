package store_test

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

var pt0 = time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)

func pp(id int64, p float64) store.PersonProbability {
	return store.PersonProbability{PersonID: id, Probability: p}
}

func pday(n float64) time.Time { return pt0.Add(time.Duration(n * float64(24*time.Hour))) }

// loadLeadFixture: person 1 is a lead at a tier A retail account with
// stage changes and touches around its lead time; person 2 was merged into
// 1; person 3 never became a lead; person 4 is a lead without account.
func loadLeadFixture(t *testing.T, s *store.Store) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) error { return l.Insert(table, strings.Split(cols, ","), rows) }
		for _, e := range []error{
			ins("accounts", "id,name,industry,size_band,employees,region,tier,created_at",
				[]any{int64(1), "甲", "retail", "100-499", int64(200), "east", "A", pt0}),
			ins("persons", "id,account_id,title,email,stage,first_seen_at,first_touch_channel,lead_at,created_at",
				[]any{int64(1), int64(1), "市场总监", "li@jia.cn", "opportunity", pday(-3), "webinar", pt0, pday(-3)},
				[]any{int64(2), int64(1), "", "", "lead", pday(-3), "direct", pday(1), pday(-3)},
				[]any{int64(3), nil, "", "", "visitor", pday(-3), "paid_search", nil, pday(-3)},
				[]any{int64(4), nil, "Engineer", "x@qq.com", "lead", pday(-3), "", pday(2), pday(-3)}),
			ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at",
				[]any{int64(1), int64(1), "visitor", "lead", pt0},
				[]any{int64(2), int64(1), "lead", "mql", pday(3)},
				[]any{int64(3), int64(1), "lead", "mql", pday(2)},
				[]any{int64(4), int64(1), "mql", "sql", pday(5)},
				[]any{int64(5), int64(1), "sql", "opportunity", pday(4)},
				[]any{int64(6), int64(2), "lead", "sql", pday(1.5)}),
			ins("touchpoints", "id,person_id,occurred_at,type,channel,url",
				[]any{int64(1), int64(1), pday(-0.5), "page_view", "direct", "https://x.cn/"},
				[]any{int64(2), int64(1), pt0, "webinar_register", "webinar", "https://x.cn/webinar"},
				[]any{int64(3), int64(1), pday(1), "page_view", "direct", "https://x.cn/pricing"},
				[]any{int64(4), int64(1), pday(2), "email_open", "email", "https://x.cn/mail"},
				[]any{int64(5), int64(1), pday(13.9), "form_submit", "direct", "https://x.cn/demo"},
				[]any{int64(6), int64(1), pday(14), "badge_scan", "offline_event", ""},
				[]any{int64(7), int64(2), pday(1.2), "page_view", "direct", ""},
				[]any{int64(8), int64(3), pday(1), "page_view", "direct", ""}),
		} {
			if e != nil {
				return e
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ExecForTest(ctx, "UPDATE persons SET merged_into_id = 1 WHERE id = 2"); err != nil {
		t.Fatal(err)
	}
}

func TestLeadHistories(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadLeadFixture(t, s)
		hs, err := s.LeadHistories(ctx, 14*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		mql, outcome := pday(2), pday(4)
		want := []store.LeadHistory{
			{PersonID: 1, LeadAt: pt0, MQLAt: &mql, OutcomeAt: &outcome, Title: "市场总监", Email: "li@jia.cn",
				FirstTouchChannel: "webinar", Industry: "retail", SizeBand: "100-499", Employees: 200, Tier: "A", Region: "east",
				Touches: []store.LeadTouch{
					{At: pt0, Type: "webinar_register", Channel: "webinar"},
					{At: pday(1), Type: "page_view", Channel: "direct", URL: "https://x.cn/pricing"},
					{At: pday(2), Type: "email_open", Channel: "email"},
					{At: pday(13.9), Type: "form_submit", Channel: "direct", URL: "https://x.cn/demo"},
				}},
			{PersonID: 4, LeadAt: pday(2), Title: "Engineer", Email: "x@qq.com"},
		}
		if len(hs) == 2 {
			// Touches come in no particular order.
			slices.SortFunc(hs[0].Touches, func(a, b store.LeadTouch) int { return a.At.Compare(b.At) })
		}
		if !reflect.DeepEqual(hs, want) {
			t.Fatalf("lead histories\n%+v\nwant\n%+v", hs, want)
		}
		one, err := s.LeadHistoryOf(ctx, 4, time.Hour)
		if err != nil || !reflect.DeepEqual(one, want[1]) {
			t.Fatalf("LeadHistoryOf(4) = %+v, %v", one, err)
		}
		for _, id := range []int64{2, 3, 99} {
			if _, err := s.LeadHistoryOf(ctx, id, time.Hour); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("LeadHistoryOf(%d): %v, want not found", id, err)
			}
		}
	})
}

func TestSavePredictionModel(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadLeadFixture(t, s)
		if _, err := s.LatestPredictionModel(ctx); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("before any run: %v", err)
		}
		first := model.PredictionModel{TrainedAt: pday(100), Status: model.PredictionInsufficientData,
			Message: "only 2 leads", Examples: 2}
		id1, err := s.SavePredictionModel(ctx, first, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.LatestPredictionModel(ctx)
		first.ID, first.Calibration, first.Model = id1, "[]", "{}"
		if err != nil || !reflect.DeepEqual(got, first) {
			t.Fatalf("latest = %+v, %v\nwant %+v", got, err, first)
		}
		if _, err := s.LatestReadyPredictionModel(ctx); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no ready model yet: %v", err)
		}

		auc, brier := 0.8125, 0.0943
		ready := model.PredictionModel{TrainedAt: pday(101).Add(1234567 * time.Nanosecond), Status: model.PredictionReady,
			Message: "trained", Examples: 300, Positives: 40, TestExamples: 75, TestPositives: 9, AUC: &auc, Brier: &brier,
			Calibration: `[{"lower":0,"upper":0.1,"count":3}]`, Model: `{"format":1}`, Duration: 2500 * time.Millisecond}
		id2, err := s.SavePredictionModel(ctx, ready, []store.PersonProbability{pp(1, 0.25), pp(2, 0.5), pp(4, 0.75)})
		if err != nil {
			t.Fatal(err)
		}
		ready.ID, ready.Scored, ready.TrainedAt = id2, 3, ready.TrainedAt.Truncate(time.Microsecond)
		for _, read := range []func() (model.PredictionModel, error){
			func() (model.PredictionModel, error) { return s.LatestPredictionModel(ctx) },
			func() (model.PredictionModel, error) { return s.LatestReadyPredictionModel(ctx) },
		} {
			got, err := read()
			if err != nil || !reflect.DeepEqual(got, ready) {
				t.Fatalf("read back %+v, %v\nwant %+v", got, err, ready)
			}
		}
		probs := map[int64]*float64{}
		for _, id := range []int64{1, 2, 3, 4} {
			d, err := s.PersonDetail(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			probs[id] = d.PredictedProbability
			if (d.PredictedAt != nil) != (d.PredictedProbability != nil) || (d.PredictedAt != nil && !d.PredictedAt.Equal(ready.TrainedAt)) {
				t.Errorf("person %d predicted at %v", id, d.PredictedAt)
			}
		}
		if probs[1] == nil || *probs[1] != 0.25 || probs[4] == nil || *probs[4] != 0.75 || probs[2] != nil || probs[3] != nil {
			t.Fatalf("probabilities 1:%v 2 (merged):%v 3:%v 4:%v", probs[1], probs[2], probs[3], probs[4])
		}

		// Bad runs are refused whole: nothing recorded, nothing written.
		bad := []struct {
			m     model.PredictionModel
			probs []store.PersonProbability
			want  string
		}{
			{model.PredictionModel{TrainedAt: pday(102), Status: "done"}, nil, `status "done"`},
			{model.PredictionModel{TrainedAt: pday(102), Status: model.PredictionInsufficientData}, []store.PersonProbability{pp(1, 0.1)}, "cannot score"},
			{model.PredictionModel{TrainedAt: pday(102), Status: model.PredictionReady}, []store.PersonProbability{pp(1, 0.1), pp(4, math.NaN())}, "person 4 is NaN"},
			{model.PredictionModel{TrainedAt: pday(102), Status: model.PredictionReady}, []store.PersonProbability{pp(1, 1.5)}, "from 0 to 1"},
		}
		for _, b := range bad {
			if _, err := s.SavePredictionModel(ctx, b.m, b.probs); err == nil || !strings.Contains(err.Error(), b.want) {
				t.Errorf("SavePredictionModel(%+v) = %v, want %q", b.m, err, b.want)
			}
		}
		if got, _ := s.LatestPredictionModel(ctx); got.ID != id2 {
			t.Fatalf("a refused run was recorded: %+v", got)
		}
		if d, _ := s.PersonDetail(ctx, 1); *d.PredictedProbability != 0.25 {
			t.Fatalf("a refused run wrote a probability: %v", *d.PredictedProbability)
		}
	})
}

func TestSavePredictionModelInBatches(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		const n = 901 // three batches, the last of one
		var rows [][]any
		var probs []store.PersonProbability
		for i := int64(1); i <= n; i++ {
			rows = append(rows, []any{i, "lead", pt0, pt0, pt0})
			probs = append(probs, store.PersonProbability{PersonID: i, Probability: float64(i) / 1000})
		}
		if err := s.Load(ctx, func(l store.Loader) error {
			return l.Insert("persons", []string{"id", "stage", "first_seen_at", "lead_at", "created_at"}, rows)
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SavePredictionModel(ctx, model.PredictionModel{TrainedAt: pt0, Status: model.PredictionReady}, probs); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{1, 400, 401, 800, 801, 901} {
			d, err := s.PersonDetail(ctx, id)
			if err != nil || d.PredictedProbability == nil || *d.PredictedProbability != float64(id)/1000 {
				t.Errorf("person %d: %v, %v", id, d.PredictedProbability, err)
			}
		}
		if m, _ := s.LatestPredictionModel(ctx); m.Scored != n {
			t.Errorf("scored %d", m.Scored)
		}
	})
}
