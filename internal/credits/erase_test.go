package credits_test

import (
	"slices"
	"testing"

	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// TestErasureReachesIncrementalCredits: erasing a person removes the
// credits of their touches and their own conversions at once, and the
// next incremental run recomputes the account's opportunity without them;
// the opportunity itself stays.
func TestErasureReachesIncrementalCredits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadMergeFixture(t, s)
		recompute(t, s, credits.Full, now1)
		if got := creditedTouches(t, s, model.ConvMQL); !slices.Equal(got, []string{"conversion 1 of person 2: 3,4"}) {
			t.Fatalf("before: mql %q", got)
		}
		rc, err := s.ErasePerson(ctx, 2, "admin@x.cn", now2)
		if err != nil {
			t.Fatal(err)
		}
		if rc.Removed["attribution_conversions"] != 1 || rc.Removed["touchpoints"] != 2 || rc.Removed["persons"] != 1 {
			t.Fatalf("receipt %+v", rc)
		}
		if got := creditedTouches(t, s, model.ConvMQL); len(got) != 0 {
			t.Fatalf("after the erasure, mql credits %q", got)
		}
		recompute(t, s, credits.Incremental, now2)
		if got := creditedTouches(t, s, model.ConvOpportunity); !slices.Equal(got, []string{"conversion 1: 1,2"}) {
			t.Fatalf("opportunity after erasing another person: %q", got)
		}

		// Erasing the opportunity's contact: the opportunity stays, its
		// credits go with the contact's touches.
		if _, err := s.ErasePerson(ctx, 1, "admin@x.cn", now2); err != nil {
			t.Fatal(err)
		}
		recompute(t, s, credits.Incremental, now2)
		for _, kind := range credits.ConversionKinds {
			_, rows := snapshot(t, s, kind)
			for _, r := range rows {
				if r.TouchID >= 1 && r.TouchID <= 4 {
					t.Errorf("%s conversion %d still credits erased touch %d", kind, r.ConversionID, r.TouchID)
				}
			}
		}
		if _, err := s.Opportunity(ctx, 1); err != nil {
			t.Fatalf("the opportunity went with its contact: %v", err)
		}
	})
}
