package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestSettingsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		admin, _, err := e.auth.CreateAPIKey(ctx, "admin", model.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		marketer := e.marketerKey(t)

		if res := e.send(t, "PUT", "/api/v1/settings/collector.anonymize_ip", marketer, "application/json", "true"); res.StatusCode != http.StatusForbidden {
			t.Fatalf("marketer may not change settings: %d", res.StatusCode)
		}
		cases := []struct {
			key, body string
			code      int
			want      string
		}{
			{"collector.anonymize_ip", "true", 200, ""},
			{"collector.anonymize_ip", `"yes"`, 400, "collector.anonymize_ip"},
			{"collector.trusted_proxies", `["10.0.0.0/8", "192.0.2.7"]`, 200, ""},
			{"collector.trusted_proxies", `["10.0.0.0/8", "proxy.local"]`, 400, `proxy.local\" is not an address`},
			{"collector.rate_limit", `{"events_per_second": 500, "burst": 1000}`, 200, ""},
			{"collector.rate_limit", `{"events_per_second": -1, "burst": 1000}`, 400, "zero or positive"},
			{"collector.rate_limit", `{"eps": 5}`, 400, "unknown field"},
			{"collector.rate_limit", `{"events_per_second": 500, "burst": 1000, "bytes_per_second": 1048576, "burst_bytes": 4194304}`, 200, ""},
			{"collector.rate_limit", `{"events_per_second": 500, "burst": 1000, "bytes_per_second": -1}`, 400, "bytes_per_second and burst_bytes must be zero or positive"},
			{"links.public_url", `"https://go.example.cn/"`, 200, ""},
			{"links.public_url", `"javascript:alert(1)"`, 400, "not an http(s) base URL"},
			{"identity.phone_region", `"hk"`, 200, ""},
			{"identity.phone_region", `"XX"`, 400, "not a region"},
			{"colour", `"blue"`, 404, "unknown setting"},
		}
		for _, c := range cases {
			res := e.send(t, "PUT", "/api/v1/settings/"+c.key, admin, "application/json", c.body)
			body := bodyOf(t, res)
			if res.StatusCode != c.code || !strings.Contains(body, c.want) {
				t.Errorf("PUT %s %s: %d %s", c.key, c.body, res.StatusCode, body)
			}
		}
		var anon bool
		if ok, err := s.Setting(ctx, collect.SettingAnonymizeIP, &anon); !ok || err != nil || !anon {
			t.Fatalf("anonymize_ip not stored: %v %v %v", ok, err, anon)
		}
		var rl collect.RateLimit
		if _, err := s.Setting(ctx, collect.SettingRateLimit, &rl); err != nil || rl.Rate != 500 || rl.Burst != 1000 {
			t.Fatalf("rate limit %+v %v", rl, err)
		}
		res := e.send(t, "GET", "/api/v1/settings", admin, "", "")
		var got struct {
			Settings []settingView `json:"settings"`
		}
		if err := json.NewDecoder(res.Body).Decode(&got); err != nil || res.StatusCode != 200 {
			t.Fatalf("list: %d %v", res.StatusCode, err)
		}
		byKey := map[string]settingView{}
		for _, v := range got.Settings {
			byKey[v.Key] = v
		}
		if v := byKey["links.public_url"]; !v.Set || v.Value != "https://go.example.cn" {
			t.Errorf("public url %+v", v)
		}
		if v := byKey["identity.phone_region"]; v.Value != "HK" {
			t.Errorf("phone region %+v", v)
		}
	})
}

// TestTimeZoneChangeRebuildsRollups: after an administrator changes the
// team's time zone, the funnel counts the days of the new zone, once the
// refresh the change enqueued has rebuilt the roll-ups (well before the
// periodic one a minute later).
func TestTimeZoneChangeRebuildsRollups(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		admin, _, err := e.auth.CreateAPIKey(ctx, "admin", model.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		startApp(t, e.srv)
		// Persons 1 and 2 became leads at 00:00 UTC on January 11 and 12:
		// those days in Shanghai, the evenings of January 10 and 11 in Los
		// Angeles.
		leadsOn := func(day string) int64 {
			t.Helper()
			var f funnelJSON
			decodeJSON(t, e.api(t, "/api/v1/funnel?mode=period&from="+day+"&to="+day), http.StatusOK, &f)
			return f.Stages[0].Count
		}
		if n, m := leadsOn("2026-01-10"), leadsOn("2026-01-12"); n != 0 || m != 1 {
			t.Fatalf("leads in Shanghai on January 10: %d, on January 12: %d", n, m)
		}
		if res := e.send(t, "PUT", "/api/v1/settings/time_zone", admin, "application/json", `"America/Los_Angeles"`); res.StatusCode != http.StatusOK {
			t.Fatalf("PUT time_zone: %d %s", res.StatusCode, bodyOf(t, res))
		}
		deadline := time.Now().Add(30 * time.Second)
		for leadsOn("2026-01-10") != 1 || leadsOn("2026-01-12") != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("30 s after the change, leads on January 10: %d, on January 12: %d", leadsOn("2026-01-10"), leadsOn("2026-01-12"))
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
