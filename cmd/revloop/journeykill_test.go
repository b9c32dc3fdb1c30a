package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// journeySinkEnv, in a server process of the tests, makes its journeys
// deliver every message to this URL (sinkSender).
const journeySinkEnv = "REVLOOP_TEST_JOURNEY_SINK"

// sinkSender posts each message's key to a test's server; a failed post
// is a transient failure.
type sinkSender struct {
	url    string
	client *http.Client
}

func (s *sinkSender) Send(ctx context.Context, r message.Request) (message.Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, strings.NewReader(fmt.Sprintf(`{"person":%d}`, r.PersonID)))
	if err != nil {
		return message.Result{}, err
	}
	req.Header.Set("X-Delivery-Id", r.Key)
	res, err := s.client.Do(req)
	if err != nil {
		return message.Result{}, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return message.Result{}, fmt.Errorf("sink answered %d", res.StatusCode)
	}
	return message.Result{Status: message.Sent}, nil
}

// TestJourneySurvivesSIGKILL runs a 2,000-person journey (three webhooks
// and a wait) in a real server process, kills it with SIGKILL in the
// middle and starts another: every person got every step, no step the
// ledger had recorded done was delivered again, and the only duplicates
// are steps that were being run at the kill, delivered again with the
// same key.
func TestJourneySurvivesSIGKILL(t *testing.T) {
	for _, engine := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", storetest.SQLiteDSN}, {"postgres", storetest.PostgresDSN}} {
		t.Run(engine.name, func(t *testing.T) { journeyKill(t, engine.dsn(t)) })
	}
}

func journeyKill(t *testing.T, dsn string) {
	const persons = 2000
	ctx := context.Background()
	s, err := openStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := s.WriterDB()
	now := time.Now().UTC()
	bind := func(q string) string {
		if s.Dialect() != store.Postgres {
			return q
		}
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
		return b.String()
	}
	for start := 1; start <= persons; start += 250 {
		var args []any
		var rows []string
		for id := start; id < start+250; id++ {
			rows = append(rows, "(?, 'lead', ?, ?, ?)")
			args = append(args, id, fmt.Sprintf("p%d@example.test", id), now, now)
		}
		if _, err := db.ExecContext(ctx, bind("INSERT INTO persons (id, stage, email, first_seen_at, created_at) VALUES "+strings.Join(rows, ", ")), args...); err != nil {
			t.Fatal(err)
		}
	}
	var def model.JourneyDef
	if err := json.Unmarshal([]byte(`{"name": "Crash", "trigger": {"segment": 1}, "steps": [
		{"id": "h1", "type": "webhook", "url": "https://sink.example.test/1"},
		{"id": "w", "type": "wait", "for": "1s"},
		{"id": "h2", "type": "webhook", "url": "https://sink.example.test/2"},
		{"id": "h3", "type": "webhook", "url": "https://sink.example.test/3"}]}`), &def); err != nil {
		t.Fatal(err)
	}
	if err := def.Validate(); err != nil {
		t.Fatal(err)
	}
	j, err := s.CreateJourney(ctx, def, "test", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ActivateJourney(ctx, j.ID, now); err != nil {
		t.Fatal(err)
	}
	ents := make([]store.JourneyEntrant, persons)
	for i := range ents {
		ents[i] = store.JourneyEntrant{JourneyID: j.ID, PersonID: int64(i + 1), At: now}
	}
	if n, err := s.EnterJourneys(ctx, ents, "", 0); err != nil || n != persons {
		t.Fatalf("entered %d: %v", n, err)
	}

	type delivery struct {
		key   string
		after bool // delivered after the kill
	}
	var mu sync.Mutex
	var got []delivery
	killed := false
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond) // a provider takes its time
		mu.Lock()
		got = append(got, delivery{r.Header.Get("X-Delivery-Id"), killed})
		mu.Unlock()
	}))
	defer sink.Close()
	t.Setenv(journeySinkEnv, sink.URL)
	delivered := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}

	a := startNode(t, "A", dsn)
	waitUntil(t, "a third of the deliveries", func() bool { return delivered() >= persons })
	a.kill(t)
	// What the ledger holds done now must never be delivered again.
	doneAtKill := map[string]bool{}
	rows, err := db.QueryContext(ctx, bind("SELECT message_key FROM journey_ledger WHERE journey_id = ? AND step_type = 'webhook' AND status = 'done'"), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		rows.Scan(&k)
		doneAtKill[k] = true
	}
	rows.Close()
	mu.Lock()
	before := len(got)
	killed = true
	mu.Unlock()
	if len(doneAtKill) == 0 || len(doneAtKill) >= 3*persons {
		t.Fatalf("killed with %d steps done of %d: not in the middle", len(doneAtKill), 3*persons)
	}

	startNode(t, "B", dsn)
	all := func(q string) int {
		var n int
		if err := db.QueryRowContext(ctx, bind(q), j.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitUntil(t, "every entry completed", func() bool {
		return all("SELECT COUNT(*) FROM journey_entries WHERE journey_id = ? AND state = 'completed'") == persons
	})
	if n := all("SELECT COUNT(*) FROM journey_ledger WHERE journey_id = ? AND status = 'done'"); n != 4*persons {
		t.Fatalf("%d ledger rows done, want %d", n, 4*persons)
	}
	mu.Lock()
	defer mu.Unlock()
	times := map[string]int{}
	repeatedDone := 0
	for _, d := range got {
		times[d.key]++
		if d.after && doneAtKill[d.key] {
			repeatedDone++
		}
	}
	for p := 1; p <= persons; p++ {
		for _, st := range []string{"h1", "h2", "h3"} {
			if k := store.JourneyMessageKey(j.ID, 1, st, int64(p), 1); times[k] == 0 {
				t.Fatalf("person %d never got %s", p, st)
			}
		}
	}
	if len(times) != 3*persons {
		t.Fatalf("%d distinct keys delivered, want %d", len(times), 3*persons)
	}
	if repeatedDone != 0 {
		t.Fatalf("%d steps recorded done before the kill were delivered again", repeatedDone)
	}
	dups := 0
	for _, n := range times {
		dups += n - 1
	}
	// At most the steps in flight at the kill: two batches (the loop and
	// the job) of 500.
	if dups > 1000 {
		t.Fatalf("%d duplicate deliveries", dups)
	}
	t.Logf("%d deliveries before the kill, %d steps done at the kill, %d after; %d duplicates (in flight at the kill, same key)",
		before, len(doneAtKill), len(got)-before, dups)
}
