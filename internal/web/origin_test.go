package web

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// sendFrom sends a request with the given Host and headers, from
// httptest's peer address 192.0.2.1.
func (e *env) sendFrom(t *testing.T, method, target, host, key, body string, header map[string]string) *http.Response {
	t.Helper()
	hr := httptest.NewRequest(method, target, strings.NewReader(body))
	if host != "" {
		hr.Host = host
	}
	if key != "" {
		hr.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		hr.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, hr)
	return rec.Result()
}

// Short links and QR codes are built on links.public_url, or what a
// trusted proxy forwards, or the listening address: never on a client's
// Host header or on forwarded headers from anyone else.
func TestShortLinksIgnoreClientHost(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		e.srv.listenBase.Store("http://127.0.0.1:8080")
		key := e.marketerKey(t)
		short := func(host string, header map[string]string) string {
			t.Helper()
			var l linkJSON
			decodeJSON(t, e.sendFrom(t, http.MethodPost, "/api/v1/links", host, key, `{"campaign":"web-1","url":"https://example.cn/webinar"}`, header), http.StatusCreated, &l)
			if !strings.HasSuffix(l.ShortURL, "/r/"+l.Code) || !strings.HasPrefix(l.QRSVG, strings.TrimSuffix(l.ShortURL, "/r/"+l.Code)) {
				t.Fatalf("link %+v", l)
			}
			return strings.TrimSuffix(l.ShortURL, "/r/"+l.Code)
		}
		forwarded := map[string]string{"X-Forwarded-Host": "go.example.cn", "X-Forwarded-Proto": "https"}
		if got := short("evil.example", nil); got != "http://127.0.0.1:8080" {
			t.Fatalf("Host header believed: %s", got)
		}
		if got := short("evil.example", forwarded); got != "http://127.0.0.1:8080" {
			t.Fatalf("forwarded headers of an untrusted peer believed: %s", got)
		}
		if err := s.SetSetting(ctx, collect.SettingTrustedProxies, []string{"192.0.2.0/24"}); err != nil {
			t.Fatal(err)
		}
		if err := e.srv.collector.ReloadSettings(ctx); err != nil {
			t.Fatal(err)
		}
		if got := short("evil.example", forwarded); got != "https://go.example.cn" {
			t.Fatalf("trusted proxy: %s", got)
		}
		if got := short("evil.example", map[string]string{"X-Forwarded-Host": "evil.example/phish?x="}); got != "http://127.0.0.1:8080" {
			t.Fatalf("malformed forwarded host believed: %s", got)
		}
		if err := s.SetSetting(ctx, SettingPublicURL, "https://m.example.cn"); err != nil {
			t.Fatal(err)
		}
		if got := short("evil.example", forwarded); got != "https://m.example.cn" {
			t.Fatalf("public_url: %s", got)
		}
	})
}

// Strict-Transport-Security goes with answers served over TLS: directly or
// through a trusted proxy that says so.
func TestHSTSOverTLSOnly(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		hsts := func(target string, header map[string]string) string {
			return e.sendFrom(t, http.MethodGet, target, "", "", "", header).Header.Get("Strict-Transport-Security")
		}
		proto := map[string]string{"X-Forwarded-Proto": "https"}
		if h := hsts("/healthz", nil); h != "" {
			t.Fatalf("HSTS over plain http: %q", h)
		}
		if h := hsts("https://revloop.example.cn/healthz", nil); h != hstsHeader {
			t.Fatalf("HSTS over TLS: %q", h)
		}
		if h := hsts("/healthz", proto); h != "" {
			t.Fatalf("an untrusted X-Forwarded-Proto earned HSTS: %q", h)
		}
		if err := s.SetSetting(ctx, collect.SettingTrustedProxies, []string{"192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
		if err := e.srv.collector.ReloadSettings(ctx); err != nil {
			t.Fatal(err)
		}
		if h := hsts("/healthz", proto); h != hstsHeader {
			t.Fatalf("HSTS behind a trusted TLS proxy: %q", h)
		}
	})
}

// With a metrics token, /metrics answers only the bearer of it.
func TestMetricsToken(t *testing.T) {
	s := storetest.SQLite(t)
	srv, err := newWith(t, testOpts{Store: s, Logger: slog.New(slog.DiscardHandler), MetricsToken: "scrape-секрет-1"})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: s, srv: srv, h: srv.Handler()}
	for _, c := range []struct {
		key  string
		want int
	}{{"", http.StatusUnauthorized}, {"wrong", http.StatusUnauthorized}, {"scrape-секрет-1", http.StatusOK}} {
		res := e.sendFrom(t, http.MethodGet, "/metrics", "", c.key, "", nil)
		if res.StatusCode != c.want {
			t.Fatalf("key %q: status %d, want %d", c.key, res.StatusCode, c.want)
		}
		if c.want == http.StatusOK && !strings.Contains(bodyOf(t, res), "revloop_") {
			t.Fatal("no metrics in the answer")
		}
	}
}
