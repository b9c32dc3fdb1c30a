package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store/storetest"
)

// node is a `revloop serve` process of the test.
type node struct {
	name string
	url  string
	cmd  *exec.Cmd
	log  *bytes.Buffer
}

// startNode runs `revloop serve` (this test binary, as the command) on a
// free loopback port over dsn, until the test ends, and waits until it
// is ready.
func startNode(t *testing.T, name, dsn string, flags ...string) *node {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	n := &node{name: name, url: "http://" + addr, log: &bytes.Buffer{}}
	n.cmd = exec.Command(os.Args[0])
	n.cmd.Env = append(os.Environ(), runAsCommandEnv+"=serve --db "+dsn+" --addr "+addr+" --log-level warn "+strings.Join(flags, " "))
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if n.cmd.ProcessState == nil {
			n.cmd.Process.Signal(syscall.SIGTERM)
			n.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("node %s log:\n%s", n.name, n.log.String())
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get(n.url + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s not ready:\n%s", name, n.log.String())
		}
	}
}

// kill ends the node at once, as a crash or a lost machine would.
func (n *node) kill(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	n.cmd.Wait()
}

// TestManyNodesOnOnePostgres runs two real server processes on one
// PostgreSQL database, sends events to both, kills one in the middle, and
// checks what must hold on any number of nodes: every acknowledged event
// stored and processed once, every scheduled kind run once while both
// live, no double credits, each missed SLA escalated once.
func TestManyNodesOnOnePostgres(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	s, err := openStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := s.WriterDB()
	a := auth.New(s)
	admin, err := a.CreateUser(ctx, "admin@x.cn", "Admin", model.RoleAdmin, "Lq7-vX2p!kR9zt-w")
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := a.CreateUserAPIKey(ctx, admin.ID, "test", model.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	wk, err := collect.CreateWriteKeyOf(ctx, s, "backend", true)
	if err != nil {
		t.Fatal(err)
	}
	// Missed SLAs, seeded: three SQLs (the default stage that hands a
	// person to sales) whose owner did not follow up in time. Each must raise one escalation, however many nodes check.
	const missed = 3
	past := time.Now().UTC().Add(-3 * time.Hour)
	var sales int64
	if err := db.QueryRowContext(ctx, `INSERT INTO users (email, name, role, created_at) VALUES ('sales@x.cn', 'Sales', 'sales', $1) RETURNING id`, past).Scan(&sales); err != nil {
		t.Fatal(err)
	}
	for i := range missed {
		var p int64
		if err := db.QueryRowContext(ctx, `INSERT INTO persons (stage, name, first_seen_at, created_at) VALUES ('sql', $1, $2, $2) RETURNING id`,
			fmt.Sprintf("Missed %d", i), past).Scan(&p); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO assignments (person_id, user_id, rule, assigned_by, assigned_at, due_at) VALUES ($1, $2, 'seed', 'test', $3, $4)`,
			p, sales, past, past.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}

	a1, a2 := startNode(t, "A", dsn), startNode(t, "B", dsn)
	nodes := []*node{a1, a2}

	// Each kind that runs on start ran once, on the leader, while both live.
	waitUntil(t, "the kinds that run on start", func() bool {
		return count(t, db, "SELECT COUNT(*) FROM river_job WHERE kind = 'routing_sla' AND state = 'completed'") >= 1
	})
	for _, kind := range []string{"auth_cleanup", "privacy_retention", "routing_sla"} {
		if n := count(t, db, "SELECT COUNT(*) FROM river_job WHERE kind = $1", kind); n != 1 {
			t.Errorf("%s ran %d times on two nodes, want once", kind, n)
		}
	}

	// 200 people send 40 batches of events to both nodes; the first node
	// dies halfway, and its senders retry on the other, as a client does
	// after a failed request. Every message carries its own id.
	const users, perUser = 200, 20
	var acked sync.Map // message id → true once a node said 200
	var retried atomic.Int64
	alive := atomic.Pointer[[]*node]{}
	alive.Store(&nodes)
	send := func(batch []map[string]any, i int) {
		body, _ := json.Marshal(map[string]any{"batch": batch})
		for attempt := 0; ; attempt++ {
			live := *alive.Load()
			n := live[(i+attempt)%len(live)]
			req, _ := http.NewRequest(http.MethodPost, n.url+"/v1/batch", bytes.NewReader(body))
			req.SetBasicAuth(wk.Key, "")
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					for _, m := range batch {
						acked.Store(m["messageId"], true)
					}
					return
				}
			}
			retried.Add(1)
			if attempt > 50 {
				t.Errorf("batch %d never acknowledged: %v", i, err)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	var batches [][]map[string]any
	for step := range perUser {
		var b []map[string]any
		for u := range users {
			m := map[string]any{"messageId": fmt.Sprintf("m-%d-%d", u, step), "userId": fmt.Sprintf("u%d", u),
				"timestamp": time.Now().Add(time.Duration(step-perUser) * time.Minute).UTC().Format(time.RFC3339Nano)}
			if step == 0 {
				m["type"], m["traits"] = "identify", map[string]any{"email": fmt.Sprintf("u%d@acme-%d.cn", u, u%10), "name": fmt.Sprintf("User %d", u)}
			} else {
				m["type"], m["event"] = "track", "Form Submitted"
				m["context"] = map[string]any{"page": map[string]any{"url": fmt.Sprintf("https://www.revloop.cn/demo?utm_source=%s&utm_medium=cpc", []string{"baidu", "linkedin", "wechat"}[u%3])}}
			}
			b = append(b, m)
			if len(b) == 100 {
				batches = append(batches, b)
				b = nil
			}
		}
	}
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 4 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(batches) {
					return
				}
				if i == len(batches)/2 && a1.cmd.ProcessState == nil {
					only := []*node{a2}
					alive.Store(&only)
					a1.kill(t)
				}
				send(batches[i], i)
			}
		})
	}
	wg.Wait()
	total := users * perUser
	n := 0
	acked.Range(func(any, any) bool { n++; return true })
	if n != total {
		t.Fatalf("%d of %d messages acknowledged", n, total)
	}
	t.Logf("%d messages acknowledged, %d requests retried after node A died", n, retried.Load())

	// Every acknowledged event is stored once and processed once.
	waitUntil(t, "the backlog to drain", func() bool {
		return count(t, db, "SELECT COUNT(*) FROM events WHERE processed_at IS NULL") == 0
	})
	if got := count(t, db, "SELECT COUNT(*) FROM events"); got != total {
		t.Errorf("%d events stored, want %d (each message once)", got, total)
	}
	if got := count(t, db, "SELECT COUNT(*) FROM touchpoints"); got != users*(perUser-1) {
		t.Errorf("%d touchpoints, want %d (one per track event)", got, users*(perUser-1))
	}
	if got := count(t, db, "SELECT COUNT(*) FROM (SELECT event_id FROM touchpoints GROUP BY event_id HAVING COUNT(*) > 1) d"); got != 0 {
		t.Errorf("%d events made more than one touchpoint", got)
	}
	if got := count(t, db, "SELECT COUNT(*) FROM persons WHERE merged_into_id IS NULL AND email LIKE 'u%@acme-%'"); got != users {
		t.Errorf("%d persons, want %d", got, users)
	}
	if got := count(t, db, "SELECT COUNT(*) FROM stage_changes WHERE to_stage = 'lead'"); got != users {
		t.Errorf("%d persons became leads, want %d: a lead made twice?", got, users)
	}

	// Opportunities for 50 of them, then the credits: recomputed on the
	// node that lives, while its own schedule may run them too. Each
	// conversion's shares add up to one: nothing credited twice.
	for i := range 50 {
		body := fmt.Sprintf(`{"external_id": "SF-%d", "account_domain": "acme-%d.cn", "name": "Deal %d", "amount": "%d.00", "stage": "proposal", "contact_emails": ["u%d@acme-%d.cn"]}`,
			i, i%10, i, 10000+i, i, i%10)
		if code, out := apiCall(t, a2.url, key, http.MethodPost, "/api/v1/opportunities", body); code != http.StatusCreated {
			t.Fatalf("opportunity %d: %d %s", i, code, out)
		}
	}
	_, out := apiCall(t, a2.url, key, http.MethodPost, "/api/v1/attribution/recompute", `{"mode": "incremental"}`)
	var started struct {
		JobID int64 `json:"job_id"`
	}
	if err := json.Unmarshal([]byte(out), &started); err != nil || started.JobID == 0 {
		t.Fatalf("recompute: %s", out)
	}
	waitUntil(t, "the recomputation", func() bool {
		_, out := apiCall(t, a2.url, key, http.MethodGet, fmt.Sprintf("/api/v1/jobs/%d", started.JobID), "")
		return strings.Contains(out, `"state":"succeeded"`)
	})
	if got := count(t, db, "SELECT COUNT(*) FROM attribution_conversions WHERE kind = 'opportunity'"); got != 50 {
		t.Errorf("%d opportunities credited, want 50", got)
	}
	rows, err := db.QueryContext(ctx, "SELECT conversion_id, SUM(linear), SUM(first_touch) FROM attribution_credits WHERE kind = 'opportunity' GROUP BY conversion_id")
	if err != nil {
		t.Fatal(err)
	}
	credited := 0
	for rows.Next() {
		var id int64
		var linear, first float64
		if err := rows.Scan(&id, &linear, &first); err != nil {
			t.Fatal(err)
		}
		credited++
		if math.Abs(linear-1) > 1e-9 || math.Abs(first-1) > 1e-9 {
			t.Errorf("opportunity %d: shares add up to %v (linear) and %v (first touch), want 1", id, linear, first)
		}
	}
	rows.Close()
	if credited != 50 {
		t.Errorf("%d opportunities have credits, want 50", credited)
	}

	// Each missed SLA was escalated once, though both nodes checked (and
	// the survivor checked again when it became the leader).
	if got := count(t, db, "SELECT COUNT(*) FROM tasks WHERE kind = 'sla_escalation'"); got != missed {
		t.Errorf("%d escalations, want %d", got, missed)
	}
	if got := count(t, db, "SELECT COUNT(*) FROM assignments WHERE breached_at IS NOT NULL"); got != missed {
		t.Errorf("%d assignments breached, want %d", got, missed)
	}
	// No run of a kind overlapped another of the same kind: River keeps a
	// kind that runs by itself unique while it waits or runs.
	if got := count(t, db, `SELECT COUNT(*) FROM river_job a JOIN river_job b ON a.kind = b.kind AND a.id < b.id
		WHERE a.kind IN ('credits_incremental', 'scores_new', 'routing_assign') AND a.attempted_at IS NOT NULL AND b.attempted_at IS NOT NULL
		AND a.finalized_at IS NOT NULL AND b.attempted_at < a.finalized_at`); got != 0 {
		t.Errorf("%d runs of a kind overlapped another run of the same kind", got)
	}
}

func count(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); !ok(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func apiCall(t *testing.T, base, key, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// A web node takes intake, pages and the API and only enqueues; a worker
// node runs what was enqueued and answers health and metrics only.
func TestWebAndWorkerRoles(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	s, err := openStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := s.WriterDB()
	a := auth.New(s)
	key, _, err := a.CreateAPIKey(ctx, "ops", model.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	wk, err := collect.CreateWriteKeyOf(ctx, s, "backend", true)
	if err != nil {
		t.Fatal(err)
	}
	web := startNode(t, "web", dsn, "--role", "web")
	// Work enqueued while no worker runs waits for one.
	code, out := apiCall(t, web.url, key, http.MethodPost, "/api/v1/scoring/rescore", "")
	var started struct {
		JobID int64 `json:"job_id"`
	}
	if code != http.StatusAccepted || json.Unmarshal([]byte(out), &started) != nil {
		t.Fatalf("rescore on the web node: %d %s", code, out)
	}
	req, _ := http.NewRequest(http.MethodPost, web.url+"/v1/identify", strings.NewReader(`{"userId": "w1", "traits": {"email": "w1@acme.cn"}}`))
	req.SetBasicAuth(wk.Key, "")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("intake on the web node: %v %v", res, err)
	}
	res.Body.Close()
	// Processed at intake, on the web node.
	if got := count(t, db, "SELECT COUNT(*) FROM events WHERE processed_at IS NULL"); got != 0 {
		t.Errorf("%d events left unprocessed at intake", got)
	}
	time.Sleep(500 * time.Millisecond)
	if got := count(t, db, "SELECT COUNT(*) FROM jobs WHERE id = $1 AND state = 'queued'", started.JobID); got != 1 {
		t.Errorf("a web node ran the rescore")
	}
	worker := startNode(t, "worker", dsn, "--role", "worker")
	waitUntil(t, "the worker to run the rescore", func() bool {
		return count(t, db, "SELECT COUNT(*) FROM jobs WHERE id = $1 AND state = 'succeeded'", started.JobID) == 1
	})
	// The worker serves probes and metrics, not the API.
	if code, _ := apiCall(t, worker.url, key, http.MethodGet, "/api/v1/stats", ""); code != http.StatusNotFound {
		t.Errorf("the worker answered the API: %d", code)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, out := apiCall(t, worker.url, "", http.MethodGet, path, ""); code != http.StatusOK || (path == "/metrics" && !strings.Contains(out, `role="worker"`)) {
			t.Errorf("worker %s: %d", path, code)
		}
	}
}

// Nodes that start together on a fresh database (or a new release)
// migrate one at a time: every one of them starts.
func TestNodesMigrateTogether(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	var wg sync.WaitGroup
	codes := make([]result, 4)
	for i := range codes {
		wg.Go(func() { codes[i] = revloop(t, "", nil, "migrate", "--db", dsn) })
	}
	wg.Wait()
	for i, r := range codes {
		if r.code != 0 {
			t.Errorf("migrate %d: %d %s", i, r.code, r.stderr)
		}
	}
}
