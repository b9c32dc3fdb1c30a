package journey_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/journey"
	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var ctx = context.Background()

// clock is a fake clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sender records every request; answer, when set, decides the result.
type sender struct {
	mu     sync.Mutex
	sent   []message.Request
	answer func(r message.Request) (message.Result, error)
}

func (s *sender) Send(_ context.Context, r message.Request) (message.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, r)
	if s.answer != nil {
		return s.answer(r)
	}
	return message.Result{Status: message.Sent}, nil
}

// log is the sent requests as "person:step" in order of person, then
// of sending.
func (s *sender) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.sent {
		out = append(out, fmt.Sprintf("%d:%s", r.PersonID, r.StepID))
	}
	sort.SliceStable(out, func(i, j int) bool { return personOf(out[i]) < personOf(out[j]) })
	return strings.Join(out, " ")
}

func personOf(s string) int {
	var n int
	fmt.Sscanf(s, "%d:", &n)
	return n
}

// exec runs a statement written with ? placeholders on either engine.
func exec(t testing.TB, s *store.Store, q string, args ...any) {
	t.Helper()
	if s.Dialect() == store.Postgres {
		n := 0
		var b strings.Builder
		for _, c := range q {
			if c == '?' {
				n++
				fmt.Fprintf(&b, "$%d", n)
				continue
			}
			b.WriteRune(c)
		}
		q = b.String()
	}
	if _, err := s.WriterDB().ExecContext(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func count(t testing.TB, s *store.Store, q string) int64 {
	t.Helper()
	var n int64
	if err := s.WriterDB().QueryRowContext(ctx, q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// addPersons inserts persons first..first+n-1 directly, in stage, with
// traits.
func addPersons(t testing.TB, s *store.Store, first, n int, stage, traits string, at time.Time) {
	t.Helper()
	for start := 0; start < n; start += 200 {
		var b strings.Builder
		var args []any
		b.WriteString("INSERT INTO persons (id, name, email, stage, traits, first_seen_at, created_at) VALUES ")
		for i := start; i < min(start+200, n); i++ {
			if i > start {
				b.WriteString(", ")
			}
			id := first + i
			b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			args = append(args, id, fmt.Sprintf("P%d", id), fmt.Sprintf("p%d@example.test", id), stage, traits, at, at)
		}
		exec(t, s, b.String(), args...)
	}
}

// newJourney creates and activates a journey from its JSON definition.
func newJourney(t testing.TB, s *store.Store, def string, now time.Time) model.Journey {
	t.Helper()
	var d model.JourneyDef
	if err := json.Unmarshal([]byte(def), &d); err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	j, err := s.CreateJourney(ctx, d, "test", now)
	if err != nil {
		t.Fatal(err)
	}
	if j, err = s.ActivateJourney(ctx, j.ID, now); err != nil {
		t.Fatal(err)
	}
	return j
}

func enter(t testing.TB, s *store.Store, j int64, at time.Time, persons ...int64) int {
	t.Helper()
	var ents []store.JourneyEntrant
	for _, p := range persons {
		ents = append(ents, store.JourneyEntrant{JourneyID: j, PersonID: p, At: at})
	}
	n, err := s.EnterJourneys(ctx, ents, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func drain(t testing.TB, r *journey.Runner) int {
	t.Helper()
	n, err := r.Drain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// steps is a person's ledger in one journey as "step=status/result"
// in order.
func steps(t testing.TB, s *store.Store, j, person int64) string {
	t.Helper()
	tl, err := s.JourneyTimeline(ctx, j, person)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range tl.Entries {
		for _, r := range e.Steps {
			out = append(out, fmt.Sprintf("%s=%s/%s", r.StepID, r.Status, r.Result))
		}
		out = append(out, "|"+e.State)
	}
	return strings.Join(out, " ")
}
