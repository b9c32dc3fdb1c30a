package segment_test

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/segment"
	"github.com/revloop/revloop/internal/store"
)

// BenchmarkRebuild10x builds segments over a copy of the 10× demo (356,635
// persons, 60,000 accounts, 5.0M touchpoints): each segment is created,
// built in full (every member written and logged), built again (nothing
// changes) and, for person segments, re-evaluated for 2,000 persons as
// after a burst of processing; then deleted. Run (docs/benchmarks.md):
//
//	cp /tmp/s10-main.db /tmp/s10-segment.db && go run ./cmd/revloop migrate --db /tmp/s10-segment.db
//	REVLOOP_BENCH_DB=/tmp/s10-segment.db go test ./internal/segment/ -run '^$' -bench Rebuild10x -benchtime 1x -timeout 30m -v
func BenchmarkRebuild10x(b *testing.B) {
	dsn := os.Getenv("REVLOOP_BENCH_DB")
	if dsn == "" {
		b.Skip("REVLOOP_BENCH_DB names a migrated copy of the 10× demo")
	}
	s, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct{ name, kind, filter string }{
		{"stage+score", "person", `{"all":[{"field":"stage","op":"in","value":["lead","mql"]},{"field":"engagement_score","op":"gte","value":10}]}`},
		{"downloads-90d", "person", `{"field":"touch_type","op":"did","value":"content_download","min":2,"days":90}`},
		{"webinar-not-customer", "person", `{"all":[{"any":[{"field":"touch_channel","op":"did","value":"webinar","days":60},{"field":"trait.plan","op":"is_set"}]},
			{"not":{"field":"stage","op":"in","value":["customer","disqualified"]}},{"field":"account.industry","op":"in","value":["manufacturing","software"]},
			{"field":"last_touch_channel","op":"ne","value":"direct"}]}`},
		{"abm-tier-a", "account", `{"all":[{"field":"tier","op":"eq","value":"A"},{"field":"engaged_people","op":"gte","value":2,"days":30},
			{"field":"open_opportunities","op":"eq","value":0}]}`},
	}
	some := make([]int64, 0, 2000)
	for id := int64(1); len(some) < 2000; id += 173 {
		some = append(some, id)
	}
	for range b.N {
		for _, c := range cases {
			g, err := s.CreateSegment(ctx, model.Segment{Name: "bench " + c.name, Kind: c.kind, Filter: json.RawMessage(c.filter)}, now)
			if err != nil {
				b.Fatal(err)
			}
			first, err := segment.Rebuild(ctx, s, g.ID, func() time.Time { return now })
			if err != nil {
				b.Fatal(err)
			}
			again, err := segment.Rebuild(ctx, s, g.ID, func() time.Time { return now })
			if err != nil {
				b.Fatal(err)
			}
			var inc store.SegmentBuild
			if c.kind == "person" {
				if inc, err = s.RefreshSegmentsFor(ctx, some, now); err != nil {
					b.Fatal(err)
				}
			}
			b.Logf("%-22s %7d members: first build %6.2f s, rebuild %6.2f s, 2,000 changed persons %5.3f s",
				c.name, first.Members, first.Took.Seconds(), again.Took.Seconds(), inc.Took.Seconds())
			if again.Entered+again.Left != 0 {
				b.Fatalf("%s: a second build changed %d members", c.name, again.Entered+again.Left)
			}
			if err := s.DeleteSegment(ctx, g.ID); err != nil {
				b.Fatal(err)
			}
		}
	}
}
