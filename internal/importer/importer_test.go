package importer

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// costState is what a cost import leaves behind, to compare before and after.
type costState struct {
	rows, campaigns, adGroups, keywords int
	cost                                int64
}

func readCostState(t *testing.T, s *store.Store) costState {
	t.Helper()
	db := rawDB(t, s)
	var st costState
	for _, q := range []struct {
		sql string
		dst any
	}{
		{"SELECT COUNT(*) FROM daily_costs", &st.rows}, {"SELECT COUNT(*) FROM campaigns", &st.campaigns},
		{"SELECT COUNT(*) FROM ad_groups", &st.adGroups}, {"SELECT COUNT(*) FROM keywords", &st.keywords},
		{"SELECT COALESCE(SUM(cost_fen), 0) FROM daily_costs", &st.cost},
	} {
		if err := db.QueryRow(q.sql).Scan(q.dst); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func TestImportCosts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		im := &Importer{Store: s, CreateCampaigns: true}
		files := []struct {
			name          string
			rows, skipped int
			cost          int64
		}{
			{"baidu_keywords_gbk.csv", 5, 1, 156451}, {"oceanengine.csv", 3, 1, 411103}, {"tencent_ads.csv", 3, 1, 230175},
			{"google_ads.csv", 4, 2, 190876}, {"linkedin_ads.csv", 3, 0, 555125}, {"generic.csv", 3, 0, 42840},
		}
		var total int64
		for _, f := range files {
			res, err := im.Costs(ctx, f.name, readTestdata(t, f.name))
			if err != nil {
				t.Fatalf("%s: %v", f.name, err)
			}
			if res.AlreadyImported || res.RowsNew != f.rows || res.RowsSkipped != f.skipped || res.RowsSame != 0 || res.ID == 0 {
				t.Errorf("%s: %+v", f.name, res)
			}
			total += f.cost
		}
		st := readCostState(t, s)
		if st.cost != total || st.rows != 21 {
			t.Errorf("stored %d rows, %d fen; want 21, %d", st.rows, st.cost, total)
		}
		db := rawDB(t, s)
		var channel, account, code string
		if err := db.QueryRow("SELECT channel, ad_account, code FROM campaigns WHERE platform = 'baidu' AND name = '品牌词'").Scan(&channel, &account, &code); err != nil {
			t.Fatal(err)
		}
		if channel != string(model.ChannelPaidSearch) || account != "revloop-北京" || !strings.HasPrefix(code, "baidu-") {
			t.Errorf("baidu campaign: channel %s account %s code %s", channel, account, code)
		}
		if err := db.QueryRow("SELECT channel FROM campaigns WHERE platform = 'linkedin_ads'").Scan(&channel); err != nil || channel != string(model.ChannelPaidSocial) {
			t.Errorf("linkedin channel %s, %v", channel, err)
		}
		var kwCost int64
		if err := db.QueryRow(`SELECT d.cost_fen FROM daily_costs d JOIN keywords k ON k.id = d.keyword_id JOIN ad_groups g ON g.id = d.ad_group_id
			WHERE k.text = 'revloop attribution' AND g.name = 'Brand - Exact' AND k.ad_group_id = g.id`).Scan(&kwCost); err != nil || kwCost != 4814 {
			t.Errorf("keyword cost %d, %v (want 48.135 rounded half-even to 4814 fen)", kwCost, err)
		}

		// The same file again: nothing changes, and the answer says so.
		again, err := im.Costs(ctx, "again.csv", readTestdata(t, "baidu_keywords_gbk.csv"))
		if err != nil || !again.AlreadyImported || again.FileName != "baidu_keywords_gbk.csv" {
			t.Errorf("re-import: %+v, %v", again, err)
		}
		// The same rows in other bytes (UTF-16 TSV of the Google report):
		// a new import whose rows are all unchanged.
		same, err := im.Costs(ctx, "google_ads_utf16.tsv", readTestdata(t, "google_ads_utf16.tsv"))
		if err != nil || same.AlreadyImported || same.RowsSame != 4 || same.RowsNew != 0 || same.RowsUpdated != 0 {
			t.Errorf("same rows, other file: %+v, %v", same, err)
		}
		if got := readCostState(t, s); got != st {
			t.Errorf("state changed by re-imports: %+v → %+v", st, got)
		}
		// A corrected report replaces the day's figures rather than adding.
		fixed, err := im.Costs(ctx, "fixed.csv", []byte("date,platform,account,campaign,ad_group,keyword,impressions,clicks,cost\n2024-05-01,sogou,sogou-main,搜狗品牌词,品牌,revloop,500,20,90.00\n"))
		if err != nil || fixed.RowsUpdated != 1 {
			t.Fatalf("correction: %+v, %v", fixed, err)
		}
		if got := readCostState(t, s); got.cost != st.cost+1000 || got.rows != st.rows {
			t.Errorf("after correction %+v, want cost +1000 fen and the same rows", got)
		}
	})
}

func TestImportCostsAllOrNothing(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		im := &Importer{Store: s, CreateCampaigns: true}
		before := readCostState(t, s)
		bad := "date,platform,account,campaign,ad_group,keyword,impressions,clicks,cost\n" +
			"2024-05-01,baidu,a,c1,g,k,10,1,1.00\n" +
			"2024-05-02,baidu,a,c1,g,k,10,1,x\n" +
			"2024-05-03,baidu,a,c1,g,k,10,1,1.00\n" +
			"2024-05-04,baidu,a,c1,g,k,-1,1,1.00\n"
		_, err := im.Costs(ctx, "bad.csv", []byte(bad))
		var rows *BadRowsError
		if !errors.As(err, &rows) || rows.Total != 2 || rows.Rows[0].Line != 3 || rows.Rows[1].Line != 5 {
			t.Fatalf("err = %v", err)
		}
		if got := readCostState(t, s); got != before {
			t.Errorf("a bad file left %+v", got)
		}
		list, err := s.Imports(ctx, 10)
		if err != nil || len(list) != 0 {
			t.Errorf("imports %v, %v", list, err)
		}
		// Fixed, the same file goes in whole.
		res, err := im.Costs(ctx, "fixed.csv", []byte(strings.NewReplacer(",x\n", ",2\n", ",-1,", ",1,").Replace(bad)))
		if err != nil || res.RowsNew != 4 {
			t.Fatalf("fixed: %+v, %v", res, err)
		}
	})
}

func TestImportEvents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		db := rawDB(t, s)
		now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
		im := &Importer{Store: s, Now: func() time.Time { return now }}
		// The campaign must exist first.
		_, err := im.Events(ctx, "events.csv", readTestdata(t, "events.csv"))
		var bad *BadRowsError
		if !errors.As(err, &bad) || bad.Total != 4 || !strings.Contains(bad.Rows[0].Reason, `campaign "EXPO-2024-SH" does not exist`) || bad.Rows[0].Line != 2 {
			t.Fatalf("unknown campaign: %v", err)
		}
		if n, _ := s.CountEvents(ctx); n != 0 {
			t.Fatalf("%d events stored from a refused file", n)
		}
		im.CreateCampaigns = true
		res, err := im.Events(ctx, "events.csv", readTestdata(t, "events.csv"))
		if err != nil || res.RowsNew != 4 || res.RowsRead != 4 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "campaign EXPO-2024-SH created") {
			t.Fatalf("import: %+v, %v", res, err)
		}
		var channel string
		if err := db.QueryRow("SELECT channel FROM campaigns WHERE code = 'EXPO-2024-SH'").Scan(&channel); err != nil || channel != "offline_event" {
			t.Errorf("created campaign: %s, %v", channel, err)
		}
		im.CreateCampaigns = false
		if n, _ := s.CountEvents(ctx); n != 8 {
			t.Errorf("%d events, want an identify and a track per row", n)
		}
		var name, medium, anon, payload string
		var ts time.Time
		if err := db.QueryRow("SELECT name, medium, anonymous_id, ts, payload FROM events WHERE type = 'track' AND name = 'Badge Scanned'").Scan(&name, &medium, &anon, &ts, &payload); err != nil {
			t.Fatal(err)
		}
		if medium != "exhibition" || !strings.HasPrefix(anon, "imp-") || !ts.Equal(time.Date(2024, 5, 18, 3, 40, 0, 0, time.UTC)) ||
			!strings.Contains(payload, `"phone":"+86 139 0013 9000"`) {
			t.Errorf("badge scan: %s %s %v %s", medium, anon, ts, payload)
		}
		// Zhang Wei's two rows are one anonymous id (same email, other case).
		var ids int
		if err := db.QueryRow("SELECT COUNT(DISTINCT anonymous_id) FROM events WHERE payload LIKE '%zhang.wei@example-mfg.cn%'").Scan(&ids); err != nil || ids != 1 {
			t.Errorf("zhang wei has %d anonymous ids, %v", ids, err)
		}
		// Same file: already imported. Same rows in another file: nothing new.
		again, err := im.Events(ctx, "copy.csv", readTestdata(t, "events.csv"))
		if err != nil || !again.AlreadyImported {
			t.Errorf("again: %+v, %v", again, err)
		}
		other, err := im.Events(ctx, "subset.csv", []byte("email,time,event,campaign,姓名,公司,职位\nZhang.Wei@example-mfg.cn,2024-05-18 10:05,签到,EXPO-2024-SH,张伟,示例制造有限公司,IT总监\n"))
		if err != nil || other.RowsSame != 1 || other.RowsNew != 0 {
			t.Errorf("subset: %+v, %v", other, err)
		}
		if n, _ := s.CountEvents(ctx); n != 8 {
			t.Errorf("%d events after re-imports, want 8", n)
		}
	})
}

// rawDB opens the test database directly, for checks the store API has no
// query for.
func rawDB(t *testing.T, s *store.Store) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", s.Where()
	if s.Dialect() == store.SQLite {
		driver, dsn = "sqlite", "file:"+s.Where()+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// An erased person's rows are not imported again: erasure suppresses their
// identifiers, and imports honour that as the collector does.
func TestImportEventsSkipsSuppressedPersons(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
		im := &Importer{Store: s, Now: func() time.Time { return now }, CreateCampaigns: true}
		if _, err := im.Events(ctx, "first.csv", []byte("time,event,campaign,email\n2024-05-10 09:12,registered,EXPO,li@acme.cn\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := process.ProcessPending(ctx, s); err != nil {
			t.Fatal(err)
		}
		p, err := s.PersonByIdentity(ctx, model.IdentityEmail, "li@acme.cn")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ErasePerson(ctx, p.ID, "test", now); err != nil {
			t.Fatal(err)
		}
		before, _ := s.CountEvents(ctx)
		res, err := im.Events(ctx, "second.csv", []byte("time,event,campaign,email\n"+
			"2024-05-18 10:05,checked_in,EXPO,LI@acme.cn\n"+
			"2024-05-18 10:06,checked_in,EXPO,wang@acme.cn\n"))
		if err != nil {
			t.Fatal(err)
		}
		after, _ := s.CountEvents(ctx)
		if after-before != 2 || res.RowsRead != 2 || res.RowsNew != 1 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "1 rows not imported") {
			t.Fatalf("events %d → %d, result %+v", before, after, res)
		}
		db := rawDB(t, s)
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM events WHERE payload LIKE '%li@acme.cn%' OR payload LIKE '%LI@acme.cn%'").Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d events of the erased person, %v", n, err)
		}
	})
}
