package web

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store/storetest"
)

// pageTwins is the JSON twin of each workspace page that has one: the API
// answering the same query with the figures the page shows.
var pageTwins = map[string]string{
	"/dashboards/marketing": "/api/v1/dashboards/marketing",
	"/dashboards/ads":       "/api/v1/dashboards/ads",
	"/dashboards/events":    "/api/v1/dashboards/events",
	"/dashboards/content":   "/api/v1/dashboards/content",
	"/dashboards/sales":     "/api/v1/dashboards/sales",
	"/persons":              "/api/v1/persons",
	"/accounts":             "/api/v1/accounts",
	"/campaigns":            "/api/v1/campaigns",
}

// detailLinks is, for a list page, the first link of its table to a
// detail page, opened as well.
var detailLinks = map[string]string{
	"/persons":   `#table-persons a[href^="/persons/"]`,
	"/accounts":  `a[href^="/accounts/"]`,
	"/campaigns": `a[href^="/campaigns/"]:not([href$="/new"])`,
}

// TestBrowserWorkspaceByRole is the workspace's proof in a real browser:
// a user of each role logs in and lands on their home page, sees exactly
// the pages their role may open, and opens every one of them (and the
// first detail page of each list) in Chinese and in English. Every
// headline figure a page shows is the figure its JSON twin answers for the
// same URL; every chart is drawn; no text is a message key left
// untranslated; no script fails and no request leaves for another host;
// a screenshot of each page is taken (kept in $REVLOOP_SCREENSHOT when
// set) and is not blank. A page of another role answers 403.
func TestBrowserWorkspaceByRole(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := chromiumPath(t)
	s := storetest.SQLite(t)
	e := newDemoEnv(t, s)
	srv, base := serveForBrowser(t, s, e.auth)
	keys := srv.catalog.keys()
	shots := os.Getenv("REVLOOP_SCREENSHOT")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	const rng = "from=2026-01-01&to=2026-06-30"
	homes := map[model.Role]string{model.RoleAdmin: "/dashboards/marketing", model.RoleMarketer: "/dashboards/marketing",
		model.RoleViewer: "/dashboards/marketing", model.RoleSales: "/dashboards/sales"}

	for _, role := range []model.Role{model.RoleAdmin, model.RoleMarketer, model.RoleSales, model.RoleViewer} {
		email := string(role) + "@roles.example"
		if _, err := e.auth.CreateUser(ctx, email, "用户 "+string(role), role, testPassword); err != nil {
			t.Fatal(err)
		}
		var allowed []string
		for _, g := range navFor(role, "") {
			for _, it := range g.Items {
				allowed = append(allowed, it.Path)
			}
		}
		for _, lang := range []string{"zh-CN", "en"} {
			t.Run(string(role)+"/"+lang, func(t *testing.T) {
				bctx := newBrowser(t, chromium, chromedp.Flag("accept-lang", lang), chromedp.WindowSize(1440, 1000))
				watch := watchPage(t, bctx, base)
				do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
					t.Helper()
					if err := chromedp.Do(bctx, actions...); err != nil {
						t.Fatalf("%s: %v", step, err)
					}
				}
				eval := func(js string) string {
					t.Helper()
					v, err := chromedp.Run(bctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
					if err != nil {
						t.Fatalf("%s: %v", js, err)
					}
					return v
				}
				do("log in", chromedp.Navigate(base+"/login?lang="+lang), chromedp.WaitVisible(chromedp.CSS("#email")),
					chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
					chromedp.Click(chromedp.CSS("#login-submit")), chromedp.WaitVisible(chromedp.CSS("#sidenav")))
				if got := eval(`location.pathname`); got != homes[role] {
					t.Errorf("landed on %s, want %s", got, homes[role])
				}
				// The navigation lists exactly the role's pages.
				var nav []string
				if err := json.Unmarshal([]byte(eval(`JSON.stringify([...document.querySelectorAll('#sidenav a')].map(a => a.getAttribute('href')))`)), &nav); err != nil {
					t.Fatal(err)
				}
				if strings.Join(nav, " ") != strings.Join(allowed, " ") {
					t.Errorf("navigation %v, want %v", nav, allowed)
				}

				open := func(path string) {
					t.Helper()
					do("open "+path, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
					checkPage(t, bctx, eval, lang, path, keys)
					if twin, ok := pageTwins[strings.SplitN(path, "?", 2)[0]]; ok {
						checkFiguresAgainstTwin(t, eval, path, twin)
					}
					screenshotPage(t, bctx, filepath.Join(shots, strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "-").Replace(string(role)+"-"+lang+path)+".png"))
				}
				for _, p := range allowed {
					path := p + "?" + rng + "&lang=" + lang
					open(path)
					if sel, ok := detailLinks[p]; ok {
						href := eval(`(document.querySelector(` + strconv.Quote(sel) + `) || {}).getAttribute?.('href') || ''`)
						if href == "" {
							t.Errorf("%s: no detail link %s", p, sel)
							continue
						}
						open(href)
					}
				}
				watch.check(t)
				// A page outside the role's navigation is refused (the
				// browser logs each refusal: checked above, not after).
				for _, g := range workspaceNav() {
					for _, it := range g.Items {
						if slices.Contains(allowed, it.Path) {
							continue
						}
						status := eval(`fetch(` + strconv.Quote(it.Path) + `).then(r => String(r.status))`)
						if status != "403" {
							t.Errorf("%s as %s: %s, want 403", it.Path, role, status)
						}
					}
				}
			})
		}
	}
}

// checkPage checks what every workspace page must hold: its language,
// every chart drawn, no message key shown as text.
func checkPage(t *testing.T, bctx context.Context, eval func(string) string, lang, path string, keys []string) {
	t.Helper()
	if got := eval(`document.documentElement.lang`); got != lang {
		t.Errorf("%s: lang %q, want %q", path, got, lang)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelectorAll('.chart[data-drawn] svg').length === document.querySelectorAll('script.chart-data').length`)); err != nil {
		t.Errorf("%s: charts not drawn: %v (%s of %s)", path, err, eval(`String(document.querySelectorAll('.chart[data-drawn]').length)`),
			eval(`String(document.querySelectorAll('script.chart-data').length)`))
	}
	body := eval(`document.body.innerText`)
	for _, k := range keys {
		if strings.Count(k, ".") >= 1 && len(k) > 6 && strings.Contains(body, k) && !strings.Contains(k, " ") {
			t.Errorf("%s: message key %q shown untranslated", path, k)
		}
	}
	if lang == "zh-CN" && !strings.ContainsAny(body, "的线索营销商机") {
		t.Errorf("%s: no Chinese on a zh-CN page", path)
	}
}

// checkFiguresAgainstTwin fetches the page's JSON twin with the page's own
// query (as the logged-in user) and checks that every headline figure the
// page shows (a KPI's raw value) is a figure of the answer.
func checkFiguresAgainstTwin(t *testing.T, eval func(string) string, path, twin string) {
	t.Helper()
	q := ""
	if i := strings.IndexByte(path, '?'); i >= 0 {
		q = path[i:]
	}
	raw := eval(`fetch(` + strconv.Quote(twin+q) + `).then(r => r.ok ? r.text() : 'HTTP ' + r.status)`)
	var answer any
	if err := json.Unmarshal([]byte(raw), &answer); err != nil {
		t.Errorf("%s: twin %s: %.200s", path, twin, raw)
		return
	}
	leaves := map[float64]bool{}
	collectNumbers(answer, leaves)
	var kpis []struct{ ID, Value string }
	if err := json.Unmarshal([]byte(eval(`JSON.stringify([...document.querySelectorAll('[data-kpi]')].map(k => ({ID: k.dataset.kpi, Value: (k.querySelector('[data-value]') || {dataset: {}}).dataset.value || ''})))`)), &kpis); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, k := range kpis {
		if k.Value == "" {
			continue // a figure with no value ("—")
		}
		v, err := strconv.ParseFloat(k.Value, 64)
		if err != nil {
			t.Errorf("%s: KPI %s raw value %q is not a number", path, k.ID, k.Value)
			continue
		}
		if !hasNumber(leaves, v) {
			t.Errorf("%s: KPI %s = %s is no figure of %s", path, k.ID, k.Value, twin)
		}
		checked++
	}
	if strings.HasPrefix(path, "/dashboards/") && checked == 0 {
		t.Errorf("%s: no headline figure checked", path)
	}
	// A list shows the rows of the twin's first page, by the same
	// names.
	list := strings.TrimPrefix(strings.SplitN(path, "?", 2)[0], "/")
	if obj, ok := answer.(map[string]any); ok && detailLinks["/"+list] != "" {
		items, ok := obj[list].([]any)
		if !ok {
			t.Errorf("%s: the twin has no list %q", path, list)
			return
		}
		rows, _ := strconv.Atoi(eval(`String(document.querySelectorAll('#table-` + list + ` tbody tr').length)`))
		if rows != len(items) {
			t.Errorf("%s: %d table rows, the twin lists %d", path, rows, len(items))
		}
		body := eval(`document.querySelector('#table-` + list + `').innerText`)
		for i, it := range items {
			m, _ := it.(map[string]any)
			// In English a campaign shows its English name when it has one.
			name, _ := m["name"].(string)
			if en, _ := m["name_en"].(string); en != "" && strings.Contains(path, "lang=en") {
				name = en
			}
			if name != "" && !strings.Contains(body, name) {
				t.Errorf("%s: row %d of the twin (%q) is not in the table", path, i, name)
			}
		}
	}
}

// collectNumbers gathers every number of a JSON value, those written as
// strings (amounts in yuan) included.
func collectNumbers(v any, into map[float64]bool) {
	switch x := v.(type) {
	case float64:
		into[x] = true
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			into[f] = true
		}
	case []any:
		for _, y := range x {
			collectNumbers(y, into)
		}
	case map[string]any:
		for _, y := range x {
			collectNumbers(y, into)
		}
	}
}

func hasNumber(set map[float64]bool, v float64) bool {
	if set[v] {
		return true
	}
	for x := range set {
		if math.Abs(x-v) <= 1e-9*math.Max(1, math.Abs(v)) {
			return true
		}
	}
	return false
}

// screenshotPage saves a screenshot of the whole page and checks that it shows
// something: a blank or single-colour page is a failure.
func screenshotPage(t *testing.T, bctx context.Context, path string) {
	t.Helper()
	b, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if img, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("%s: screenshot: %v", path, err)
	} else {
		colours := map[uint32]bool{}
		r := img.Bounds()
		for y := r.Min.Y; y < r.Max.Y; y += 7 {
			for x := r.Min.X; x < r.Max.X; x += 7 {
				cr, cg, cb, _ := img.At(x, y).RGBA()
				colours[cr>>8<<16|cg>>8<<8|cb>>8] = true
			}
		}
		if len(colours) < 8 {
			t.Errorf("%s: screenshot has %d colours", path, len(colours))
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
