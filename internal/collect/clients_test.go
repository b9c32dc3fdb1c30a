package collect

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// needNode finds node and npm and installs the clients of testdata/clients
// when they are missing. Without node the test is skipped, except on CI.
func needNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = exec.LookPath("npm")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node and npm are required on CI: %v", err)
		}
		t.Skipf("node/npm not installed (set CI=true to fail instead): %v", err)
	}
	dir, _ := filepath.Abs("testdata/clients")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@segment", "analytics-node")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	return node
}

// TestRealClients sends events with @segment/analytics-node and
// @rudderstack/rudder-sdk-node (which gzips its batches) and reads them back.
func TestRealClients(t *testing.T) {
	node := needNode(t)
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s, Options{})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for run := range 2 { // the second run resends every message: stored once
			cmd := exec.CommandContext(ctx, node, "send.js")
			cmd.Dir = "testdata/clients"
			cmd.Env = append(os.Environ(), "HOST="+ts.url, "WRITE_KEY="+ts.key)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "sent") {
				t.Fatalf("run %d: node send.js: %v\n%s", run, err, out)
			}
		}
		evs := ts.events(t)
		byID := map[string]model.Event{}
		for _, e := range evs {
			byID[e.MessageID] = e
		}
		if len(evs) != 12 || len(byID) != 12 {
			t.Fatalf("stored %d events (%d distinct), want 12", len(evs), len(byID))
		}
		for _, prefix := range []string{"seg-", "rs-"} {
			for _, typ := range []string{"page", "track", "identify", "group", "alias", "screen"} {
				e, ok := byID[prefix+typ]
				if !ok {
					t.Errorf("%s%s not stored", prefix, typ)
					continue
				}
				if string(e.Type) != typ || e.Bot {
					t.Errorf("%s%s: type %s bot %v", prefix, typ, e.Type, e.Bot)
				}
				if d := e.ReceivedAt.Sub(e.Timestamp); d < -2*time.Second || d > time.Minute {
					t.Errorf("%s%s: timestamp %s received %s", prefix, typ, e.Timestamp, e.ReceivedAt)
				}
				if !strings.Contains(string(e.Payload), `"library"`) {
					t.Errorf("%s%s: payload without context.library: %s", prefix, typ, e.Payload)
				}
			}
		}
		seg := byID["seg-page"]
		if seg.Source != "baidu" || seg.Medium != "cpc" || seg.Campaign != "spring" || seg.ClickIDType != "bd_vid" || seg.ClickID != "7788" ||
			seg.IP != "198.51.100.20" || seg.Name != "Pricing" || seg.AnonymousID != "seg-anon" || seg.SentAt == nil {
			t.Errorf("analytics-node page: %+v", seg)
		}
		if e := byID["seg-identify"]; e.UserID != "seg-user" || !strings.Contains(string(e.Payload), "王芳") {
			t.Errorf("analytics-node identify: %+v", e)
		}
		rs := byID["rs-page"]
		if rs.Source != "google" || rs.ClickIDType != "gclid" || rs.ClickID != "CjwKrs" || rs.IP != "127.0.0.1" || rs.SentAt == nil {
			t.Errorf("rudder page: %+v", rs)
		}
		if e := byID["rs-track"]; e.Name != "Whitepaper Downloaded" || !strings.Contains(string(e.Payload), "B2B 增长") {
			t.Errorf("rudder track: %+v", e)
		}
		if e := byID["rs-alias"]; e.PreviousID != "rs-anon" || e.UserID != "rs-user" {
			t.Errorf("rudder alias: %+v", e)
		}
		// RudderStack's client gzips; analytics-node does not.
		gzipped, plain := ts.requestsWith("Content-Encoding", "gzip"), ts.requestsWith("Content-Encoding", "")
		if gzipped == 0 || plain == 0 {
			t.Errorf("requests: %d gzipped, %d plain; want both", gzipped, plain)
		}
	})
}
