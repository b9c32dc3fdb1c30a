package campaigns_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/campaigns"
	"github.com/revloop/revloop/internal/importer"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func ptr[T any](v T) *T { return &v }

// A campaign created here is the one imports find by its code: a cost
// file naming the code attaches its costs to it, an events file too.
func TestImportsFindCampaignsCreatedHere(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := campaigns.Service{Store: s, Now: time.Now}
		c, err := svc.Create(ctx, campaigns.Input{Name: ptr("百度品牌词 2026"), Code: ptr("BD-Brand-2026"), Channel: ptr("paid_search"),
			Platform: ptr("baidu"), Kind: ptr("search_ads"), Budget: ptr(model.Yuan(50000))})
		if err != nil {
			t.Fatal(err)
		}
		file := []byte("date,platform,account,campaign,ad_group,keyword,impressions,clicks,cost\n" +
			"2026-03-01,baidu,bj,bd-brand-2026,品牌,revloop,1000,50,123.45\n" +
			"2026-03-02,baidu,bj,BD-Brand-2026,品牌,revloop,900,40,100.00\n")
		im := &importer.Importer{Store: s}
		if _, err := im.Costs(ctx, "costs.csv", file); err != nil {
			t.Fatal(err)
		}
		var n int
		var cost int64
		if err := s.WriterDB().QueryRowContext(ctx, "SELECT COUNT(*), SUM(cost_fen) FROM daily_costs WHERE campaign_id = "+strconv.FormatInt(c.ID, 10)).Scan(&n, &cost); err != nil {
			t.Fatal(err)
		}
		if n != 2 || cost != 22345 {
			t.Errorf("the import attached %d rows, %d fen to the campaign", n, cost)
		}
		var all int
		if err := s.WriterDB().QueryRowContext(ctx, "SELECT COUNT(*) FROM campaigns").Scan(&all); err != nil || all != 1 {
			t.Errorf("the import created campaigns: %d %v", all, err)
		}
		found, err := s.FindImportCampaign(ctx, "bd-brand-2026")
		if err != nil || found.ID != c.ID {
			t.Errorf("events import finds %+v, %v", found, err)
		}
	})
}

func TestRules(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := campaigns.Service{Store: s, Now: time.Now}
		a, err := svc.Create(ctx, campaigns.Input{Name: ptr("全员营销·春季"), Channel: ptr("employee_sharing"), Kind: ptr("employee_sharing"), StartDate: ptr("2026-03-01")})
		if err != nil {
			t.Fatal(err)
		}
		if a.Code != "employee-sharing-202603" {
			t.Errorf("suggested code %q", a.Code)
		}
		b, err := svc.Create(ctx, campaigns.Input{Name: ptr("全员营销·春季"), Channel: ptr("employee_sharing"), Kind: ptr("employee_sharing"), StartDate: ptr("2026-03-01")})
		if err != nil || b.Code != "employee-sharing-202603-2" {
			t.Errorf("second suggestion %q %v", b.Code, err)
		}
		// b inside a, then a inside b: a cycle.
		if _, _, err := svc.Update(ctx, b.ID, campaigns.Input{ParentID: ptr(a.ID)}); err != nil {
			t.Fatal(err)
		}
		_, _, err = svc.Update(ctx, a.ID, campaigns.Input{ParentID: ptr(b.ID)})
		var ie *campaigns.InvalidError
		if !errors.As(err, &ie) || !ie.Has("parent_id") {
			t.Errorf("cycle: %v", err)
		}
		_, _, err = svc.Update(ctx, a.ID, campaigns.Input{ParentID: ptr(a.ID)})
		if !errors.As(err, &ie) || !ie.Has("parent_id") {
			t.Errorf("self parent: %v", err)
		}
		// Concurrent edits of one version: one wins, the other is stale.
		cur, _ := s.CampaignByID(ctx, a.ID)
		v := cur.Version
		results := make(chan error, 2)
		for _, name := range []string{"甲", "乙"} {
			go func() {
				_, _, err := svc.Update(ctx, a.ID, campaigns.Input{Name: ptr(name), Version: &v})
				results <- err
			}()
		}
		e1, e2 := <-results, <-results
		if (e1 == nil) == (e2 == nil) || !(errors.Is(e1, campaigns.ErrStale) || errors.Is(e2, campaigns.ErrStale)) {
			t.Errorf("concurrent edits: %v, %v", e1, e2)
		}
		after, _ := s.CampaignByID(ctx, a.ID)
		if after.Version != v+1 || (after.Name != "甲" && after.Name != "乙") {
			t.Errorf("after the race: %+v", after)
		}
	})
}
