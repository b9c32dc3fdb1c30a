package message_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/secret"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func testBox(t *testing.T) *secret.Box {
	t.Helper()
	b, err := secret.New(bytes.Repeat([]byte{3}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// webhookSetup stores a signing secret and person 1, and returns the
// sender with short back-off.
func webhookSetup(t *testing.T, s *store.Store, allow ...string) *message.Webhook {
	t.Helper()
	ctx := context.Background()
	box := testBox(t)
	sealed, _ := box.Seal([]byte("whsec-test-0123456789"))
	if err := s.SetSetting(ctx, message.SettingWebhook, message.WebhookSettings{SecretSealed: sealed}); err != nil {
		t.Fatal(err)
	}
	if allow != nil {
		if err := s.SetSetting(ctx, message.SettingWebhookAllow, allow); err != nil {
			t.Fatal(err)
		}
	}
	addPerson(t, s, 1)
	w := message.NewWebhook(s, box)
	w.Backoff = 10 * time.Millisecond
	w.Timeout = 2 * time.Second
	return w
}

func hookRequest(url string) message.Request {
	step, _ := json.Marshal(map[string]any{"id": "b", "type": "webhook", "url": url, "headers": map[string]string{"X-Team": "growth"}})
	return message.Request{Key: "j7-v2-b-p1-e1", Channel: "webhook", PersonID: 1, JourneyID: 7, Version: 2, StepID: "b", Step: step,
		Now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func TestWebhookRefusesLoopbackUnlessAllowed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var hits atomic.Int32
		var got struct {
			body []byte
			h    http.Header
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			got.body, _ = io.ReadAll(r.Body)
			got.h = r.Header.Clone()
		}))
		defer srv.Close()

		w := webhookSetup(t, s)
		res, err := w.Send(ctx, hookRequest(srv.URL+"/hook"))
		if err != nil || res.Status != message.Failed || res.Reason != "blocked_address" || hits.Load() != 0 {
			t.Fatalf("loopback by default: %+v %v, %d hits", res, err, hits.Load())
		}
		// A name that resolves to loopback is refused after resolution.
		port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
		res, err = w.Send(ctx, hookRequest("http://localhost:"+port+"/hook"))
		if err != nil || res.Status != message.Failed || res.Reason != "blocked_address" || hits.Load() != 0 {
			t.Fatalf("localhost by name: %+v %v, %d hits", res, err, hits.Load())
		}

		if err := s.SetSetting(ctx, message.SettingWebhookAllow, []string{"127.0.0.0/8"}); err != nil {
			t.Fatal(err)
		}
		res, err = w.Send(ctx, hookRequest(srv.URL+"/hook"))
		if err != nil || res.Status != message.Sent || hits.Load() != 1 {
			t.Fatalf("allowed range: %+v %v, %d hits", res, err, hits.Load())
		}
		if got.h.Get("X-Revloop-Delivery") != "j7-v2-b-p1-e1" || got.h.Get("X-Team") != "growth" || got.h.Get("Content-Type") != "application/json" {
			t.Fatalf("headers: %v", got.h)
		}
		if !message.VerifySignature([]byte("whsec-test-0123456789"), got.h.Get("X-Revloop-Signature"), got.body, time.Now(), 5*time.Minute) {
			t.Fatalf("signature %q does not verify", got.h.Get("X-Revloop-Signature"))
		}
		if message.VerifySignature([]byte("another-secret"), got.h.Get("X-Revloop-Signature"), got.body, time.Now(), 5*time.Minute) {
			t.Fatal("signature verifies with another secret")
		}
		if message.VerifySignature([]byte("whsec-test-0123456789"), got.h.Get("X-Revloop-Signature"), append(got.body, ' '), time.Now(), 5*time.Minute) {
			t.Fatal("signature verifies an altered body")
		}
		want := `{"key":"j7-v2-b-p1-e1","time":"2026-03-02T09:00:00Z","journey":{"id":7,"version":2},"step":"b",` +
			`"person":{"id":1,"name":"P1","email":"p1@example.cn","stage":"lead","traits":{}}}`
		if string(got.body) != want {
			t.Fatalf("body\n got %s\nwant %s", got.body, want)
		}
	})
}

func TestWebhookRedirectToLoopbackRefused(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var inner atomic.Int32
		ln, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Skip("no 127.0.0.2 here:", err)
		}
		target := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { inner.Add(1) })}}
		target.Start()
		defer target.Close()
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/internal", http.StatusTemporaryRedirect)
		}))
		defer front.Close()
		// Only the front server's address is allowed.
		w := webhookSetup(t, s, "127.0.0.1/32")
		res, err := w.Send(ctx, hookRequest(front.URL))
		if err != nil || res.Status != message.Failed || res.Reason != "blocked_address" || inner.Load() != 0 {
			t.Fatalf("redirect to 127.0.0.2: %+v %v, %d hits inside", res, err, inner.Load())
		}
	})
}

// A redirect to another host (allowed here) keeps the body, signature and
// delivery id but not the step's own headers.
func TestWebhookRedirectDropsStepHeaders(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ln, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Skip("no 127.0.0.2 here:", err)
		}
		var got http.Header
		var body []byte
		target := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			got = r.Header.Clone()
			body, _ = io.ReadAll(r.Body)
		})}}
		target.Start()
		defer target.Close()
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/moved", http.StatusPermanentRedirect)
		}))
		defer front.Close()
		w := webhookSetup(t, s, "127.0.0.0/8")
		res, err := w.Send(ctx, hookRequest(front.URL))
		if err != nil || res.Status != message.Sent {
			t.Fatalf("redirect: %+v %v", res, err)
		}
		if got.Get("X-Team") != "" || got.Get("X-Revloop-Delivery") != "j7-v2-b-p1-e1" || got.Get("X-Revloop-Signature") == "" || len(body) == 0 {
			t.Fatalf("after a redirect to another host: headers %v, body %d bytes", got, len(body))
		}
	})
}

func TestWebhookRetries(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var n atomic.Int32
		var keys []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			keys = append(keys, r.Header.Get("X-Revloop-Delivery"))
			switch r.URL.Path {
			case "/flaky":
				if n.Add(1) < 3 {
					w.WriteHeader(http.StatusInternalServerError)
				}
			case "/down":
				w.WriteHeader(http.StatusBadGateway)
			case "/gone":
				w.WriteHeader(http.StatusGone)
			case "/slow-down":
				w.Header().Set("Retry-After", "120")
				w.WriteHeader(http.StatusTooManyRequests)
			case "/loop":
				http.Redirect(w, r, "/loop", http.StatusFound)
			}
		}))
		defer srv.Close()
		w := webhookSetup(t, s, "127.0.0.1")

		// 500, 500, then 200: sent, the same delivery key each time.
		res, err := w.Send(ctx, hookRequest(srv.URL+"/flaky"))
		if err != nil || res.Status != message.Sent || n.Load() != 3 {
			t.Fatalf("flaky: %+v %v after %d", res, err, n.Load())
		}
		for _, k := range keys {
			if k != "j7-v2-b-p1-e1" {
				t.Fatalf("delivery keys %v", keys)
			}
		}
		// Always 502: a transient error after 3 attempts.
		keys = nil
		if res, err := w.Send(ctx, hookRequest(srv.URL+"/down")); err == nil || len(keys) != 3 {
			t.Fatalf("down: %+v %v after %d attempts", res, err, len(keys))
		}
		// 410: failed for good, no retry.
		keys = nil
		if res, err := w.Send(ctx, hookRequest(srv.URL+"/gone")); err != nil || res.Status != message.Failed || res.Reason != "http_410" || len(keys) != 1 {
			t.Fatalf("gone: %+v %v after %d", res, err, len(keys))
		}
		// 429 with Retry-After 120: a RetryError two minutes ahead.
		before := time.Now()
		_, err = w.Send(ctx, hookRequest(srv.URL+"/slow-down"))
		at, ok := message.RetryAt(err)
		if !ok || at.Before(before.Add(119*time.Second)) || at.After(time.Now().Add(121*time.Second)) {
			t.Fatalf("429: %v (retry at %v)", err, at)
		}
		// Redirects are followed at most 3 times.
		keys = nil
		if res, err := w.Send(ctx, hookRequest(srv.URL+"/loop")); err != nil || res.Status != message.Failed || res.Reason != "too_many_redirects" || len(keys) != 4 {
			t.Fatalf("loop: %+v %v after %d", res, err, len(keys))
		}
	})
}

func TestBlockedAddr(t *testing.T) {
	for _, a := range []string{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1",
		"224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00::1", "fc00::5", "ff02::1", "::ffff:8.8.8.8", "::ffff:127.0.0.1", "64:ff9b::a00:1"} {
		if !message.BlockedAddr(netip.MustParseAddr(a)) {
			t.Errorf("%s not blocked", a)
		}
	}
	for _, a := range []string{"8.8.8.8", "1.1.1.1", "2400:3200::1", "101.226.4.6"} {
		if message.BlockedAddr(netip.MustParseAddr(a)) {
			t.Errorf("%s blocked", a)
		}
	}
	if err := message.CheckWebhookStep("http://example.com", map[string]string{"X-Revloop-Signature": "x"}); err == nil {
		t.Error("a step may not set the signature header")
	}
	if err := message.CheckWebhookStep("ftp://example.com", nil); err == nil {
		t.Error("ftp URL accepted")
	}
	if _, err := message.ParseAllowRanges([]byte(`["10.0.0.0/8","192.168.1.7","nope"]`)); err == nil {
		t.Error("bad range accepted")
	}
	if r, err := message.ParseAllowRanges([]byte(`["10.1.0.0/8","192.168.1.7"]`)); err != nil || r[0] != "10.0.0.0/8" || r[1] != "192.168.1.7/32" {
		t.Errorf("ranges %v %v", r, err)
	}
}
