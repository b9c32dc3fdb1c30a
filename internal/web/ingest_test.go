package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The collector is mounted on the server: browsers on other sites can post
// to it (no cross-origin refusal), it answers in JSON, and its metrics are
// on the server's registry.
func TestCollectorIsMounted(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		srv, err := newWith(t, testOpts{Store: s, Logger: slog.New(slog.DiscardHandler), Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		k, err := collect.CreateWriteKey(ctx, s, "www.example.cn")
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		post := func(path, body string, header map[string]string) (*http.Response, string) {
			req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(body))
			for k, v := range header {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res, string(b)
		}
		browser := map[string]string{"Origin": "https://www.example.cn", "Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain;charset=UTF-8",
			"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36"}
		res, body := post("/v1/p", `{"anonymousId":"a1","writeKey":"`+k.Key+`","properties":{"url":"https://www.example.cn/?utm_source=zhihu"}}`, browser)
		if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "https://www.example.cn" {
			t.Fatalf("cross-site page view: %d %s", res.StatusCode, body)
		}
		if n, _ := s.CountEvents(ctx); n != 1 {
			t.Fatalf("stored %d events", n)
		}
		res, body = post("/v1/track", `{"userId":"u"}`, map[string]string{"Authorization": "Bearer " + k.Key})
		if res.StatusCode != 400 || !strings.Contains(body, `"error":"event: track without event`) {
			t.Fatalf("bad track: %d %s", res.StatusCode, body)
		}
		res, body = post("/v1/nothing", `{}`, nil)
		if res.StatusCode != 404 || !strings.Contains(body, `"error"`) {
			t.Fatalf("unknown collector path: %d %s", res.StatusCode, body)
		}
		mres, err := http.Get(ts.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		m, _ := io.ReadAll(mres.Body)
		mres.Body.Close()
		for _, want := range []string{`revloop_collector_rejected_total{reason="track_without_event"} 1`, `revloop_collector_events_total{outcome="stored"} 1`} {
			if !strings.Contains(string(m), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		// A cross-site form post elsewhere is still refused.
		if res, _ := post("/logout", "", browser); res.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST /logout: %d", res.StatusCode)
		}
	})
}
