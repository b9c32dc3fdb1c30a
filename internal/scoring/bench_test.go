package scoring_test

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/scoring"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

const (
	benchPersons  = 100_000
	benchAccounts = 10_000
	benchEvents   = 1_000_000
)

// benchRules is the brief's rule set with a threshold that each iteration
// changes, so that every iteration is a rule change and a full replay.
const benchRules = `{
  "mql_threshold": %d,
  "decay_half_life_days": 30,
  "fit": [
    {"field": "industry", "in": ["制造", "金融"], "points": 15},
    {"field": "employees", "gte": 500, "points": 10},
    {"field": "title", "matches": "(?i)总监|director|vp|cto|ceo", "points": 15},
    {"field": "email_domain", "in": ["competitor.com"], "points": -50}
  ],
  "engagement": [
    {"event": "Whitepaper Downloaded", "points": 10, "max_per_day": 20},
    {"event": "page", "path_prefix": "/pricing", "points": 5},
    {"event": "page", "points": 1, "max_per_day": 5},
    {"event": "Webinar Attended", "points": 15},
    {"event": "Email Opened", "points": 2, "max_per_day": 4},
    {"event": "Unsubscribed", "points": -20}
  ]
}`

// loadBench fills s with 10,000 accounts, 100,000 persons and 1,000,000
// processed events over a year before now (pages, tracks, a few identify
// calls and bots), with payloads of a realistic size.
func loadBench(b *testing.B, s *store.Store, now time.Time) {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	industries := []string{"制造", "金融", "零售", "医疗", "教育", "互联网"}
	titles := []string{"市场总监", "Marketing Director", "经理", "工程师", "CTO", "专员", "VP Sales"}
	domains := []string{"acme.cn", "example.com", "competitor.com", "qq.com", "163.com"}
	stages := []string{"lead", "lead", "lead", "subscriber", "mql", "sql"}
	names := []string{"Whitepaper Downloaded", "Webinar Attended", "Email Opened", "Email Opened", "Form Submitted", "Unsubscribed", "Video Played"}
	paths := []string{"/", "/pricing", "/pricing/enterprise", "/product/cdp", "/blog/lead-scoring", "/cases", "/about"}
	const ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
	err := s.Load(ctx, func(l store.Loader) error {
		var rows [][]any
		flush := func(table string, cols []string) error {
			err := l.Insert(table, cols, rows)
			rows = rows[:0]
			return err
		}
		accCols := []string{"id", "name", "industry", "employees", "tier", "region", "created_at"}
		for i := 1; i <= benchAccounts; i++ {
			rows = append(rows, []any{int64(i), fmt.Sprintf("公司%d", i), industries[r.IntN(len(industries))], int64(r.IntN(5000)),
				[]string{"A", "B", "C", "C"}[r.IntN(4)], "east", now.AddDate(-2, 0, 0)})
		}
		if err := flush("accounts", accCols); err != nil {
			return err
		}
		perCols := []string{"id", "account_id", "name", "title", "email", "stage", "first_seen_at", "created_at"}
		for i := 1; i <= benchPersons; i++ {
			rows = append(rows, []any{int64(i), int64(1 + r.IntN(benchAccounts)), fmt.Sprintf("人%d", i), titles[r.IntN(len(titles))],
				fmt.Sprintf("p%d@%s", i, domains[r.IntN(len(domains))]), stages[r.IntN(len(stages))], now.AddDate(-1, 0, 0), now.AddDate(-1, 0, 0)})
			if len(rows) == 10_000 {
				if err := flush("persons", perCols); err != nil {
					return err
				}
			}
		}
		if err := flush("persons", perCols); err != nil {
			return err
		}
		if err := l.Insert("write_keys", []string{"id", "name", "key", "created_at"}, [][]any{{int64(1), "site", "wk_bench", now}}); err != nil {
			return err
		}
		evCols := []string{"write_key_id", "message_id", "type", "name", "anonymous_id", "ts", "received_at", "ip", "user_agent", "bot",
			"url", "referrer", "source", "medium", "payload", "processed_at", "person_id"}
		for i := 0; i < benchEvents; i++ {
			ts := now.Add(-time.Duration(r.Int64N(int64(365 * 24 * time.Hour))))
			typ, name := "page", ""
			switch x := r.IntN(100); {
			case x < 3:
				typ = "identify"
			case x < 55:
				typ, name = "track", names[r.IntN(len(names))]
			}
			url := "https://www.revloop.cn" + paths[r.IntN(len(paths))] + "?utm_source=baidu&utm_medium=cpc"
			payload := fmt.Sprintf(`{"type":%q,"event":%q,"messageId":"m-%d","anonymousId":"a-%d","timestamp":%q,"context":{"page":{"url":%q,"referrer":"https://www.baidu.com/"},"userAgent":%q,"ip":"203.0.113.9","library":{"name":"revloop.js","version":"1.0.0"}},"properties":{"plan":"pro"}}`,
				typ, name, i, i%benchPersons, ts.Format(time.RFC3339), url, ua)
			rows = append(rows, []any{int64(1), fmt.Sprintf("m-%d", i), typ, name, fmt.Sprintf("a-%d", i%benchPersons), ts, ts, "203.0.113.9", ua,
				r.IntN(100) == 0, url, "https://www.baidu.com/", "baidu", "cpc", payload, ts, int64(1 + r.IntN(benchPersons))})
			if len(rows) == 10_000 {
				if err := flush("events", evCols); err != nil {
					return err
				}
			}
		}
		return flush("events", evCols)
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRescoreAfterRuleChange replays 1,000,000 events of 100,000
// persons after a rule change; the data set is built first and not timed.
//
//	go test ./internal/scoring/ -run '^$' -bench RescoreAfterRuleChange -benchtime 3x
func BenchmarkRescoreAfterRuleChange(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			var s *store.Store
			if engine == "sqlite" {
				s = storetest.SQLite(b)
			} else {
				s = storetest.Postgres(b)
			}
			now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			start := time.Now()
			loadBench(b, s, now)
			b.Logf("%s: loaded %d events of %d persons in %s", engine, benchEvents, benchPersons, time.Since(start).Round(time.Second))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				r, err := scoring.Parse(fmt.Appendf(nil, benchRules, 60+i))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := scoring.Save(ctx, s, r, "bench", now); err != nil {
					b.Fatal(err)
				}
				cpu0 := cpuTime()
				b.StartTimer()
				res, err := scoring.Rescore(ctx, s, now, nil)
				if err != nil {
					b.Fatal(err)
				}
				if res.Persons != benchPersons {
					b.Fatalf("scored %d persons", res.Persons)
				}
				b.StopTimer()
				cpu := cpuTime() - cpu0
				b.ReportMetric(cpu.Seconds(), "cpu-s/op")
				b.Logf("%s: version %d: %d persons, %d counted activities, %d moved to mql in %s (read %d ms, write %d ms; CPU of this process %s)",
					engine, res.Version, res.Persons, res.Activities, res.MovedToMQL, res.Took.Round(time.Millisecond), res.ReadMS, res.WriteMS, cpu.Round(time.Millisecond))
				b.StartTimer()
			}
		})
	}
}

// cpuTime is the CPU time (user and system) this process used so far: on
// a shared machine it tells the work done from the time waited.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
