package web

import (
	"bytes"
	"encoding/csv"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

var (
	tableRe  = regexp.MustCompile(`(?s)<table class="data" id="table-([\w-]+)".*?</thead>`)
	thRe     = regexp.MustCompile(`<th scope="col" data-col="([\w.-]+)"`)
	sortRe   = regexp.MustCompile(`<a href="([^"]+)" class="sort">`)
	exportRe = regexp.MustCompile(`<a class="btn btn-quiet btn-small export" href="([^"]+)" download data-export="([\w-]+)">`)
	xlsxRe   = regexp.MustCompile(`<a class="btn btn-quiet btn-small export" href="([^"]+)" download data-export-xlsx="([\w-]+)">`)
	ariaRe   = regexp.MustCompile(`data-col="([\w.-]+)"[^>]*aria-sort="(ascending|descending)"`)
)

// TestEveryTableSortsAndExports opens every page of the workspace as an
// administrator over the demo data, with a date range, and the first
// detail page of each list: every table on them sorts by each of its
// sortable columns (the page answers 200 and marks that column sorted,
// keeping the range) and exports a CSV that Excel opens (UTF-8 with a
// byte-order mark) with one heading per column of the table, and an XLSX
// workbook that holds the same cells (numbers as numbers) under a frozen
// heading.
func TestEveryTableSortsAndExports(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newDemoEnv(t, s)
		session := []*http.Cookie{e.loginAs(t, model.RoleAdmin)}
		get := func(target string) (*http.Response, string) {
			t.Helper()
			res := e.do(t, req{target: target, cookies: session})
			return res, bodyOf(t, res)
		}
		const rng = "from=2026-01-01&to=2026-06-30"
		pages := []string{}
		for _, g := range navFor(model.RoleAdmin, "") {
			for _, it := range g.Items {
				pages = append(pages, it.Path+"?"+rng)
			}
		}
		tables := 0
		for i := 0; i < len(pages); i++ {
			page := pages[i]
			res, body := get(page)
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s: %d", page, res.StatusCode)
				continue
			}
			if _, ok := detailLinks[strings.SplitN(page, "?", 2)[0]]; ok {
				// The first detail page of a list is checked too.
				if m := regexp.MustCompile(`href="(` + regexp.QuoteMeta(strings.SplitN(page, "?", 2)[0]) + `/\d+)[^"]*"`).FindStringSubmatch(body); m != nil {
					pages = append(pages, m[1]+"?"+rng)
				} else {
					t.Errorf("%s: no detail link", page)
				}
			}
			exports, workbooks := map[string]string{}, map[string]string{}
			for _, m := range exportRe.FindAllStringSubmatch(body, -1) {
				exports[m[2]] = html.UnescapeString(m[1])
			}
			for _, m := range xlsxRe.FindAllStringSubmatch(body, -1) {
				workbooks[m[2]] = html.UnescapeString(m[1])
			}
			for _, m := range tableRe.FindAllStringSubmatch(body, -1) {
				id, head := m[1], m[0]
				tables++
				cols := thRe.FindAllStringSubmatch(head, -1)
				href, ok := exports[id]
				if !ok {
					t.Errorf("%s: table %s has no CSV export", page, id)
				} else {
					if !strings.Contains(href, "from=2026-01-01") {
						t.Errorf("%s: table %s exports without the range: %s", page, id, href)
					}
					res, csvText := get(href)
					if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
						t.Errorf("%s: export of %s: %d %s", page, id, res.StatusCode, res.Header.Get("Content-Type"))
					} else if !strings.HasPrefix(csvText, "\ufeff") {
						t.Errorf("%s: export of %s has no byte-order mark", page, id)
					} else if recs, err := csv.NewReader(bytes.NewReader([]byte(strings.TrimPrefix(csvText, "\ufeff")))).ReadAll(); err != nil || len(recs) == 0 || len(recs[0]) < len(cols) {
						t.Errorf("%s: export of %s: %q (%v), the table has %d columns", page, id, recs, err, len(cols))
					} else if href, ok := workbooks[id]; !ok {
						t.Errorf("%s: table %s has no XLSX export", page, id)
					} else if href != exports[id]+"&format=xlsx" && !strings.Contains(href, "format=xlsx") {
						t.Errorf("%s: XLSX export of %s: %s", page, id, href)
					} else {
						res, body := get(href)
						if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != xlsxContentType {
							t.Errorf("%s: XLSX export of %s: %d %s", page, id, res.StatusCode, res.Header.Get("Content-Type"))
						} else {
							d := openXLSX(t, []byte(body))
							if sheets := d.sheets(); len(sheets) != 1 || !d.frozenHeading(sheets[0]) {
								t.Errorf("%s: XLSX export of %s: sheets %q, heading frozen: %v", page, id, sheets, len(sheets) == 1 && d.frozenHeading(sheets[0]))
							} else {
								sameAsCSV(t, page+" "+id, recs, d, sheets[0])
							}
						}
					}
				}
				for _, sm := range sortRe.FindAllStringSubmatch(head, -1) {
					href := html.UnescapeString(sm[1])
					res, sorted := get(href)
					if res.StatusCode != http.StatusOK {
						t.Errorf("%s: sort %s: %d", page, href, res.StatusCode)
						continue
					}
					if !strings.Contains(href, "from=2026-01-01") {
						t.Errorf("%s: sorting %s drops the range: %s", page, id, href)
					}
					col := ""
					for _, kv := range strings.Split(href[strings.IndexByte(href, '?')+1:], "&") {
						if v, ok := strings.CutPrefix(kv, id+"_sort="); ok {
							col = v
						}
					}
					var marked bool
					if tm := regexp.MustCompile(`(?s)<table class="data" id="table-` + regexp.QuoteMeta(id) + `".*?</thead>`).FindString(sorted); tm != "" {
						for _, a := range ariaRe.FindAllStringSubmatch(tm, -1) {
							marked = marked || a[1] == col
						}
					}
					if !marked {
						t.Errorf("%s: after %s, column %q of %s is not marked sorted", page, href, col, id)
					}
				}
			}
		}
		t.Logf("%d tables on %d pages", tables, len(pages))
		if tables < 25 {
			t.Errorf("only %d tables found on %d pages", tables, len(pages))
		}
	})
}
