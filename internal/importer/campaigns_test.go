package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// loadCampaigns stores campaigns as links and people make them: one
// without a platform, one on Baidu, one on Sogou with the same name as the
// Baidu one's code, and an offline event.
func loadCampaigns(t *testing.T, s *store.Store) {
	t.Helper()
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	err := s.Load(context.Background(), func(l store.Loader) error {
		return l.Insert("campaigns", strings.Split("id,code,name,platform,channel,created_at", ","), [][]any{
			{int64(1), "BRAND-BD", "品牌词", "", "paid_search", day},
			{int64(2), "spring-2024", "Spring Launch", "baidu", "paid_search", day},
			{int64(3), "EXPO-2024-SH", "上海工博会 2024", "", "offline_event", day},
			{int64(4), "dup-a", "Dup", "", "display", day},
			{int64(5), "dup-b", "dup", "", "display", day},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func campaignOfCost(t *testing.T, s *store.Store, line string) (code, channel string) {
	t.Helper()
	cells := strings.Split(line, ",")
	// Costs are unique per row of the test file.
	err := rawDB(t, s).QueryRow(fmt.Sprintf(`SELECT c.code, c.channel FROM daily_costs d JOIN campaigns c ON c.id = d.campaign_id
		WHERE d.cost_fen = %s`, strings.ReplaceAll(cells[8], ".", ""))).Scan(&code, &channel)
	if err != nil {
		t.Fatalf("cost of %s: %v", line, err)
	}
	return code, channel
}

func TestImportCostsMatchesOrReportsCampaigns(t *testing.T) {
	rows := []string{
		"2024-05-01,baidu,bj,品牌词,g,,10,1,1.01",           // 2: by name, on a campaign without platform
		"2024-05-02,baidu,bj,SPRING-2024,g,,10,1,1.02",   // 3: by code, any case
		"2024-05-03,baidu,bj,spring launch,g,,10,1,1.03", // 4: by name, any case
		"2024-05-01,sogou,sg,Spring Launch,g,,10,1,1.04", // 5: Baidu's campaign is not Sogou's
		"2024-05-01,baidu,bj,新计划,g,,10,1,1.05",           // 6: unknown
		"2024-05-02,baidu,bj,新计划,g,,10,1,1.06",           // 7: the same again
		"2024-05-01,baidu,bj,DUP,g,,10,1,1.07",           // 8: two campaigns are named so
		"2024-05-01,douban,db,豆瓣推广,g,,10,1,1.08",         // 9: a platform revloop does not know
	}
	file := []byte("date,platform,account,campaign,ad_group,keyword,impressions,clicks,cost\n" + strings.Join(rows, "\n") + "\n")
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		loadCampaigns(t, s)
		before := readCostState(t, s)
		im := &Importer{Store: s}
		_, err := im.Costs(ctx, "costs.csv", file)
		var bad *BadRowsError
		if !errors.As(err, &bad) {
			t.Fatalf("unknown campaigns: %v", err)
		}
		want := map[int]string{
			5: `campaign "Spring Launch" does not exist on sogou (no campaign has this name or code; campaign spring-2024 (Spring Launch) is on platform baidu, not sogou): fix the name, or let the import create it as paid_search (create_campaigns=true, or --create-campaigns)`,
			6: `campaign "新计划" does not exist on baidu (no campaign has this name or code): fix the name, or let the import create it as paid_search`,
			7: `campaign "新计划" does not exist on baidu (see line 6)`,
			8: `it could mean campaign dup-a or dup-b: write the campaign's code`,
			9: `campaign "豆瓣推广" does not exist on douban (no campaign has this name or code): fix the name, or let the import create it as display`,
		}
		if bad.Total != len(want) {
			t.Errorf("%d bad rows, want %d: %v", bad.Total, len(want), bad)
		}
		for _, r := range bad.Rows {
			if w, ok := want[r.Line]; !ok || !strings.Contains(r.Reason, w) {
				t.Errorf("line %d: %q, want it to contain %q", r.Line, r.Reason, w)
			}
		}
		if got := readCostState(t, s); got != before {
			t.Errorf("a refused file left %+v (before %+v)", got, before)
		}

		// Asked to, the import creates what is missing, in the platform's
		// channel, and says so.
		im.CreateCampaigns = true
		res, err := im.Costs(ctx, "costs.csv", file)
		if err != nil {
			t.Fatal(err)
		}
		notes := strings.Join(res.Notes, "\n")
		for _, w := range []string{`line 5: campaign "Spring Launch" created as paid_search (platform sogou, code sogou-`,
			`line 6: campaign "新计划" created as paid_search (platform baidu`, `line 8: campaign "DUP" created as paid_search`,
			`line 9: campaign "豆瓣推广" created as display (platform douban, code douban-`, "display is a guess"} {
			if !strings.Contains(notes, w) {
				t.Errorf("notes %q lack %q", notes, w)
			}
		}
		if len(res.Notes) != 4 {
			t.Errorf("notes %q, want one per created campaign", res.Notes)
		}
		for i, w := range []struct{ code, channel string }{{"BRAND-BD", "paid_search"}, {"spring-2024", "paid_search"}, {"spring-2024", "paid_search"},
			{"sogou-", "paid_search"}, {"baidu-", "paid_search"}, {"baidu-", "paid_search"}, {"baidu-", "paid_search"}, {"douban-", "display"}} {
			code, channel := campaignOfCost(t, s, rows[i])
			if !strings.HasPrefix(code, w.code) || channel != w.channel {
				t.Errorf("line %d went to campaign %s (%s), want %s… (%s)", i+2, code, channel, w.code, w.channel)
			}
		}
		if got := readCostState(t, s); got.campaigns != before.campaigns+4 {
			t.Errorf("%d campaigns, want %d", got.campaigns, before.campaigns+4)
		}
	})
}

func TestImportEventsMatchesCampaignsByCodeOrName(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		loadCampaigns(t, s)
		im := &Importer{Store: s}
		file := "time,event,campaign,email\n" +
			"2024-05-10 09:12,registered,expo-2024-sh,a@x.cn\n" +
			"2024-05-10 09:13,registered,上海工博会 2024,b@x.cn\n" +
			"2024-05-10 09:14,registered,Webinar-June,c@x.cn\n" +
			"2024-05-10 09:15,registered,Webinar-June,d@x.cn\n"
		_, err := im.Events(ctx, "events.csv", []byte(file))
		var bad *BadRowsError
		if !errors.As(err, &bad) || bad.Total != 2 || bad.Rows[0].Line != 4 ||
			!strings.Contains(bad.Rows[0].Reason, `campaign "Webinar-June" does not exist (no campaign has this code or name): fix it, or let the import create it as offline_event`) ||
			!strings.Contains(bad.Rows[1].Reason, "see line 4") {
			t.Fatalf("unknown campaign: %v", err)
		}
		im.CreateCampaigns = true
		res, err := im.Events(ctx, "events.csv", []byte(file))
		if err != nil || res.RowsNew != 4 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "line 4: campaign Webinar-June created as offline_event") {
			t.Fatalf("import: %+v, %v", res, err)
		}
		// Rows that named the campaign another way carry its code.
		rows, err := rawDB(t, s).Query("SELECT campaign FROM events WHERE type = 'track' ORDER BY ts")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			got = append(got, c)
		}
		if strings.Join(got, ",") != "EXPO-2024-SH,EXPO-2024-SH,Webinar-June,Webinar-June" {
			t.Errorf("event campaigns %v", got)
		}
	})
}
