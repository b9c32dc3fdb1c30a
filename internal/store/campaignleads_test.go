package store_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report/reviewtest"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// CampaignLeads gives the same leads whether it reads them from the
// campaigns' members (a few campaigns) or from the window's leads (many):
// the review world's March webinar (4 leads), the whitepaper (1), both,
// and every campaign over the first quarter.
func TestCampaignLeadsEitherWay(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		reviewtest.Load(t, s)
		march := model.Window{From: time.Date(2026, 2, 28, 16, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 31, 16, 0, 0, 0, time.UTC)}
		q1 := model.Window{From: time.Date(2025, 12, 31, 16, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 31, 16, 0, 0, 0, time.UTC)}
		all := []int64{reviewtest.Webinar, reviewtest.OldJan, reviewtest.OldFeb, reviewtest.Programme, reviewtest.Paper}
		for _, tc := range []struct {
			ids   []int64
			w     model.Window
			leads int
		}{{[]int64{reviewtest.Webinar}, march, 4}, {[]int64{reviewtest.Paper}, march, 1}, {[]int64{reviewtest.Webinar, reviewtest.Paper}, march, 5}, {all, q1, -1}} {
			members, err := s.CampaignLeadsReadFor(ctx, tc.ids, tc.w, 100)
			if err != nil {
				t.Fatal(err)
			}
			leads, err := s.CampaignLeadsReadFor(ctx, tc.ids, tc.w, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(members, leads) || (tc.leads >= 0 && len(leads) != tc.leads) || len(leads) == 0 {
				t.Errorf("%v: from the members %+v\nfrom the leads %+v", tc.ids, members, leads)
			}
		}
	})
}
