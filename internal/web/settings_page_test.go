package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/privacy"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// TestSettingsPage changes settings through the page with an
// administrator's session: a value a setting refuses is shown beside it
// with the reason and nothing is stored; a good one is stored as the API
// stores it. An operation started there runs as a job the page follows,
// and the recent jobs table agrees with GET /api/v1/jobs.
func TestSettingsPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		startApp(t, e.srv)
		c := e.loginAs(t, model.RoleAdmin)
		post := func(target, value string) *http.Response {
			return e.do(t, req{method: http.MethodPost, target: target, form: url.Values{"value": {value}}, cookies: []*http.Cookie{c}})
		}

		body := bodyOf(t, e.do(t, req{target: "/settings?lang=zh-CN", cookies: []*http.Cookie{c}}))
		for _, want := range []string{`id="setting-time_zone"`, "团队时区", `id="setting-collector.rate_limit"`, `action="/settings/links.public_url"`,
			`href="/users"`, `href="/settings/tracking"`, `action="/settings/operations/recompute"`, `id="table-jobs"`, "汇总表将在后台重建"} {
			if !strings.Contains(body, want) {
				t.Errorf("settings page lacks %q", want)
			}
		}

		for _, bad := range []struct{ key, value, want string }{
			{model.SettingTimeZone, "Mars/Olympus", "Mars/Olympus"},
			{privacy.SettingRetentionDays, "-1", "want 0 (keep forever)"},
			{privacy.SettingRetentionDays, "a week", "setting collector.retention_days"},
			{collect.SettingTrustedProxies, "10.0.0.0/8\nproxy.local", `\"proxy.local\" is not an address or CIDR`},
			{SettingPublicURL, "ftp://go.example.cn", "is not an http(s) base URL"},
			{collect.SettingRateLimit, `{"events_per_second": -5}`, "zero or positive"},
			{SettingPublicURL, `<script>alert(1)</script>`, "is not an http(s) base URL"},
		} {
			res := post("/settings/"+bad.key+"?lang=zh-CN", bad.value)
			b := bodyOf(t, res)
			errText := regexp.MustCompile(`id="error-` + regexp.QuoteMeta(bad.key) + `">([^<]*)<`).FindStringSubmatch(b)
			if res.StatusCode != http.StatusBadRequest || errText == nil || !strings.HasPrefix(errText[1], "未保存：") ||
				!strings.Contains(html2text(errText[1]), strings.ReplaceAll(bad.want, `\"`, `"`)) || strings.Contains(b, "<script>alert(1)") {
				t.Errorf("%s = %q: %d %v", bad.key, bad.value, res.StatusCode, errText)
			}
			var raw any
			if set, _ := s.Setting(ctx, bad.key, &raw); set {
				t.Errorf("%s stored after a refused value: %v", bad.key, raw)
			}
		}

		for _, good := range []struct{ key, value, stored string }{
			{model.SettingTimeZone, "Asia/Singapore", `"Asia/Singapore"`},
			{collect.SettingTrustedProxies, "10.0.0.0/8\n192.0.2.7", `["10.0.0.0/8","192.0.2.7"]`},
			{collect.SettingAnonymizeIP, "false", `false`},
			{privacy.SettingRetentionDays, "365", `365`},
			{SettingPublicURL, "https://go.example.cn/", `"https://go.example.cn"`},
		} {
			res := post("/settings/"+good.key, good.value)
			if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/settings?saved="+good.key+"#setting-"+good.key {
				t.Errorf("%s = %q: %d %q %s", good.key, good.value, res.StatusCode, loc, pageText(bodyOf(t, res)))
				continue
			}
			var raw []byte
			var v any
			if set, err := s.Setting(ctx, good.key, &v); !set || err != nil {
				t.Errorf("%s not stored", good.key)
			}
			raw = []byte(compactJSON(v))
			if string(raw) != good.stored {
				t.Errorf("%s stored %s, want %s", good.key, raw, good.stored)
			}
		}
		body = bodyOf(t, e.do(t, req{target: "/settings?saved=time_zone&lang=en", cookies: []*http.Cookie{c}}))
		if !strings.Contains(body, "Team time zone saved.") || !strings.Contains(body, `value="Asia/Singapore"`) {
			t.Error("the saved time zone is not shown")
		}
		if res := post("/settings/colour", "blue"); res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown setting: %d", res.StatusCode)
		}

		// An operation: started, followed, its result in words.
		res := e.do(t, req{method: http.MethodPost, target: "/settings/operations/rescore", form: url.Values{}, cookies: []*http.Cookie{c}})
		m := regexp.MustCompile(`^/settings\?job=(\d+)#operations$`).FindStringSubmatch(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || m == nil {
			t.Fatalf("start rescore: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		j := e.waitJob(t, id)
		if j.State != model.JobSucceeded || j.Kind != "scoring.rescore" {
			t.Fatalf("rescore %+v", j)
		}
		body = bodyOf(t, e.do(t, req{target: fmt.Sprintf("/settings?job=%d&lang=en", id), cookies: []*http.Cookie{c}}))
		if !regexp.MustCompile(`id="job-summary-` + m[1] + `">\d+ people rescored with rules version \d+`).MatchString(body) {
			t.Errorf("the rescore's result in words is missing: %s", pageText(body))
		}
		if res := e.do(t, req{method: http.MethodPost, target: "/settings/operations/defragment", form: url.Values{}, cookies: []*http.Cookie{c}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown operation: %d", res.StatusCode)
		}

		// The recent jobs: the page's table, its CSV and GET /api/v1/jobs agree.
		admin := e.adminKey(t)
		var list struct {
			Jobs []jobJSON `json:"jobs"`
		}
		decodeJSON(t, e.send(t, http.MethodGet, "/api/v1/jobs?from=2020-01-01", admin, "", ""), http.StatusOK, &list)
		res = e.do(t, req{target: "/settings?from=2020-01-01&export=jobs&lang=en", cookies: []*http.Cookie{c}})
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix([]byte(bodyOf(t, res)), []byte("\uFEFF")))).ReadAll()
		if err != nil || len(list.Jobs) == 0 || len(rows) != len(list.Jobs)+1 || rows[0][1] != "Job" {
			t.Fatalf("jobs CSV %d rows, API %d jobs (%v)", len(rows), len(list.Jobs), err)
		}
		decodeJSON(t, e.send(t, http.MethodGet, "/api/v1/jobs?from=2020-01-01&to=2020-01-31", admin, "", ""), http.StatusOK, &list)
		if len(list.Jobs) != 0 {
			t.Errorf("jobs of January 2020: %d", len(list.Jobs))
		}
		var apiErr apiError
		decodeJSON(t, e.send(t, http.MethodGet, "/api/v1/jobs?from=yesterday", admin, "", ""), http.StatusBadRequest, &apiErr)

		// Administrators only.
		m2 := e.loginAs(t, model.RoleMarketer)
		if res := e.do(t, req{target: "/settings", cookies: []*http.Cookie{m2}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("a marketer opened /settings: %d", res.StatusCode)
		}
		if res := e.do(t, req{method: http.MethodPost, target: "/settings/time_zone", form: url.Values{"value": {"UTC"}}, cookies: []*http.Cookie{m2}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("a marketer saved a setting: %d", res.StatusCode)
		}
	})
}
