package web

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"

	"github.com/revloop/revloop/internal/model"
)

// Tables as Excel workbooks: one sheet per table, written a row at a time
// with excelize's stream writer (which keeps at most 16 MiB of a sheet in
// memory and the rest in a temporary file), the archive compressed
// straight into the response. Numbers stay numbers with a number format,
// money is yuan with the CNY format, rates are fractions shown as
// percentages, days and times are Excel dates in the team's time zone;
// the heading row is frozen and the total row bold. Text that a
// spreadsheet could read as a formula is escaped as the CSV export does.

// xlsxContentType is the media type of an XLSX workbook.
const xlsxContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Number formats by kind of column. Money is in yuan.
var xlsxNumFmts = map[cellKind]string{
	kindInt:     "#,##0",
	kindNumber:  "#,##0.0",
	kindMoney:   `"¥"#,##0.00`,
	kindPercent: "0.0%",
	kindRatio:   `0.00"×"`,
	kindDays:    "0.0",
	kindDate:    "yyyy-mm-dd",
	kindTime:    "yyyy-mm-dd hh:mm",
}

// xlsxTextFmt is Excel's built-in text format (@): what is typed into a
// text cell stays text.
const xlsxTextFmt = 49

// Bounds of a column's width, in characters.
const (
	xlsxMinWidth = 8
	xlsxMaxWidth = 60
	// xlsxWidthSample is how many rows a column's width is measured on.
	xlsxWidthSample = 1000
)

// sheetRole is what a row of a sheet is, for its style.
type sheetRole uint8

const (
	roleCell sheetRole = iota
	roleHeading
	roleTotal
	roleNote
)

// workbook is an XLSX file being written.
type workbook struct {
	f      *excelize.File
	styles map[workbookStyle]int
	names  map[string]bool // sheet names taken, lower case (Excel ignores case)
	sheets int
}

type workbookStyle struct {
	kind  cellKind
	role  sheetRole
	right bool // a heading over numbers
}

func newWorkbook() *workbook {
	return &workbook{f: excelize.NewFile(), styles: map[workbookStyle]int{}, names: map[string]bool{}}
}

// close removes the workbook's temporary files.
func (b *workbook) close() { b.f.Close() }

// style is the style id of a kind of cell in a role, made on first use.
func (b *workbook) style(k workbookStyle) (int, error) {
	if id, ok := b.styles[k]; ok {
		return id, nil
	}
	st := &excelize.Style{}
	switch k.role {
	case roleHeading:
		st.Font = &excelize.Font{Bold: true}
		st.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"EDEFF3"}}
		st.Border = []excelize.Border{{Type: "bottom", Color: "9AA3AF", Style: 1}}
		st.Alignment = &excelize.Alignment{Vertical: "center"}
		if k.right {
			st.Alignment.Horizontal = "right"
		}
	case roleTotal:
		st.Font = &excelize.Font{Bold: true}
		st.Border = []excelize.Border{{Type: "top", Color: "9AA3AF", Style: 1}}
	case roleNote:
		st.Font = &excelize.Font{Italic: true, Color: "6B7280"}
	}
	if k.role == roleCell || k.role == roleTotal {
		if f, ok := xlsxNumFmts[k.kind]; ok {
			st.CustomNumFmt = &f
		} else {
			st.NumFmt = xlsxTextFmt
		}
	}
	id, err := b.f.NewStyle(st)
	if err != nil {
		return 0, fmt.Errorf("workbook style: %w", err)
	}
	b.styles[k] = id
	return id, nil
}

// sheetName makes a table's title a sheet name Excel accepts: at most 31
// characters, none of []:*?/\, no quote at either end, unique in the
// workbook (a repeat gets " (2)", " (3)", ...), not the reserved History.
func (b *workbook) sheetName(title string) string {
	name := strings.Map(func(r rune) rune {
		if r < 0x20 || strings.ContainsRune(`[]:*?/\`, r) {
			return '_'
		}
		return r
	}, strings.TrimSpace(title))
	clean := func(s string, n int) string { return strings.Trim(clipUTF16(s, n), "' ") }
	name = clean(name, 31)
	if name == "" {
		name = "Sheet"
	}
	if strings.EqualFold(name, "history") {
		name += "_"
	}
	base := name
	for i := 2; b.names[strings.ToLower(name)]; i++ {
		suffix := fmt.Sprintf(" (%d)", i)
		name = clean(base, 31-len(suffix)) + suffix
	}
	b.names[strings.ToLower(name)] = true
	return name
}

// clipUTF16 cuts s to at most n UTF-16 units (how Excel counts a name's
// length), between characters.
func clipUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		units += utf16.RuneLen(r)
		if units > n {
			return s[:i]
		}
	}
	return s
}

// workbookSheet is a sheet being written, a row at a time.
type workbookSheet struct {
	b    *workbook
	sw   *excelize.StreamWriter
	cols []column
	loc  *time.Location
	row  int
	vals []any
}

// sheet starts a sheet named after title with the heading row of cols,
// frozen, and column widths measured on the heading and sample (the
// rows, or the first of them when they are streamed). loc is the time
// zone of the times.
func (b *workbook) sheet(title string, cols []column, loc *time.Location, sample [][]cell) (*workbookSheet, error) {
	if loc == nil {
		loc = time.UTC
	}
	name := b.sheetName(title)
	var err error
	if b.sheets == 0 {
		err = b.f.SetSheetName(b.f.GetSheetName(0), name)
	} else {
		_, err = b.f.NewSheet(name)
	}
	if err != nil {
		return nil, fmt.Errorf("sheet %q: %w", name, err)
	}
	b.sheets++
	sw, err := b.f.NewStreamWriter(name)
	if err != nil {
		return nil, fmt.Errorf("sheet %q: %w", name, err)
	}
	s := &workbookSheet{b: b, sw: sw, cols: cols, loc: loc, vals: make([]any, len(cols))}
	for i, w := range columnWidths(cols, sample, loc) {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return nil, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return nil, err
	}
	for i, c := range cols {
		st, err := b.style(workbookStyle{role: roleHeading, right: c.NumClass()})
		if err != nil {
			return nil, err
		}
		s.vals[i] = excelize.Cell{StyleID: st, Value: safeSpreadsheetText(c.Label)}
	}
	if err := s.put(); err != nil {
		return nil, err
	}
	return s, nil
}

// add writes a row of the table; total writes its total row (bold).
func (s *workbookSheet) add(cells []cell) error   { return s.cells(cells, roleCell) }
func (s *workbookSheet) total(cells []cell) error { return s.cells(cells, roleTotal) }

func (s *workbookSheet) cells(cells []cell, role sheetRole) error {
	for i, col := range s.cols {
		s.vals[i] = nil
		if i >= len(cells) {
			continue
		}
		kind := cells[i].kindIn(col.Kind)
		v := xlsxValue(kind, cells[i], s.loc)
		if v == nil {
			continue
		}
		switch cells[i].V.(type) {
		case model.Money, *model.Money:
			kind = kindMoney // money prints as money in any column, as on the page
		}
		if _, text := v.(string); text {
			kind = kindText
		}
		st, err := s.b.style(workbookStyle{kind: kind, role: role})
		if err != nil {
			return err
		}
		s.vals[i] = excelize.Cell{StyleID: st, Value: v}
	}
	return s.put()
}

// note writes a line of text below the rows, after an empty one: what a
// reader must know about them (that the export was cut).
func (s *workbookSheet) note(text string) error {
	if len(s.vals) == 0 {
		return nil
	}
	st, err := s.b.style(workbookStyle{role: roleNote})
	if err != nil {
		return err
	}
	s.row++
	clear(s.vals)
	s.vals[0] = excelize.Cell{StyleID: st, Value: safeSpreadsheetText(text)}
	return s.put()
}

func (s *workbookSheet) put() error {
	s.row++
	ref, err := excelize.CoordinatesToCellName(1, s.row)
	if err != nil {
		return err
	}
	return s.sw.SetRow(ref, s.vals)
}

// end finishes the sheet.
func (s *workbookSheet) end() error { return s.sw.Flush() }

// xlsxValue is a cell as Excel should hold it: integers and decimals as
// numbers, money in yuan, rates as fractions, days as dates and instants
// as times in the team's zone; text, escaped as in CSV. nil leaves the
// cell empty.
func xlsxValue(kind cellKind, c cell, loc *time.Location) any {
	switch x := c.V.(type) {
	case nil:
		return nil
	case int:
		return int64(x)
	case int64:
		return x
	case model.Money:
		return float64(x) / 100
	case *model.Money:
		if x == nil {
			return nil
		}
		return float64(*x) / 100
	case float64:
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			return nil
		case kind == kindMoney:
			return math.Round(x) / 100
		case kind == kindInt:
			return int64(math.Round(x))
		}
		return x
	case *float64:
		if x == nil {
			return nil
		}
		return xlsxValue(kind, cell{V: *x}, loc)
	case time.Time:
		if x.IsZero() {
			return nil
		}
		if kind == kindTime {
			return x.In(loc)
		}
		// A day: the date it names, whatever its clock.
		return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC)
	case *time.Time:
		if x == nil {
			return nil
		}
		return xlsxValue(kind, cell{V: *x}, loc)
	}
	text := c.Text
	if text == "" {
		text = fmt.Sprint(c.V)
	}
	if text == "" {
		return nil
	}
	return safeSpreadsheetText(text)
}

// columnWidths are widths that show the heading and the sampled values
// whole, within bounds.
func columnWidths(cols []column, sample [][]cell, loc *time.Location) []float64 {
	out := make([]float64, len(cols))
	for i, c := range cols {
		w := textWidth(c.Label)
		for j, row := range sample {
			if j == xlsxWidthSample {
				break
			}
			if i < len(row) {
				w = max(w, textWidth(xlsxShown(row[i].kindIn(c.Kind), row[i], loc)))
			}
		}
		out[i] = float64(min(max(w+2, xlsxMinWidth), xlsxMaxWidth))
	}
	return out
}

// xlsxShown is about what Excel shows of a value, to size its column.
func xlsxShown(kind cellKind, c cell, loc *time.Location) string {
	switch v := xlsxValue(kind, c, loc).(type) {
	case nil:
		return ""
	case string:
		return v
	case time.Time:
		if kind == kindTime {
			return "2006-01-02 15:04"
		}
		return "2006-01-02"
	}
	return formatCell(kind, c.V, loc)
}

// textWidth counts a text's width in Latin characters: CJK and other wide
// characters count two.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// errAnswerStarted wraps an error that came after the file's headers went
// out: the answer cannot be changed into an error page any more.
var errAnswerStarted = errors.New("the answer had started")

// send answers the workbook as name.xlsx. The archive is compressed
// straight into the response rather than into a buffer first.
func (b *workbook) send(w http.ResponseWriter, name string) error {
	if err := b.f.SetDocProps(&excelize.DocProperties{Title: name, Creator: "revloop"}); err != nil {
		return fmt.Errorf("workbook properties: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", xlsxContentType)
	h.Set("Content-Disposition", attachment(name+".xlsx"))
	h.Set("Cache-Control", "no-store")
	b.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(w) })
	// WriteTo builds the archive with the writer above and then copies its
	// own buffer, which that writer left empty.
	if _, err := b.f.WriteTo(w); err != nil {
		return fmt.Errorf("%w: write workbook: %w", errAnswerStarted, err)
	}
	return nil
}

// writeWorkbook answers tables as one XLSX file named name (without
// .xlsx), a sheet per table in the order given (nil tables are left out),
// each named after its title: the rows in the table's order, its total row
// last. An error before anything was sent leaves w untouched for the
// caller's error answer; one after wraps errAnswerStarted (see
// Server.fileFailed).
func writeWorkbook(w http.ResponseWriter, name string, tables ...*dataTable) error {
	b := newWorkbook()
	defer b.close()
	for _, t := range tables {
		if t == nil {
			continue
		}
		if err := b.table(t); err != nil {
			return err
		}
	}
	if b.sheets == 0 {
		if _, err := b.sheet("-", nil, nil, nil); err != nil {
			return err
		}
	}
	return b.send(w, name)
}

// table writes a whole table as a sheet.
func (b *workbook) table(t *dataTable) error {
	title := t.Title
	if title == "" {
		title = t.ID
	}
	s, err := b.sheet(title, t.Columns, t.Loc, t.Rows)
	if err != nil {
		return err
	}
	for _, row := range t.Rows {
		if err := s.add(row); err != nil {
			return err
		}
	}
	if t.Total != nil {
		if err := s.total(t.Total); err != nil {
			return err
		}
	}
	return s.end()
}
