package credits_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// loadMergeFixture: two persons of one account that turn out to be one.
//
//	p1: t1 day 0 paid_search · t2 day 2 webinar; contact of o1 (created day 5)
//	p2: t3 day 1 email · t4 day 3 social; mql day 4 (stage change 1)
func loadMergeFixture(t *testing.T, s *store.Store) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table string, cols string, rows ...[]any) error {
			return l.Insert(table, strings.Split(cols, ","), rows)
		}
		for _, e := range []error{
			ins("accounts", "id,name,created_at", []any{int64(1), "甲公司", day0}),
			ins("persons", "id,account_id,stage,first_seen_at,created_at",
				[]any{int64(1), int64(1), "opportunity", at(0, 0), at(0, 0)},
				[]any{int64(2), int64(1), "mql", at(1, 0), at(1, 0)}),
			ins("touchpoints", "id,person_id,occurred_at,type,channel",
				[]any{int64(1), int64(1), at(0, 0), "ad_click", "paid_search"},
				[]any{int64(2), int64(1), at(2, 0), "webinar_attend", "webinar"},
				[]any{int64(3), int64(2), at(1, 0), "email_click", "email"},
				[]any{int64(4), int64(2), at(3, 0), "share_click", "social"}),
			ins("opportunities", "id,account_id,name,stage,amount_fen,created_at",
				[]any{int64(1), int64(1), "甲公司 CDP", "proposal", int64(100000), at(5, 0)}),
			ins("opportunity_contacts", "opportunity_id,person_id,is_primary", []any{int64(1), int64(1), true}),
			ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at", []any{int64(1), int64(2), "lead", "mql", at(4, 0)}),
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
}

// creditedTouches says, for each stored conversion of a kind, which
// touches hold its credits, and whose it is when one person's (mql, sql):
// "conversion 1 of person 1: 1,2".
func creditedTouches(t *testing.T, s *store.Store, kind model.ConversionKind) []string {
	t.Helper()
	convs, rows := snapshot(t, s, kind)
	var out []string
	for _, c := range convs {
		var ids []string
		for _, r := range rows {
			if r.ConversionID == c.ID {
				ids = append(ids, fmt.Sprint(r.TouchID))
			}
		}
		whose := ""
		if c.PersonID != 0 {
			whose = fmt.Sprintf(" of person %d", c.PersonID)
		}
		out = append(out, fmt.Sprintf("conversion %d%s: %s", c.ID, whose, strings.Join(ids, ",")))
	}
	return out
}

// TestMergeAndUndoReachIncrementalCredits: a merge made by hand moves old
// touches (ids below the watermark) and a conversion to the survivor; the
// next incremental run credits the survivor's opportunity on the moved
// touches and leaves no conversion of the merged-away person, and the run
// after an undo puts everything back.
func TestMergeAndUndoReachIncrementalCredits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadMergeFixture(t, s)
		recompute(t, s, credits.Full, now1)
		if st := recompute(t, s, credits.Incremental, now1); st.Conversions != 0 {
			t.Fatalf("nothing changed, yet %d conversions recomputed", st.Conversions)
		}
		apart := map[model.ConversionKind][]string{
			model.ConvOpportunity: {"conversion 1: 1,2"},
			model.ConvMQL:         {"conversion 1 of person 2: 3,4"},
		}
		merged := map[model.ConversionKind][]string{
			model.ConvOpportunity: {"conversion 1: 1,2,3,4"},
			model.ConvMQL:         {"conversion 1 of person 1: 1,2,3,4"},
		}
		check := func(when string, want map[model.ConversionKind][]string) {
			t.Helper()
			for kind, w := range want {
				if got := creditedTouches(t, s, kind); !slices.Equal(got, w) {
					t.Errorf("%s, %s: %q, want %q", when, kind, got, w)
				}
			}
		}
		check("before the merge", apart)

		mid, err := s.MergePersons(ctx, 1, 2, "same person", "tester")
		if err != nil {
			t.Fatal(err)
		}
		recompute(t, s, credits.Incremental, now2)
		check("after the merge", merged)
		for _, kind := range credits.ConversionKinds {
			convs, _ := snapshot(t, s, kind)
			for _, c := range convs {
				if c.PersonID == 2 {
					t.Errorf("after the merge, %s conversion %d is still the merged-away person's", kind, c.ID)
				}
			}
		}
		if st := recompute(t, s, credits.Incremental, now2.Add(time.Hour)); st.Conversions != 0 {
			t.Errorf("the merge was recomputed twice: %+v", st)
		}

		if _, err := s.UndoMerge(ctx, mid); err != nil {
			t.Fatal(err)
		}
		recompute(t, s, credits.Incremental, now2.Add(2*time.Hour))
		check("after the undo", apart)
	})
}
