package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

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
