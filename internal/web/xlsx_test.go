package web

import (
	"bytes"
	"encoding/csv"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"

	"github.com/revloop/revloop/internal/model"
)

// xlsxCell is a cell of a workbook as a reader sees it.
type xlsxCell struct {
	Raw    string   // the stored value ("" for an empty cell)
	Number bool     // stored as a number, not as text
	Format string   // its number format: custom code, or "@" for text, "" for General
	Bold   bool     // bold font
	Num    float64  // the number, when Number
	f      *xlsxDoc // for dates
}

// xlsxDoc is a workbook read back with excelize, as a real reader would.
type xlsxDoc struct {
	t *testing.T
	f *excelize.File
}

func openXLSX(t *testing.T, body []byte) *xlsxDoc {
	t.Helper()
	if !bytes.HasPrefix(body, []byte("PK")) {
		t.Fatalf("not an XLSX file: %.200q", body)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("open workbook: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return &xlsxDoc{t: t, f: f}
}

func (d *xlsxDoc) sheets() []string { return d.f.GetSheetList() }

// rows are a sheet's rows as stored (raw values).
func (d *xlsxDoc) rows(sheet string) [][]string {
	d.t.Helper()
	rows, err := d.f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		d.t.Fatalf("sheet %q: %v", sheet, err)
	}
	return rows
}

func (d *xlsxDoc) cell(sheet string, col, row int) xlsxCell {
	d.t.Helper()
	ref, _ := excelize.CoordinatesToCellName(col, row)
	raw, err := d.f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
	if err != nil {
		d.t.Fatalf("%s!%s: %v", sheet, ref, err)
	}
	typ, _ := d.f.GetCellType(sheet, ref)
	c := xlsxCell{Raw: raw, f: d}
	if raw != "" && (typ == excelize.CellTypeUnset || typ == excelize.CellTypeNumber) {
		n, err := strconv.ParseFloat(raw, 64)
		c.Number, c.Num = err == nil, n
	}
	idx, err := d.f.GetCellStyle(sheet, ref)
	if err != nil {
		d.t.Fatalf("%s!%s style: %v", sheet, ref, err)
	}
	if st, err := d.f.GetStyle(idx); err == nil && st != nil {
		switch {
		case st.CustomNumFmt != nil:
			c.Format = *st.CustomNumFmt
		case st.NumFmt == xlsxTextFmt:
			c.Format = "@"
		}
		c.Bold = st.Font != nil && st.Font.Bold
	}
	return c
}

// time reads a date cell as the wall clock it shows.
func (c xlsxCell) time() time.Time {
	tm, err := excelize.ExcelDateToTime(c.Num, false)
	if err != nil {
		c.f.t.Fatalf("date %v: %v", c.Num, err)
	}
	return tm
}

func (d *xlsxDoc) frozenHeading(sheet string) bool {
	p, err := d.f.GetPanes(sheet)
	return err == nil && p.Freeze && p.YSplit == 1 && p.XSplit == 0 && p.TopLeftCell == "A2"
}

// TestWorkbookHoldsNumbersDatesAndEscapedText writes a table with every
// kind of column as a workbook and reads it back: numbers are numbers with
// their format, money is yuan with the CNY format, rates are fractions
// shown as percentages, days and times are dates in the team's zone, text
// that could start a formula is escaped as in the CSV, the heading is
// frozen and the total row bold.
func TestWorkbookHoldsNumbersDatesAndEscapedText(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	rate, ratio, days := 0.936, 3.2154, 4.5
	cost := model.Money(31827200) // ¥318,272.00
	at := time.Date(2026, 3, 31, 17, 30, 0, 0, time.UTC)
	tab := &dataTable{ID: "review", Title: "Target vs actual", Loc: shanghai, Columns: []column{
		{Key: "name", Label: "Name", Kind: kindText},
		{Key: "leads", Label: "Leads", Kind: kindInt},
		{Key: "credited", Label: "Credited deals", Kind: kindNumber},
		{Key: "cost", Label: "Cost", Kind: kindMoney},
		{Key: "gap", Label: "Gap", Kind: kindPercent},
		{Key: "roas", Label: "ROAS", Kind: kindRatio},
		{Key: "velocity", Label: "Velocity", Kind: kindDays},
		{Key: "day", Label: "Day", Kind: kindDate},
		{Key: "at", Label: "At", Kind: kindTime},
	}}
	tab.Rows = [][]cell{
		{{V: `=HYPERLINK("http://evil","x")`}, {V: int64(500)}, {V: 2.5}, {V: cost}, {V: &rate}, {V: &ratio}, {V: &days},
			{V: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)}, {V: at}},
		{{V: "+1"}, {V: 7}, {V: 0.0}, {V: &cost}, {V: (*float64)(nil)}, {V: nil}, {V: math.NaN()}, {V: time.Time{}}, {V: (*time.Time)(nil)}},
		{{V: "-2"}, {V: int64(-3)}, {V: -1.25}, {V: model.Money(-150)}, {V: -0.5}, {V: 0.0}, {V: 1.0}, {V: at}, {V: &at}},
		{{V: "@x"}, {}, {}, {V: (*model.Money)(nil)}, {}, {}, {}, {}, {}},
		{{V: "paid_search", Text: "付费搜索"}, {V: 12.6}, {}, {V: 29.0}, {}, {}, {}, {}, {}},
	}
	tab.Total = []cell{{V: "total", Text: "Total"}, {V: int64(516)}, {}, {V: cost + cost - 150}}
	rec := httptest.NewRecorder()
	if err := writeWorkbook(rec, "review-2026-01-01_2026-03-31", tab, &dataTable{ID: "empty", Columns: tab.Columns[:2]}); err != nil {
		t.Fatal(err)
	}
	if ct := rec.Header().Get("Content-Type"); ct != xlsxContentType {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := rec.Header().Get("Content-Disposition"); !strings.Contains(cd, `filename="review-2026-01-01_2026-03-31.xlsx"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	d := openXLSX(t, rec.Body.Bytes())
	if got := d.sheets(); len(got) != 2 || got[0] != "Target vs actual" || got[1] != "empty" {
		t.Fatalf("sheets %q", got)
	}
	const sh = "Target vs actual"
	if !d.frozenHeading(sh) || !d.frozenHeading("empty") {
		t.Error("the heading row is not frozen")
	}
	for i, c := range tab.Columns {
		if h := d.cell(sh, i+1, 1); h.Raw != c.Label || !h.Bold || h.Number {
			t.Errorf("heading %d: %+v", i, h)
		}
	}
	type want struct {
		raw    string // "" for empty
		number bool
		format string
	}
	text := func(s string) want { return want{s, false, "@"} }
	num := func(x float64, f string) want { return want{strconv.FormatFloat(x, 'f', -1, 64), true, f} }
	none := want{}
	const money, pct, count = `"¥"#,##0.00`, "0.0%", "#,##0"
	// 31 March 2026 is serial 46112; 17:30 UTC is 01:30 on 1 April in Shanghai.
	day, local := 46112.0, 46113+1.5/24
	rows := [][]want{
		{text(`'=HYPERLINK("http://evil","x")`), num(500, count), num(2.5, "#,##0.0"), num(318272, money), num(0.936, pct),
			num(3.2154, `0.00"×"`), num(4.5, "0.0"), num(day, "yyyy-mm-dd"), num(local, "yyyy-mm-dd hh:mm")},
		{text("'+1"), num(7, count), num(0, "#,##0.0"), num(318272, money), none, none, none, none, none},
		{text("'-2"), num(-3, count), num(-1.25, "#,##0.0"), num(-1.5, money), num(-0.5, pct), num(0, `0.00"×"`), num(1, "0.0"),
			num(day, "yyyy-mm-dd"), num(local, "yyyy-mm-dd hh:mm")},
		{text("'@x"), none, none, none, none, none, none, none, none},
		{text("付费搜索"), num(12.6, count), none, num(0.29, money), none, none, none, none, none},
		{text("Total"), num(516, count), none, num(636542.5, money)},
	}
	// An int column holding a decimal rounds it, as the page does.
	rows[4][1] = num(13, count)
	for r, cells := range rows {
		for c, w := range cells {
			got := d.cell(sh, c+1, r+2)
			if got.Number != w.number || (w.raw != "" && got.Format != w.format) {
				t.Errorf("row %d col %d: %+v, want %+v", r+2, c+1, got, w)
				continue
			}
			if w.number {
				x, _ := strconv.ParseFloat(w.raw, 64)
				if math.Abs(got.Num-x) > 1e-9 {
					t.Errorf("row %d col %d: %v, want %v", r+2, c+1, got.Num, x)
				}
			} else if got.Raw != w.raw {
				t.Errorf("row %d col %d: %q, want %q", r+2, c+1, got.Raw, w.raw)
			}
			if bold := r == len(rows)-1; got.Bold != bold && got.Raw != "" {
				t.Errorf("row %d col %d: bold %v", r+2, c+1, got.Bold)
			}
		}
	}
	if got := d.cell(sh, 9, 2).time(); !got.Equal(time.Date(2026, 4, 1, 1, 30, 0, 0, time.UTC)) {
		t.Errorf("time in the team's zone: %v", got)
	}
	if n := len(d.rows(sh)); n != 7 {
		t.Errorf("%d rows, want the heading, 5 rows and the total", n)
	}
	// Widths fit the longest value and a margin of two: the escaped
	// formula has 30 characters.
	if w, _ := d.f.GetColWidth(sh, "A"); w != 32 {
		t.Errorf("width of A: %v", w)
	}
	if w, _ := d.f.GetColWidth(sh, "B"); w != xlsxMinWidth {
		t.Errorf("width of B: %v", w)
	}

	// The same table as CSV holds the same escaped text and the same figures.
	rec = httptest.NewRecorder()
	writeCSV(rec, "review", tab)
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(rec.Body.String(), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[1][0] != `'=HYPERLINK("http://evil","x")` || recs[1][3] != "318272.00" || recs[1][4] != "93.60%" || recs[3][0] != "'-2" {
		t.Errorf("CSV %q", recs)
	}
}

// TestSheetNamesExcelAccepts: titles become names of at most 31 UTF-16
// units, without []:*?/\, no quote at an end, unique regardless of case.
func TestSheetNamesExcelAccepts(t *testing.T) {
	b, check := newWorkbook(), newWorkbook()
	defer b.close()
	defer check.close()
	long := strings.Repeat("渠道", 20)
	cases := []struct{ title, want string }{
		{"Funnel", "Funnel"},
		{"funnel", "funnel (2)"},
		{"FUNNEL", "FUNNEL (3)"},
		{"a/b\\c?d*e[f]g:h", "a_b_c_d_e_f_g_h"},
		{"'quoted'", "quoted"},
		{"", "Sheet"},
		{"History", "History_"},
		{long, strings.Repeat("渠道", 15) + "渠"},
		{long, strings.Repeat("渠道", 13) + "渠 (2)"},
		{"𝔘𝔫𝔦𝔠𝔬𝔡𝔢 " + strings.Repeat("x", 30), "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 " + strings.Repeat("x", 16)},
	}
	for _, c := range cases {
		got := b.sheetName(c.title)
		if got != c.want {
			t.Errorf("sheetName(%q) = %q, want %q", c.title, got, c.want)
		}
		if n := len(utf16.Encode([]rune(got))); n > 31 {
			t.Errorf("%q: %d units", got, n)
		}
		if _, err := check.sheet(got, nil, nil, nil); err != nil {
			t.Errorf("excelize refuses %q: %v", got, err)
		}
	}
}

// TestExportLinksOfATable: a table's links export it as CSV and as XLSX,
// keeping the page's query and dropping a cursor.
func TestExportLinksOfATable(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/dashboards/marketing?from=2026-01-01&to=2026-03-31&cursor=x&format=xlsx&mix_sort=leads", nil)
	tab := &dataTable{ID: "channels", Columns: []column{{Key: "leads", Kind: kindInt}}}
	tab.prepare(r, "", false)
	if tab.ExportHref != "/dashboards/marketing?export=channels&from=2026-01-01&mix_sort=leads&to=2026-03-31" {
		t.Errorf("CSV link %s", tab.ExportHref)
	}
	if tab.XLSXHref != "/dashboards/marketing?export=channels&format=xlsx&from=2026-01-01&mix_sort=leads&to=2026-03-31" {
		t.Errorf("XLSX link %s", tab.XLSXHref)
	}
	if h := tab.SortHref("leads"); strings.Contains(h, "format=") || strings.Contains(h, "export=") {
		t.Errorf("sort link keeps the export: %s", h)
	}
}

// sameAsCSV checks that a sheet holds what the CSV export of the same
// table holds, cell by cell: the same text, the same numbers (the CSV
// rounds money to fen, rates to 0.01 % and decimals to 4 places), days
// and times as dates.
func sameAsCSV(t *testing.T, what string, recs [][]string, d *xlsxDoc, sheet string) {
	t.Helper()
	rows := d.rows(sheet)
	if len(rows) != len(recs) {
		t.Errorf("%s: %d rows in the workbook, %d in the CSV", what, len(rows), len(recs))
		return
	}
	bad := 0
	for r, rec := range recs {
		for c, want := range rec {
			got := d.cell(sheet, c+1, r+1)
			if ok, why := csvAgrees(want, got); !ok {
				if bad++; bad <= 5 {
					t.Errorf("%s: row %d col %d: CSV %q, workbook %+v (%s)", what, r+1, c+1, want, got, why)
				}
			}
		}
	}
}

func csvAgrees(want string, got xlsxCell) (bool, string) {
	if want == "" || got.Raw == "" {
		return want == got.Raw, "empty"
	}
	if !got.Number {
		return want == got.Raw && (got.Format == "@" || got.Format == ""), "text"
	}
	switch got.Format {
	case "yyyy-mm-dd":
		return got.time().Format("2006-01-02") == want, "day"
	case "yyyy-mm-dd hh:mm":
		return got.time().Round(time.Second).Format("2006-01-02 15:04:05") == want, "time"
	case "0.0%":
		x, err := strconv.ParseFloat(strings.TrimSuffix(want, "%"), 64)
		return err == nil && strings.HasSuffix(want, "%") && math.Abs(x/100-got.Num) < 0.00005+1e-12, "percent"
	case "#,##0":
		return want == strconv.FormatFloat(got.Num, 'f', -1, 64), "integer"
	case `"¥"#,##0.00`:
		return want == strconv.FormatFloat(got.Num, 'f', 2, 64), "money"
	case "#,##0.0", `0.00"×"`, "0.0":
		x, err := strconv.ParseFloat(want, 64)
		return err == nil && math.Abs(x-got.Num) < 0.00005+1e-12, "decimal"
	}
	return false, "format " + got.Format
}

// TestCellsOfMixedColumnsKeepTheirKind: a column of targets holds a count,
// money and a rate (a review's target/actual/gap sheet): money prints as
// money whatever the column, and a cell's own kind overrides its column's,
// on the page, in the CSV and in the workbook alike. The gap of ¥318,272
// against ¥5,000,000 is −93.6%.
func TestCellsOfMixedColumnsKeepTheirKind(t *testing.T) {
	share, hours, gap := 0.25, 4.5, -0.93634
	tab := &dataTable{ID: "targets", Columns: []column{
		{Key: "metric", Label: "Metric", Kind: kindText},
		{Key: "target", Label: "Target", Kind: kindInt},
		{Key: "gap", Label: "Gap", Kind: kindPercent},
	}, Rows: [][]cell{
		{{V: "leads"}, {V: int64(500)}, {}},
		{{V: "won_revenue"}, {V: model.Money(500000000)}, {V: &gap}},
		{{V: "roi"}, {V: &share, Kind: kindPercent}, {}},
		{{V: "first_follow_up_hours"}, {V: &hours, Kind: kindNumber}, {}},
	}}
	want := []struct {
		page, csv, format string
		num               float64
	}{
		{"500", "500", "#,##0", 500},
		{"¥5,000,000.00", "5000000.00", `"¥"#,##0.00`, 5000000},
		{"25.0%", "25.00%", "0.0%", 0.25},
		{"4.5", "4.5000", "#,##0.0", 4.5},
	}
	rec := httptest.NewRecorder()
	if err := writeWorkbook(rec, "targets", tab); err != nil {
		t.Fatal(err)
	}
	d := openXLSX(t, rec.Body.Bytes())
	crec := httptest.NewRecorder()
	writeCSV(crec, "targets", tab)
	recs, _ := csv.NewReader(strings.NewReader(strings.TrimPrefix(crec.Body.String(), "\uFEFF"))).ReadAll()
	for i, w := range want {
		if got := tab.Display(1, tab.Rows[i][1]); got != w.page {
			t.Errorf("row %d on the page: %q, want %q", i, got, w.page)
		}
		if got := recs[i+1][1]; got != w.csv {
			t.Errorf("row %d in the CSV: %q, want %q", i, got, w.csv)
		}
		if got := d.cell("targets", 2, i+2); !got.Number || got.Format != w.format || math.Abs(got.Num-w.num) > 1e-9 {
			t.Errorf("row %d in the workbook: %+v, want %v as %s", i, got, w.num, w.format)
		}
	}
	if got := d.cell("targets", 3, 3); got.Format != "0.0%" || got.Num != gap || tab.Display(2, tab.Rows[1][2]) != "-93.6%" {
		t.Errorf("gap: %+v, page %q", got, tab.Display(2, tab.Rows[1][2]))
	}
}
