package report_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/rollup"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The reviews with their facts kept answer exactly what they answer
// computed afresh: on the first request (computed and kept), on the next
// (read back), and after the facts changed and the roll-ups were
// refreshed (stale, so computed again); RefreshFacts computes again the
// entries read lately.
func TestKeptFactsAnswerAsComputed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		reviewWorld(t, s)
		p := marchOf(t, s)
		live, keep := report.Reporter{Store: s}, report.Reporter{Store: s, KeepFacts: true}
		check := func(stage string) {
			t.Helper()
			for _, q := range []report.PromotionQuery{{Period: p, Model: "linear"}, {Period: p, Model: "first", CampaignID: 1}} {
				want, err := live.Promotion(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 2; i++ {
					got, err := keep.Promotion(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s: promotion %+v, request %d:\n got %+v\nwant %+v", stage, q, i+1, got, want)
					}
				}
			}
			for _, q := range []report.ContentReviewQuery{{Period: p, Model: "linear"}, {Period: p, Model: "position", AssetID: 2}} {
				want, err := live.ContentReview(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 2; i++ {
					got, err := keep.ContentReview(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s: content review %+v, request %d:\n got %+v\nwant %+v", stage, q, i+1, got, want)
					}
				}
			}
			lq := report.LiftQuery{Period: p, FollowDays: 30}
			want, err := live.Lift(ctx, 1, lq)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2; i++ {
				got, err := keep.Lift(ctx, 1, lq)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: lift, request %d:\n got %+v\nwant %+v", stage, i+1, got, want)
				}
			}
		}
		check("first")
		before, err := live.Promotion(ctx, report.PromotionQuery{Period: p, Model: "linear"})
		if err != nil {
			t.Fatal(err)
		}

		// Person 8 (two promoter visits, a download, an MQL) is erased.
		if _, err := s.ErasePerson(ctx, 8, "test", time.Now()); err != nil {
			t.Fatal(err)
		}
		g0, err := s.ReportFactsGeneration(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rollup.Refresh(ctx, s, time.Now()); err != nil {
			t.Fatal(err)
		}
		if g1, err := s.ReportFactsGeneration(ctx); err != nil || g1 != g0+1 {
			t.Fatalf("generation %d after a refresh that changed the roll-ups, was %d (%v)", g1, g0, err)
		}
		if _, err := rollup.Refresh(ctx, s, time.Now()); err != nil {
			t.Fatal(err)
		}
		if g2, _ := s.ReportFactsGeneration(ctx); g2 != g0+1 {
			t.Errorf("generation %d after a refresh that changed nothing, want %d", g2, g0+1)
		}
		stale, err := s.StaleReportFacts(ctx, "promotion", time.Now().Add(-time.Hour), 10)
		if err != nil || len(stale) != 2 {
			t.Errorf("stale promotion entries %q (%v), want 2", stale, err)
		}
		res, err := keep.RefreshFacts(ctx, time.Now().Add(-time.Hour), 10, time.Minute)
		if err != nil || res.Entries != 5 {
			t.Errorf("refreshed %d entries (%v), want 5", res.Entries, err)
		}
		if stale, _ := s.StaleReportFacts(ctx, "promotion", time.Now().Add(-time.Hour), 10); len(stale) != 0 {
			t.Errorf("stale after the refresh: %q", stale)
		}
		check("after the change")
		after, err := keep.Promotion(ctx, report.PromotionQuery{Period: p, Model: "linear"})
		if err != nil {
			t.Fatal(err)
		}
		if after.Total.Visits != before.Total.Visits-2 {
			t.Errorf("visits %d after erasing two, were %d", after.Total.Visits, before.Total.Visits)
		}
	})
}
