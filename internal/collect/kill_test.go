package collect

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// buildRevloop compiles the real binary into a temporary directory.
func buildRevloop(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "revloop")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/revloop/revloop/cmd/revloop")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type serverProcess struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
}

func startServe(t *testing.T, bin, dsn string) *serverProcess {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p := &serverProcess{url: "http://" + addr, logs: &bytes.Buffer{}}
	p.cmd = exec.Command(bin, "serve", "--db", dsn, "--addr", addr, "--log-level", "warn")
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(p.url + "/healthz"); err == nil {
			res.Body.Close()
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("revloop serve did not come up: %s", p.logs)
	return nil
}

// TestSurvivesSIGKILL runs the real `revloop serve`, sends batches from
// several goroutines, kills the server with SIGKILL in the middle, restarts
// it on the same database, resends every batch that was not acknowledged
// (and some that were), and checks that every acknowledged event is stored
// exactly once.
func TestSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildRevloop(t)
	for _, eng := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", storetest.SQLiteDSN}, {"postgres", storetest.PostgresDSN}} {
		t.Run(eng.name, func(t *testing.T) {
			dsn := eng.dsn(t)
			out, err := exec.Command(bin, "writekey", "create", "--name", "kill test", "--db", dsn).CombinedOutput()
			if err != nil {
				t.Fatalf("writekey create: %v %s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			key := lines[len(lines)-1]
			s, err := store.Open(bg, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// No rate limit: this test wants to be fast.
			if err := s.SetSetting(bg, SettingRateLimit, RateLimit{Rate: 0}); err != nil {
				t.Fatal(err)
			}

			const senders, perBatch = 6, 25
			type batch struct {
				ids  []string
				body []byte
			}
			newBatch := func(g, n int) batch {
				var b batch
				var parts []string
				for i := range perBatch {
					id := fmt.Sprintf("k%d-%d-%d", g, n, i)
					b.ids = append(b.ids, id)
					parts = append(parts, fmt.Sprintf(`{"type":"track","event":"Load","anonymousId":"a%d","messageId":"%s","properties":{"n":%d}}`, g, id, i))
				}
				b.body = []byte(`{"batch":[` + strings.Join(parts, ",") + `]}`)
				return b
			}
			auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))
			client := &http.Client{Timeout: 20 * time.Second}
			send := func(url string, b batch) bool {
				req, _ := http.NewRequest("POST", url+"/v1/batch", bytes.NewReader(b.body))
				req.Header.Set("Authorization", auth)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					return false
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				return res.StatusCode == 200
			}

			srv := startServe(t, bin, dsn)
			var mu sync.Mutex
			var acked, unacked []batch
			ackedCount := 0
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for g := range senders {
				wg.Go(func() {
					for n := 0; n < 2000; n++ {
						select {
						case <-stop:
							return
						default:
						}
						b := newBatch(g, n)
						ok := send(srv.url, b)
						mu.Lock()
						if ok {
							acked = append(acked, b)
							ackedCount++
						} else {
							unacked = append(unacked, b)
						}
						mu.Unlock()
					}
				})
			}
			// Kill once a good number of batches are in, with requests in flight.
			deadline := time.Now().Add(20 * time.Second)
			for {
				mu.Lock()
				n := ackedCount
				mu.Unlock()
				if n >= 60 || time.Now().After(deadline) {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			srv.cmd.Wait()
			close(stop)
			wg.Wait()
			if len(acked) < 30 {
				t.Fatalf("only %d batches acknowledged before the kill: %s", len(acked), srv.logs)
			}
			t.Logf("before SIGKILL: %d batches acknowledged, %d not", len(acked), len(unacked))

			srv = startServe(t, bin, dsn)
			resend := append([]batch(nil), unacked...)
			for i := 0; i < len(acked); i += 4 {
				resend = append(resend, acked[i])
			}
			for _, b := range resend {
				if !send(srv.url, b) {
					t.Fatalf("resend refused after restart: %s", srv.logs)
				}
			}
			if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := srv.cmd.Wait(); err != nil {
				t.Fatalf("graceful stop: %v %s", err, srv.logs)
			}

			k, err := s.WriteKeyByKey(bg, key)
			if err != nil {
				t.Fatal(err)
			}
			evs, err := s.CollectedEvents(context.Background(), k.ID, 0, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			stored := map[string]int{}
			for _, e := range evs {
				stored[e.MessageID]++
			}
			for _, b := range append(acked, unacked...) {
				for _, id := range b.ids {
					if stored[id] != 1 {
						t.Fatalf("message %s stored %d times", id, stored[id])
					}
				}
			}
			if want := (len(acked) + len(unacked)) * perBatch; len(evs) != want {
				t.Fatalf("stored %d events, want %d", len(evs), want)
			}
		})
	}
}
