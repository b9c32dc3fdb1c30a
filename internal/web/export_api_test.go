package web

import (
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The twins' files read back and held against the twins' JSON: each
// sheet's cells against the JSON rows they come from, by kind: counts as
// integers with #,##0, money as yuan with the CNY format, rates as
// fractions with 0.0%, days and times as dates in the team's zone, text
// as the JSON says it (escaped where it could start a formula).

// twinSheet says how a sheet of a twin's workbook follows from its JSON.
type twinSheet struct {
	sheet string   // the sheet's name (English)
	rows  string   // gjson path of the JSON rows
	total string   // gjson path of the total row's object ("" for none)
	cols  []string // per column "field:kind"; see expectCell
	// totalCols are the total row's columns when they differ from cols
	// (the first, its label, is never compared).
	totalCols []string
}

// twinCheck holds what the expectations need: the team's zone and the
// language of the files.
type twinCheck struct {
	t   *testing.T
	loc *time.Location
	l   Locale
}

// expect is what a cell must hold: "" for empty, else its value in the
// form key gives, and its number format ("@" for text).
type expect struct{ value, format string }

// expectCell is the cell a JSON value makes in a column of kind:
//
//	int, num (a decimal), money, pct, ratio, days: a number
//	min: seconds shown as minutes; day: a YYYY-MM-DD date or the day of an
//	instant in the team's zone; time: an instant in the team's zone
//	text: the string; chan, stage: a channel's or stage's name
//	none: empty; skip: anything
func (c twinCheck) expectCell(kind string, v gjson.Result) expect {
	if kind == "skip" {
		return expect{"*", "*"}
	}
	if !v.Exists() || v.Type == gjson.Null || kind == "none" {
		return expect{}
	}
	num := func(x float64, f string) expect { return expect{strconv.FormatFloat(x, 'g', 12, 64), f} }
	switch kind {
	case "int":
		return num(v.Float(), "#,##0")
	case "num":
		return num(v.Float(), "#,##0.0")
	case "money":
		return num(v.Float(), `"¥"#,##0.00`)
	case "pct":
		return num(v.Float(), "0.0%")
	case "ratio":
		return num(v.Float(), `0.00"×"`)
	case "days":
		return num(v.Float(), "0.0")
	case "min":
		return num(v.Float()/60, "#,##0.0")
	case "day":
		s := v.String()
		if len(s) > 10 {
			tm, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				c.t.Fatalf("day %q: %v", s, err)
			}
			s = tm.In(c.loc).Format(dateLayout)
		}
		return expect{s, "yyyy-mm-dd"}
	case "time":
		tm, err := time.Parse(time.RFC3339Nano, v.String())
		if err != nil {
			c.t.Fatalf("time %q: %v", v.String(), err)
		}
		return expect{tm.In(c.loc).Format("2006-01-02 15:04:05"), "yyyy-mm-dd hh:mm"}
	}
	s := v.String()
	switch kind {
	case "chan":
		s = channelText(c.l, model.Channel(s))
	case "stage":
		s = c.l.Stage(model.Stage(s))
	case "text":
	default:
		c.t.Fatalf("unknown kind %q", kind)
	}
	if s == "" {
		return expect{}
	}
	return expect{safeSpreadsheetText(s), "@"}
}

// shown is a workbook cell in the form of expect.
func shown(c xlsxCell) expect {
	switch {
	case c.Raw == "":
		return expect{}
	case !c.Number:
		return expect{c.Raw, c.Format}
	case c.Format == "yyyy-mm-dd":
		return expect{c.time().Format(dateLayout), c.Format}
	case c.Format == "yyyy-mm-dd hh:mm":
		return expect{c.time().Round(time.Second).Format("2006-01-02 15:04:05"), c.Format}
	}
	return expect{strconv.FormatFloat(c.Num, 'g', 12, 64), c.Format}
}

// sameCell compares with a little room for the last digits of a decimal
// (Excel keeps 15 significant digits).
func sameCell(want, got expect) bool {
	if want.value == "*" {
		return true
	}
	if want.format != got.format {
		return false
	}
	if want.value == got.value {
		return true
	}
	a, errA := strconv.ParseFloat(want.value, 64)
	b, errB := strconv.ParseFloat(got.value, 64)
	return errA == nil && errB == nil && math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(a))
}

// rowOf is what a JSON row makes of a sheet row.
func (c twinCheck) rowOf(cols []string, row gjson.Result) []expect {
	out := make([]expect, len(cols))
	for i, col := range cols {
		field, kind, _ := strings.Cut(col, ":")
		out[i] = c.expectCell(kind, row.Get(field))
	}
	return out
}

// sheetRow reads a sheet's row r (1-based) as n cells.
func sheetRow(d *xlsxDoc, sheet string, r, n int) ([]expect, []xlsxCell) {
	out, cells := make([]expect, n), make([]xlsxCell, n)
	for i := range n {
		cells[i] = d.cell(sheet, i+1, r)
		out[i] = shown(cells[i])
	}
	return out, cells
}

func rowsMatch(want, got []expect) bool {
	for i := range want {
		if !sameCell(want[i], got[i]) {
			return false
		}
	}
	return true
}

// sheetAgrees checks a sheet against the JSON: a heading per column, one
// row per JSON row (in any order, the sheet being sorted as the page),
// the total row last and bold.
func (c twinCheck) sheetAgrees(what string, d *xlsxDoc, doc gjson.Result, s twinSheet) {
	t := c.t
	t.Helper()
	if !slices.Contains(d.sheets(), s.sheet) {
		t.Errorf("%s: no sheet %q in %q", what, s.sheet, d.sheets())
		return
	}
	if !d.frozenHeading(s.sheet) {
		t.Errorf("%s %s: heading not frozen", what, s.sheet)
	}
	rows := d.rows(s.sheet)
	if len(rows) == 0 || len(rows[0]) != len(s.cols) {
		t.Errorf("%s %s: heading %q, want %d columns", what, s.sheet, rows, len(s.cols))
		return
	}
	jrows := doc.Get(s.rows).Array()
	n := len(jrows)
	if s.total != "" && n > 0 {
		n++
	}
	if len(rows)-1 != n {
		t.Errorf("%s %s: %d rows, the JSON has %d (with the total)", what, s.sheet, len(rows)-1, n)
		return
	}
	used := make([]bool, len(jrows))
	for r := 2; r <= len(jrows)+1; r++ {
		got, _ := sheetRow(d, s.sheet, r, len(s.cols))
		found := false
		for j, jr := range jrows {
			if !used[j] && rowsMatch(c.rowOf(s.cols, jr), got) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("%s %s: row %d %v matches no JSON row; the first: %v", what, s.sheet, r, got, c.rowOf(s.cols, jrows[0]))
			return
		}
	}
	if s.total == "" || len(jrows) == 0 {
		return
	}
	cols := s.cols
	if s.totalCols != nil {
		cols = s.totalCols
	}
	want := c.rowOf(cols, doc.Get(s.total))
	want[0] = expect{"*", "*"}
	got, cells := sheetRow(d, s.sheet, len(jrows)+2, len(cols))
	if !rowsMatch(want, got) {
		t.Errorf("%s %s: total %v, want %v", what, s.sheet, got, want)
	}
	for i, x := range cells {
		if x.Raw != "" && !x.Bold {
			t.Errorf("%s %s: total cell %d not bold", what, s.sheet, i+1)
		}
	}
}

// twinFiles gets a twin's JSON, XLSX and CSV answers.
func twinFiles(t *testing.T, e *env, key, target string) (gjson.Result, *xlsxDoc, [][]string) {
	t.Helper()
	get := func(format string) *http.Response {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		return e.do(t, req{target: target + sep + "lang=en" + format, header: map[string]string{"Authorization": "Bearer " + key}})
	}
	res := get("")
	body := bodyOf(t, res)
	if res.StatusCode != http.StatusOK || !gjson.Valid(body) {
		t.Fatalf("%s: %d %.300s", target, res.StatusCode, body)
	}
	res = get("&format=xlsx")
	xb := bodyOf(t, res)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != xlsxContentType || !strings.Contains(res.Header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("%s xlsx: %d %v %.300s", target, res.StatusCode, res.Header, xb)
	}
	res = get("&format=csv")
	cb := bodyOf(t, res)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(cb, "\uFEFF") {
		t.Fatalf("%s csv: %d %v %.300s", target, res.StatusCode, res.Header, cb)
	}
	return gjson.Parse(body), openXLSX(t, []byte(xb)), readCSV(t, cb)
}

// TestTwinFilesAgreeWithJSON asks every dashboard and list twin for its
// JSON, its workbook and its CSV over the demo data, on both engines:
// every sheet's cells are the JSON's figures, the CSV is the workbook's
// first sheet, and names that could start a formula come out escaped.
func TestTwinFilesAgreeWithJSON(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newDemoEnv(t, s)
		key, _, err := e.auth.CreateAPIKey(ctx, "files", model.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		cal, err := s.Calendar(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Names from user data that a spreadsheet would run as formulas.
		hostile := []string{`=HYPERLINK("http://evil.example","open")`, "+1", "-2", "@x"}
		campaign := sqlCount(t, s, "SELECT MIN(id) FROM campaigns WHERE channel = 'paid_search' AND parent_id IS NULL")
		sqlExec(t, s, "UPDATE campaigns SET name = ?, name_en = ? WHERE id = ?", hostile[0], hostile[0], campaign)
		for i, name := range hostile {
			id := sqlCount(t, s, "SELECT MIN(id) FROM persons WHERE lead_at IS NOT NULL AND first_seen_at >= '2026-05-01'") + int64(i)
			sqlExec(t, s, "UPDATE persons SET name = ? WHERE id = ?", name, id)
		}
		sqlExec(t, s, "UPDATE accounts SET name_en = ? WHERE id = (SELECT MIN(id) FROM accounts)", hostile[3])
		c := twinCheck{t: t, loc: cal.Loc, l: e.srv.catalog.locale(LangEN)}
		const rng = "from=2026-01-01&to=2026-06-30"

		adsCols := []string{"spend:money", "impressions:int", "clicks:int", "ctr:pct", "cpc:money", "leads:int", "cpl:money", "mqls:int",
			"cost_per_mql:money", "sqls:int", "cost_per_sql:money", "credited_pipeline:money", "credited_won_revenue:money", "roas:ratio", "roi:ratio"}
		eventCols := []string{"registrations:int", "attendances:int", "attendance_rate:pct", "avg_watch_minutes:num", "long_view_share:pct",
			"leads:int", "mqls:int", "sqls:int", "credited_pipeline:money", "influenced_pipeline:money", "won_revenue:money", "cost:money",
			"cost_per_lead:money", "cost_per_attendee:money", "roas:ratio"}
		contentCols := []string{"views:int", "downloads:int", "download_rate:pct", "leads:int", "mqls:int", "effective_lead_rate:pct", "credited_pipeline:money"}
		campaignCols := []string{"name:skip", "code:text", "channel:chan", "kind:skip", "start_date:day", "end_date:day", "owner:text", "parent:text",
			"budget:money", "cost:money", "leads:int", "mqls:int", "sqls:int", "credited_pipeline:money", "credited_won_revenue:money",
			"influenced_pipeline:money", "roas:ratio", "roi:ratio", "cpl:money"}
		ownerCols := []string{"name:skip", "team:text", "capacity:int", "open:int", "overdue:int", "due:int", "within_sla:int", "compliance:pct",
			"breached:int", "median_business_hours:num", "accepted:int", "rejected:int"}
		twins := []struct {
			target string
			sheets []twinSheet
		}{
			{"/api/v1/dashboards/marketing?" + rng, []twinSheet{
				{sheet: "Funnel", rows: "funnel.steps", total: "funnel", cols: []string{"stage:stage", "count:int", "rate:pct", "velocity_days:days"},
					totalCols: []string{"-:skip", "-:none", "overall_rate:pct", "-:none"}},
				{sheet: "By month", rows: "trend", cols: []string{"month:text", "spend:money", "leads:int", "pipeline_created:money", "won_revenue:money"}},
				{sheet: "Channel mix", rows: "channels", total: "channel_total", cols: []string{"channel:chan", "leads:int", "spend:money",
					"credited_opportunities:num", "credited_pipeline:money", "credited_won_deals:num", "credited_won_revenue:money", "roas:ratio",
					"influenced_pipeline:money", "influenced_won_revenue:money"}},
			}},
			{"/api/v1/dashboards/ads?" + rng, []twinSheet{
				{sheet: "By platform", rows: "rows", total: "total", cols: append([]string{"name:skip"}, adsCols...)},
				{sheet: "Trend", rows: "trend", cols: []string{"start:text", "spend:money", "impressions:int", "clicks:int", "leads:int", "mqls:int", "cpl:money"}},
				{sheet: "Best", rows: "best_keywords", cols: []string{"name:text", "spend:money", "clicks:int", "leads:int", "cpl:money", "mqls:int", "cost_per_mql:money"}},
				{sheet: "Worst", rows: "worst_keywords", cols: []string{"name:text", "spend:money", "clicks:int", "leads:int", "cpl:money", "mqls:int", "cost_per_mql:money"}},
			}},
			{"/api/v1/dashboards/events?" + rng, []twinSheet{
				{sheet: "Events", rows: "events", total: "total", cols: append(append([]string{"name:skip", "kind:skip", "date:skip"}, eventCols...), "code:text"),
					totalCols: append(append([]string{"-:skip", "-:none", "-:none"}, eventCols...), "-:none")},
				{sheet: "Month by month", rows: "months", cols: []string{"month:text", "registrations:int", "attendances:int", "watch_seconds:min",
					"leads:int", "mqls:int", "credited_pipeline:money", "won_revenue:money", "cost:money"}},
			}},
			{"/api/v1/dashboards/content?" + rng, []twinSheet{
				{sheet: "Assets", rows: "assets", total: "total", cols: append(append([]string{"title:skip", "kind:skip"}, contentCols...),
					"influenced_pipeline:money", "influenced_opportunities:int")},
				{sheet: "By kind of asset", rows: "kinds", total: "total", cols: append([]string{"kind:skip", "assets:int"}, contentCols...),
					totalCols: append([]string{"-:skip", "-:skip"}, contentCols...)},
				{sheet: "Month by month", rows: "months", cols: []string{"month:text", "views:int", "downloads:int", "leads:int", "mqls:int", "credited_pipeline:money"}},
			}},
			{"/api/v1/dashboards/sales?" + rng + "&queue=team", []twinSheet{
				{sheet: "Team queue", rows: "queue.rows", cols: []string{"name:skip", "stage:stage", "user_name:skip", "assigned_at:time", "due_at:time", "sla_state:skip"}},
				{sheet: "By owner", rows: "owners", total: "owners_total", cols: ownerCols,
					totalCols: append([]string{"-:skip", "-:none", "-:none"}, ownerCols[3:]...)},
				{sheet: "Open leads by grade", rows: "open_leads.grades", total: "open_leads", cols: []string{"value:skip", "count:int", "share:skip"},
					totalCols: []string{"-:skip", "total:int", "-:none"}},
			}},
			{"/api/v1/campaigns?" + rng, []twinSheet{
				{sheet: "Every campaign", rows: "campaigns", total: "total", cols: campaignCols,
					totalCols: append(append(slices.Repeat([]string{"-:skip"}, 9), campaignCols[9:15]...), "-:none", "roas:ratio", "roi:ratio", "cpl:money")},
				{sheet: "Programmes (subtotals)", rows: "programmes", cols: campaignCols},
			}},
			{"/api/v1/links/report?" + rng, []twinSheet{
				{sheet: "Links", rows: "links", total: "total", cols: []string{"short_url:text", "campaign:skip", "channel:chan", "target_url:text", "utm_source:skip",
					"promoter:skip", "created_at:day", "clicks:int", "leads:int", "revoked_at:skip"},
					totalCols: append(append([]string{"-:skip"}, slices.Repeat([]string{"-:none"}, 6)...), "clicks:int", "leads:int", "-:none")},
			}},
			{"/api/v1/imports/history?" + rng, []twinSheet{
				{sheet: "Past imports", rows: "imports", cols: []string{"created_at:time", "kind:skip", "file_name:text", "state:skip", "rows_read:int",
					"rows_new:int", "rows_updated:int", "rows_same:int", "rows_skipped:int", "bad_rows:int", "created_by:text"}},
			}},
		}
		sheets := 0
		for _, tw := range twins {
			doc, d, recs := twinFiles(t, e, key, tw.target)
			for _, sh := range tw.sheets {
				c.sheetAgrees(tw.target, d, doc, sh)
				sheets++
			}
			// The CSV is the first table, as the first sheet holds it.
			sameAsCSV(t, tw.target+" csv", recs, d, d.sheets()[0])
		}

		// The hostile campaign name is escaped in every file that shows it.
		_, d, _ := twinFiles(t, e, key, "/api/v1/campaigns?"+rng)
		if !sheetHolds(d, "Every campaign", "'"+hostile[0]) || sheetHolds(d, "Every campaign", hostile[0]) {
			t.Errorf("campaign name not escaped: %q", d.rows("Every campaign")[1:4])
		}

		// The lists: every row the filters match, in the list's order.
		const all = "from=2025-01-01&to=2026-06-30"
		persons := pagedJSON(t, e, key, "/api/v1/persons?"+all+"&limit=200", "persons")
		if len(persons) <= listExportChunk {
			t.Fatalf("%d persons: the export should span chunks", len(persons))
		}
		_, d, recs := twinFiles(t, e, key, "/api/v1/persons?"+all)
		c.listAgrees("persons", d, "People", persons, func(p gjson.Result) []expect {
			name := personName(c.l, p.Get("id").Int(), p.Get("name").String(), p.Get("email").String())
			owner := p.Get("owner.name").String()
			if owner == "" {
				owner = p.Get("owner.email").String()
			}
			return append([]expect{c.expectCell("text", gjson.Parse(strconv.Quote(name))), c.expectCell("text", p.Get("email")),
				c.expectCell("text", p.Get("account.name")), c.expectCell("stage", p.Get("stage")), c.expectCell("text", p.Get("grade")),
				c.expectCell("num", p.Get("score")), c.expectCell("text", gjson.Parse(strconv.Quote(owner))), c.expectCell("chan", p.Get("first_touch_channel"))},
				c.expectCell("day", p.Get("lead_at")), c.expectCell("day", p.Get("first_seen_at")))
		})
		sameAsCSV(t, "persons csv", recs, d, "People")
		for _, name := range hostile[1:] {
			if !sheetHolds(d, "People", "'"+name) || sheetHolds(d, "People", name) {
				t.Errorf("person %q not escaped", name)
			}
		}

		accounts := pagedJSON(t, e, key, "/api/v1/accounts?"+rng+"&limit=500", "accounts")
		_, d, recs = twinFiles(t, e, key, "/api/v1/accounts?"+rng)
		c.listAgrees("accounts", d, "Accounts", accounts, func(a gjson.Result) []expect {
			name := campaignName(c.l, a.Get("name").String(), a.Get("name_en").String())
			region := strings.TrimSpace(strings.Trim(a.Get("region").String()+" · "+a.Get("city").String(), " ·"))
			out := []expect{c.expectCell("text", gjson.Parse(strconv.Quote(name)))}
			for _, f := range []string{"domain", "industry", "size"} {
				out = append(out, c.expectCell("text", a.Get(f)))
			}
			out = append(out, c.expectCell("text", gjson.Parse(strconv.Quote(region))), c.expectCell("text", a.Get("tier")), c.expectCell("text", a.Get("owner")))
			for _, f := range []string{"people:int", "leads:int", "mqls:int", "open_pipeline:money", "won_revenue:money", "last_touch_at:time", "engagement:int"} {
				field, kind, _ := strings.Cut(f, ":")
				out = append(out, c.expectCell(kind, a.Get(field)))
			}
			return out
		})
		sameAsCSV(t, "accounts csv", recs, d, "Accounts")
		if !sheetHolds(d, "Accounts", "'"+hostile[3]) {
			t.Errorf("account name not escaped")
		}
		t.Logf("%d sheets, %d persons, %d accounts", sheets, len(persons), len(accounts))

		// A campaign's workbook: its tables and every member of the range.
		camp := sqlCount(t, s, `SELECT campaign_id FROM touchpoints WHERE campaign_id IS NOT NULL AND person_id IS NOT NULL
			GROUP BY campaign_id ORDER BY COUNT(DISTINCT person_id) DESC, campaign_id LIMIT 1`)
		members := pagedJSON(t, e, key, fmt.Sprintf("/api/v1/campaigns/%d/members?%s&limit=500", camp, all), "members")
		memberRow := func(m gjson.Result) []expect {
			name := cmpOr(m.Get("name").String(), cmpOr(m.Get("email").String(), "#"+m.Get("person_id").String()))
			how := map[string]int64{}
			m.Get("how").ForEach(func(k, v gjson.Result) bool { how[k.String()] = v.Int(); return true })
			return []expect{c.expectCell("text", gjson.Parse(strconv.Quote(name))), c.expectCell("text", m.Get("account")),
				c.expectCell("stage", m.Get("stage")), c.expectCell("text", gjson.Parse(strconv.Quote(touchTypesText(c.l, how)))),
				c.expectCell("int", m.Get("touches")), c.expectCell("time", m.Get("first_touch_at")), c.expectCell("time", m.Get("last_touch_at"))}
		}
		doc, d, recs := twinFiles(t, e, key, fmt.Sprintf("/api/v1/campaigns/%d?%s", camp, all))
		if got := d.sheets(); !slices.Equal(got, []string{"Campaigns in this programme", "Ad groups and keywords", "Content assets", "Tracked links and QR codes", "Members"}) {
			t.Errorf("campaign sheets %q", got)
		}
		if doc.Get("members").Int() != int64(len(members)) || len(members) < 2 {
			t.Errorf("%d members in the JSON, %d paged", doc.Get("members").Int(), len(members))
		}
		c.listAgrees("campaign members", d, "Members", members, memberRow)
		sameAsCSV(t, "campaign csv", recs, d, d.sheets()[0])
		_, d, recs = twinFiles(t, e, key, fmt.Sprintf("/api/v1/campaigns/%d/members?%s", camp, all))
		c.listAgrees("members", d, "Members", members, memberRow)
		sameAsCSV(t, "members csv", recs, d, "Members")
		session := []*http.Cookie{e.loginAs(t, model.RoleViewer)}
		res := e.do(t, req{target: fmt.Sprintf("/campaigns/%d?%s&export=members&format=xlsx&lang=en", camp, all), cookies: session})
		c.listAgrees("members page export", openXLSX(t, []byte(bodyOf(t, res))), "Members", members, memberRow)

		// An account's workbook: its people, opportunities and orders.
		acct := sqlCount(t, s, "SELECT account_id FROM orders GROUP BY account_id ORDER BY COUNT(*) DESC, account_id LIMIT 1")
		doc, d, _ = twinFiles(t, e, key, fmt.Sprintf("/api/v1/accounts/%d?%s", acct, all))
		for sheet, path := range map[string]string{"People": "people", "Opportunities": "opportunities", "Orders": "orders"} {
			if n := len(doc.Get(path).Array()); n == 0 || len(d.rows(sheet)) != n+1 {
				t.Errorf("account %d: %d %s in the JSON, sheet %q has %d rows", acct, n, path, sheet, len(d.rows(sheet)))
			}
		}
		c.sheetAgrees("account", d, doc, twinSheet{sheet: "Opportunities", rows: "opportunities", cols: []string{"name:text", "stage:skip",
			"amount:money", "created_at:day", "closed_at:day", "owner:text", "primary_contact:text", "primary_contact_first_touch_channel:chan",
			"first_touch_model_channel:chan"}})

		// Over the bound, an export holds the first rows and says so.
		e.srv.exportMax = 500
		for _, f := range []string{"csv", "xlsx"} {
			res := e.do(t, req{target: "/api/v1/persons?" + all + "&lang=en&format=" + f, header: map[string]string{"Authorization": "Bearer " + key}})
			body := bodyOf(t, res)
			if h := res.Header.Get(truncatedHeader); h != fmt.Sprintf("500 of %d rows", len(persons)) {
				t.Errorf("%s: %s %q", f, truncatedHeader, h)
			}
			if f == "csv" {
				if recs := readCSV(t, body); len(recs) != 501 {
					t.Errorf("cut CSV: %d lines", len(recs))
				}
				continue
			}
			rows := openXLSX(t, []byte(body)).rows("People")
			note := fmt.Sprintf("The export (CSV or Excel) holds the first 500 of these %s people, in this order. Narrow the filters to export the rest.", formatInt(int64(len(persons))))
			if len(rows) != 503 || len(rows[501]) != 0 || len(rows[502]) != 1 || rows[502][0] != note {
				t.Errorf("cut workbook: %d rows, the last %q", len(rows), rows[len(rows)-1])
			}
		}
	})
}

// listAgrees checks a list's sheet row by row, in order, against the JSON
// items of the list paged through.
func (c twinCheck) listAgrees(what string, d *xlsxDoc, sheet string, items []gjson.Result, row func(gjson.Result) []expect) {
	t := c.t
	t.Helper()
	rows := d.rows(sheet)
	if len(rows) != len(items)+1 {
		t.Errorf("%s: %d rows, the JSON has %d", what, len(rows)-1, len(items))
		return
	}
	bad := 0
	for i, it := range items {
		want := row(it)
		got, _ := sheetRow(d, sheet, i+2, len(want))
		if !rowsMatch(want, got) {
			if bad++; bad <= 3 {
				t.Errorf("%s: row %d is %v, the JSON's %v", what, i+2, got, want)
			}
		}
	}
}

// pagedJSON follows a list's cursors and returns its items.
func pagedJSON(t *testing.T, e *env, key, target, items string) []gjson.Result {
	t.Helper()
	var out []gjson.Result
	cursor := ""
	for range 1000 {
		u := target
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		res := e.do(t, req{target: u, header: map[string]string{"Authorization": "Bearer " + key}})
		body := bodyOf(t, res)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", u, res.StatusCode, body)
		}
		doc := gjson.Parse(body)
		out = append(out, doc.Get(items).Array()...)
		if cursor = doc.Get("next_cursor").String(); cursor == "" {
			return out
		}
	}
	t.Fatal("too many pages")
	return nil
}

func sheetHolds(d *xlsxDoc, sheet, value string) bool {
	for _, row := range d.rows(sheet) {
		if slices.Contains(row, value) {
			return true
		}
	}
	return false
}

func readCSV(t *testing.T, body string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	return recs
}

// TestTwinFormatsRefused: an unknown format or table is a 400 that names
// what is accepted; a page's export of an unknown format is a 400 page.
func TestTwinFormatsRefused(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		key, _, err := e.auth.CreateAPIKey(ctx, "admin", model.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		api := func(target string) *http.Response {
			return e.do(t, req{target: target, header: map[string]string{"Authorization": "Bearer " + key}})
		}
		for _, target := range []string{"/api/v1/dashboards/marketing", "/api/v1/dashboards/ads", "/api/v1/dashboards/events", "/api/v1/dashboards/content",
			"/api/v1/dashboards/sales?queue=team", "/api/v1/persons", "/api/v1/accounts", "/api/v1/campaigns", "/api/v1/campaigns/1", "/api/v1/campaigns/1/members",
			"/api/v1/accounts/1", "/api/v1/imports/history"} {
			sep := "?"
			if strings.Contains(target, "?") {
				sep = "&"
			}
			res := api(target + sep + "format=pdf")
			if body := bodyOf(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `format \"pdf\": want json, csv or xlsx`) {
				t.Errorf("%s format=pdf: %d %s", target, res.StatusCode, body)
			}
			for _, f := range []string{"csv", "xlsx", "JSON", ""} {
				if res := api(target + sep + "format=" + f); res.StatusCode != http.StatusOK {
					t.Errorf("%s format=%s: %d %s", target, f, res.StatusCode, bodyOf(t, res))
				}
			}
		}
		res := api("/api/v1/dashboards/marketing?format=csv&table=nope")
		if body := bodyOf(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `table \"nope\": want one of funnel, trend, channels`) {
			t.Errorf("unknown table: %d %s", res.StatusCode, body)
		}
		res = api("/api/v1/dashboards/marketing?format=xlsx&table=channels")
		if d := openXLSX(t, []byte(bodyOf(t, res))); len(d.sheets()) != 1 {
			t.Errorf("one table asked, sheets %q", d.sheets())
		}
		res = api("/api/v1/dashboards/marketing?format=csv&table=trend&lang=zh-CN")
		if body := bodyOf(t, res); !strings.HasPrefix(body, "\uFEFF月份,") || !strings.Contains(res.Header.Get("Content-Disposition"), "marketing-trend-") {
			t.Errorf("CSV of the trend in Chinese: %v %.80q", res.Header, body)
		}
		if res := api("/api/v1/campaigns/999?format=xlsx"); res.StatusCode != http.StatusNotFound {
			t.Errorf("missing campaign: %d", res.StatusCode)
		}
		c := e.loginAs(t, model.RoleAdmin)
		res = e.do(t, req{target: "/dashboards/marketing?export=channels&format=pdf", cookies: []*http.Cookie{c}, header: map[string]string{"Accept-Language": "en"}})
		if body := bodyOf(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "use csv or xlsx") {
			t.Errorf("page export format=pdf: %d", res.StatusCode)
		}
		res = e.do(t, req{target: "/dashboards/marketing?export=channels&format=json", cookies: []*http.Cookie{c}})
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("page export format=json: %d", res.StatusCode)
		}
		res = e.do(t, req{target: "/dashboards/marketing?export=channels&format=xlsx&lang=zh-CN", cookies: []*http.Cookie{c}})
		d := openXLSX(t, []byte(bodyOf(t, res)))
		if sheets := d.sheets(); len(sheets) != 1 || sheets[0] != "渠道贡献" {
			t.Errorf("sheets of the channels in Chinese: %q", sheets)
		}
		if !strings.Contains(res.Header.Get("Content-Disposition"), "marketing-channels-") {
			t.Errorf("Content-Disposition %q", res.Header.Get("Content-Disposition"))
		}
	})
}
