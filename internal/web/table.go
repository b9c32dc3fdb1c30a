package web

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// A table of the workspace: every one sorts by any column, follows the
// page's date range and exports CSV and XLSX (export.go, xlsx.go), from
// the same rows the page shows.

// cellKind says how a column's values print and sort.
type cellKind string

const (
	kindText    cellKind = "text"
	kindInt     cellKind = "int"     // int64
	kindNumber  cellKind = "number"  // float64, one decimal (credited counts)
	kindMoney   cellKind = "money"   // model.Money (fen)
	kindPercent cellKind = "percent" // *float64 rate, 0.5 = 50 %
	kindRatio   cellKind = "ratio"   // *float64, ROAS/ROI as 3.21×
	kindDays    cellKind = "days"    // *float64 days
	kindDate    cellKind = "date"    // time.Time, a day or an instant
	kindTime    cellKind = "time"    // time.Time, to the minute in the team's zone
)

// column is one column of a table.
type column struct {
	Key   string // sort key and JSON name
	Label string // translated heading
	Tip   string // translated definition, "" for none
	Kind  cellKind
	// NoSort marks a column a paged list cannot order by (its heading is
	// no link); only Presorted tables use it.
	NoSort bool
}

// cell is one value. V holds the raw value (what sorts and what CSV
// writes); Text, when set, is shown instead of the formatted V; Href makes
// the cell a link. Kind, when set, is how this cell prints instead of its
// column's kind (a column of targets holds counts, rates and hours).
type cell struct {
	V    any
	Text string
	Href string
	Kind cellKind
}

// kindIn is how the cell prints in a column of kind col.
func (c cell) kindIn(col cellKind) cellKind {
	if c.Kind != "" {
		return c.Kind
	}
	return col
}

// dataTable is a table with its sort order.
type dataTable struct {
	ID      string // unique on the page: the sort and export parameters name it
	Title   string // the table's heading: its sheet's name in a workbook (the ID when empty)
	Columns []column
	Rows    [][]cell
	Total   []cell // optional, never sorted
	Empty   string // shown when there are no rows
	// Sort is the column sorted by, Desc its direction; Presorted says the
	// rows came sorted (by SQL, for paged lists) and must not be resorted.
	Sort      string
	Desc      bool
	Presorted bool
	// Next is the link to the next page of a paged list ("" on the last).
	Next string
	// Links for the headings and the exports (CSV, XLSX), set by prepare.
	sortHref   map[string]string
	ExportHref string
	XLSXHref   string
	Loc        *time.Location
}

// sortParams are the URL parameters of a table's order.
func (t *dataTable) sortParams() (string, string) { return t.ID + "_sort", t.ID + "_dir" }

// prepare applies the order in the URL (or the default given), sorts the
// rows unless they came sorted, and builds the heading and export links.
func (t *dataTable) prepare(r *http.Request, defSort string, defDesc bool) {
	sp, dp := t.sortParams()
	q := r.URL.Query()
	t.Sort, t.Desc = defSort, defDesc
	if v := q.Get(sp); v != "" && t.sortable(v) {
		t.Sort = v
		t.Desc = q.Get(dp) != "asc"
	}
	if !t.Presorted && t.Sort != "" {
		t.sortRows()
	}
	t.sortHref = map[string]string{}
	for _, c := range t.Columns {
		v := cloneQuery(q, "cursor", "export")
		v.Set(sp, c.Key)
		dir := "desc"
		if c.Kind == kindText {
			dir = "asc"
		}
		if c.Key == t.Sort {
			dir = map[bool]string{true: "asc", false: "desc"}[t.Desc]
		}
		v.Set(dp, dir)
		t.sortHref[c.Key] = r.URL.Path + "?" + v.Encode()
	}
	v := cloneQuery(q, "cursor", "format")
	v.Set("export", t.ID)
	t.ExportHref = r.URL.Path + "?" + v.Encode()
	v.Set("format", formatXLSX)
	t.XLSXHref = r.URL.Path + "?" + v.Encode()
}

// cloneQuery copies a query without the parameters named; dropping
// export drops its format too.
func cloneQuery(q url.Values, drop ...string) url.Values {
	if slices.Contains(drop, "export") {
		drop = append(slices.Clip(drop), "format")
	}
	out := url.Values{}
	for k, v := range q {
		if !slices.Contains(drop, k) {
			out[k] = slices.Clone(v)
		}
	}
	return out
}

// sortable says whether the table can be ordered by a column.
func (t *dataTable) sortable(key string) bool {
	return slices.ContainsFunc(t.Columns, func(c column) bool { return c.Key == key && !c.NoSort })
}

// SortedBy reports the direction a column is sorted in ("" when it is not).
func (t *dataTable) SortedBy(key string) string {
	if key != t.Sort {
		return ""
	}
	if t.Desc {
		return "descending"
	}
	return "ascending"
}

// SortHref is the link that sorts by a column.
func (t *dataTable) SortHref(key string) string { return t.sortHref[key] }

func (t *dataTable) sortRows() {
	idx := slices.IndexFunc(t.Columns, func(c column) bool { return c.Key == t.Sort })
	if idx < 0 {
		return
	}
	slices.SortStableFunc(t.Rows, func(a, b []cell) int { return compareCells(a[idx], b[idx], t.Desc) })
}

// compareCells orders two values of a column; absent values ("—") sort
// last in either direction.
func compareCells(a, b cell, desc bool) int {
	ka, na := sortKey(a)
	kb, nb := sortKey(b)
	switch {
	case na && nb:
		return 0
	case na:
		return 1
	case nb:
		return -1
	}
	c := compareKeys(ka, kb)
	if desc {
		return -c
	}
	return c
}

func compareKeys(ka, kb any) int {
	switch x := ka.(type) {
	case float64:
		return cmp.Compare(x, kb.(float64))
	case string:
		return strings.Compare(x, kb.(string))
	}
	return 0
}

// sortKey is a value's order key (a float64 or a string) and whether it
// is absent.
func sortKey(c cell) (any, bool) {
	switch v := c.V.(type) {
	case nil:
		return nil, true
	case int:
		return float64(v), false
	case int64:
		return float64(v), false
	case float64:
		return v, math.IsNaN(v)
	case model.Money:
		return float64(v), false
	case *float64:
		if v == nil || math.IsNaN(*v) {
			return nil, true
		}
		return *v, false
	case *model.Money:
		if v == nil {
			return nil, true
		}
		return float64(*v), false
	case time.Time:
		if v.IsZero() {
			return nil, true
		}
		return float64(v.UnixNano()), false
	case *time.Time:
		if v == nil || v.IsZero() {
			return nil, true
		}
		return float64(v.UnixNano()), false
	case string:
		if c.Text != "" {
			return strings.ToLower(c.Text), false
		}
		return strings.ToLower(v), v == ""
	}
	if c.Text != "" {
		return strings.ToLower(c.Text), false
	}
	return fmt.Sprint(c.V), false
}

// Display prints a cell for the page.
func (t *dataTable) Display(i int, c cell) string {
	if c.Text != "" {
		return c.Text
	}
	return formatCell(c.kindIn(t.Columns[i].Kind), c.V, t.Loc)
}

// NumClass says whether a column is right-aligned.
func (c column) NumClass() bool {
	return c.Kind != kindText && c.Kind != kindDate && c.Kind != kindTime
}

func formatCell(kind cellKind, v any, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	switch x := v.(type) {
	case nil:
		return "—"
	case int:
		return formatInt(int64(x))
	case int64:
		return formatInt(x)
	case model.Money:
		return formatMoney(x)
	case *model.Money:
		return formatMoneyPtr(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "—"
		}
		switch kind {
		case kindMoney:
			return formatMoney(model.Money(math.Round(x)))
		case kindPercent:
			return formatPercent(&x)
		case kindRatio:
			return formatROI(&x)
		case kindInt:
			return formatInt(int64(math.Round(x)))
		}
		return formatDecimal(x, 1)
	case *float64:
		if x == nil {
			return "—"
		}
		return formatCell(kind, *x, loc)
	case time.Time:
		if x.IsZero() {
			return "—"
		}
		if kind == kindTime {
			return x.In(loc).Format("2006-01-02 15:04")
		}
		return x.Format(dateLayout)
	case *time.Time:
		if x == nil {
			return "—"
		}
		return formatCell(kind, *x, loc)
	case string:
		if x == "" {
			return "—"
		}
		return x
	}
	return fmt.Sprint(v)
}

// csvValue is a cell as a spreadsheet should read it: plain numbers (money
// in yuan with two decimals, rates as percentages), days as YYYY-MM-DD, and
// text that cannot start a formula.
func csvValue(kind cellKind, c cell, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	switch x := c.V.(type) {
	case nil:
		return ""
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case model.Money:
		return x.String()
	case *model.Money:
		if x == nil {
			return ""
		}
		return x.String()
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return ""
		}
		switch kind {
		case kindMoney:
			return model.Money(math.Round(x)).String()
		case kindPercent:
			return strconv.FormatFloat(x*100, 'f', 2, 64) + "%"
		case kindInt:
			return strconv.FormatInt(int64(math.Round(x)), 10)
		}
		return strconv.FormatFloat(x, 'f', 4, 64)
	case *float64:
		if x == nil {
			return ""
		}
		return csvValue(kind, cell{V: *x}, loc)
	case time.Time:
		if x.IsZero() {
			return ""
		}
		if kind == kindTime {
			return x.In(loc).Format("2006-01-02 15:04:05")
		}
		return x.Format(dateLayout)
	case *time.Time:
		if x == nil {
			return ""
		}
		return csvValue(kind, cell{V: *x}, loc)
	}
	text := c.Text
	if text == "" {
		text = fmt.Sprint(c.V)
	}
	return safeSpreadsheetText(text)
}

// safeSpreadsheetText keeps a text cell from being read as a formula by
// Excel or WPS: one starting with = + - @ or a control gets a leading '.
func safeSpreadsheetText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// writeCSV answers a table as a CSV file Excel opens in UTF-8 (with a
// byte-order mark), named after the page, the table and the range.
func writeCSV(w http.ResponseWriter, name string, t *dataTable) {
	c := startCSV(w, name, t.Columns, t.Loc)
	for _, row := range t.Rows {
		c.row(row)
	}
	if t.Total != nil {
		c.row(t.Total)
	}
	c.flush()
}

// csvFile is a CSV answer being written, a row at a time.
type csvFile struct {
	cw   *csv.Writer
	cols []column
	loc  *time.Location
	rec  []string
}

// startCSV sends the headers of a CSV answer named name (without .csv),
// its byte-order mark and its heading line.
func startCSV(w http.ResponseWriter, name string, cols []column, loc *time.Location) *csvFile {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", attachment(name+".csv"))
	h.Set("Cache-Control", "no-store")
	w.Write([]byte("\uFEFF"))
	c := &csvFile{cw: csv.NewWriter(w), cols: cols, loc: loc, rec: make([]string, len(cols))}
	c.cw.UseCRLF = true
	for i, col := range cols {
		c.rec[i] = safeSpreadsheetText(col.Label)
	}
	c.cw.Write(c.rec)
	return c
}

// row writes a row (or the total row) of the table.
func (c *csvFile) row(cells []cell) {
	for i, col := range c.cols {
		c.rec[i] = ""
		if i < len(cells) {
			c.rec[i] = csvValue(cells[i].kindIn(col.Kind), cells[i], c.loc)
		}
	}
	c.cw.Write(c.rec)
}

// flush sends what is buffered and reports the first write error.
func (c *csvFile) flush() error {
	c.cw.Flush()
	return c.cw.Error()
}

// attachment is the Content-Disposition of a file to download: its name
// in ASCII for old clients and in full (UTF-8) for the rest.
func attachment(file string) string {
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, asciiName(file), url.PathEscape(file))
}

// asciiName keeps letters, digits, dots and dashes of a file name.
func asciiName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r == '-' || r == '.' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// tipHTML is the ⓘ beside a figure's name: its definition, readable on
// hover and on keyboard focus, from docs/metrics.md.
func tipHTML(text string) template.HTML {
	if text == "" {
		return ""
	}
	e := template.HTMLEscapeString(text)
	return template.HTML(`<span class="tip" tabindex="0" role="note" aria-label="` + e + `" data-tip="` + e + `">ⓘ</span>`)
}
