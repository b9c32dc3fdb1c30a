package importer

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/scoring"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// An event file with watch minutes: its attendances become touches with
// their watch time, and the default scoring rules score registrations,
// check-ins and attendance as docs/scoring.md says — 5, 10, 10 and 10 more
// for half an hour watched.
func TestImportedEventsScore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		db := rawDB(t, s)
		im := &Importer{Store: s, CreateCampaigns: true, Now: func() time.Time { return time.Date(2026, 6, 19, 0, 0, 0, 0, time.UTC) }}
		// Scored two hours after the live session began.
		now := time.Date(2026, 6, 18, 8, 0, 0, 0, time.UTC)
		decay := func(at time.Time) float64 { return math.Exp2(-now.Sub(at).Hours() / 24 / 19) }
		scores := func() map[string]float64 {
			t.Helper()
			if _, err := process.ProcessPending(ctx, s); err != nil {
				t.Fatal(err)
			}
			if _, err := scoring.Rescore(ctx, s, now, nil); err != nil {
				t.Fatal(err)
			}
			rows, err := db.Query("SELECT email, phone, score FROM persons")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			out := map[string]float64{}
			for rows.Next() {
				var email, phone string
				var score float64
				if err := rows.Scan(&email, &phone, &score); err != nil {
					t.Fatal(err)
				}
				if email == "" {
					email = phone // as OneID normalised it
				}
				out[email] = score
			}
			return out
		}
		cst := time.FixedZone("CST", 8*3600)
		at := func(day, h, m int) time.Time { return time.Date(2026, 6, day, h, m, 0, 0, cst) }

		// First the registrations (the export's 已报名 rows), then a
		// check-in and a badge scan at the salon.
		file := string(readTestdata(t, "events_live_zh.csv"))
		var regs []string
		for _, line := range strings.Split(file, "\n") {
			if !strings.Contains(line, ",参会,") {
				regs = append(regs, line)
			}
		}
		if _, err := im.Events(ctx, "registrations.csv", []byte(strings.Join(regs, "\n"))); err != nil {
			t.Fatal(err)
		}
		salon := "time,event,campaign,email\n2026-06-17 19:00,签到,SALON-0617,he.lei@huaxin-retail.cn\n2026-06-17 19:30,badge_scan,SALON-0617,ma.jun@ruida-mfg.cn\n"
		if _, err := im.Events(ctx, "salon.csv", []byte(salon)); err != nil {
			t.Fatal(err)
		}
		before := scores()
		want := map[string]float64{
			"zhou.min@huaxin-retail.cn": 5 * decay(at(10, 10, 20)),
			"chen.chen@ruida-mfg.cn":    5 * decay(at(12, 16, 45)),
			"liu.yang@tianyuan.com.cn":  5 * decay(at(15, 9, 10)),
			"+8613900139004":            5 * decay(at(16, 11, 30)),
			"he.lei@huaxin-retail.cn":   10 * decay(at(17, 19, 0)),
			"ma.jun@ruida-mfg.cn":       10 * decay(at(17, 19, 30)),
		}
		for k, w := range want {
			if math.Abs(before[k]-w) > 0.011 {
				t.Errorf("%s: score %.2f after registration or check-in, want %.2f", k, before[k], w)
			}
		}

		// Then the whole export: the registrations again (nothing new)
		// and the attendances with their watch time.
		res, err := im.Events(ctx, "events_live_zh.csv", readTestdata(t, "events_live_zh.csv"))
		if err != nil || res.RowsNew != 3 || res.RowsSame != 4 {
			t.Fatalf("import: %+v, %v", res, err)
		}
		after := scores()
		rises := map[string]float64{
			"zhou.min@huaxin-retail.cn": 20 * decay(at(18, 14, 2)), // 52 minutes
			"chen.chen@ruida-mfg.cn":    10 * decay(at(18, 14, 5)), // 12.5 minutes
			"liu.yang@tianyuan.com.cn":  20 * decay(at(18, 14, 9)), // 0:31:20
			"+8613900139004":            0,
		}
		for k, w := range rises {
			if got := after[k] - before[k]; math.Abs(got-w) > 0.011 {
				t.Errorf("%s: score rose by %.2f with the attendance, want %.2f", k, got, w)
			}
		}

		// The attendances' touches carry their watch time.
		rows, err := db.Query("SELECT type, watch_seconds FROM touchpoints WHERE type = 'event_attended' ORDER BY occurred_at")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []int64
		for rows.Next() {
			var typ string
			var secs int64
			if err := rows.Scan(&typ, &secs); err != nil {
				t.Fatal(err)
			}
			got = append(got, secs)
		}
		if len(got) != 3 || got[0] != 3120 || got[1] != 750 || got[2] != 1880 {
			t.Errorf("attendance touches' watch seconds %v, want [3120 750 1880]", got)
		}
		var others int64
		if err := db.QueryRow("SELECT COUNT(*) FROM touchpoints WHERE type <> 'event_attended' AND watch_seconds <> 0").Scan(&others); err != nil || others != 0 {
			t.Errorf("%d other touches with a watch time, %v", others, err)
		}
	})
}
