// Package importer reads CSV files exported from ad platforms (daily costs)
// and from event tools (registrations, check-ins, badge scans) and stores
// them: costs upserted by day × campaign × ad group × keyword, offline
// touches as events with a message id derived from the row, so that
// importing a file twice changes nothing. A file with a bad row stores
// nothing, and every bad row is reported with its line number; a good file
// is stored in resumable chunks (see Importer).
//
// The parsing layer (ParseCosts, ParseEvents) is pure; Importer adds the
// store.
package importer

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/revloop/revloop/internal/model"
)

// Limits on what one file may hold. A file is read as a stream, a row at a
// time, so memory is bounded by these and not by the file.
const (
	MaxFileBytes  = 64 << 20
	MaxRows       = 500_000
	MaxColumns    = 200      // columns in one row
	MaxFieldBytes = 64 << 10 // bytes in one cell of any column
	maxRowBytes   = 2 << 20  // bytes in one row, however split
	maxCampaigns  = 10_000   // different campaigns one file may name
	maxCell       = 1000     // bytes in one name or identifier
	maxErrors     = 100      // bad rows listed; the rest are counted
	maxNotes      = 100      // notes listed; the rest are counted
	maxPreamble   = 20       // title lines an export may put above its header
)

// RowError is one bad row: its line and why, in English (Reason). When
// one cell is to blame, the error also names its column as the file's
// header writes it and its position, the field it was read as, a code
// that says what is wrong (for a translated message) and the value.
type RowError struct {
	Line        int    `json:"line"`
	Reason      string `json:"reason"`
	Column      string `json:"column,omitempty"`       // the header cell: "消费", "Cost"
	ColumnIndex int    `json:"column_index,omitempty"` // 1 for the first column
	Field       string `json:"field,omitempty"`        // date, cost, campaign, email, ...
	Code        string `json:"code,omitempty"`         // see CellError
	Value       string `json:"value,omitempty"`        // the cell as written, at most 1,000 bytes
}

// CellError is a bad value in one field of a row. Code says what is
// wrong, in words a translation can key on:
//
//	bad_date, date_out_of_range, bad_time, time_out_of_range, bad_platform,
//	bad_count, bad_cost, negative_cost, cost_too_high, sum_too_high,
//	bad_currency, bad_event, bad_email, bad_phone, empty, too_long,
//	control_char, unknown_campaign, no_identifier
//
// Its Error is the English reason.
type CellError struct {
	Field, Code, Value string
	Msg                string
}

func (e *CellError) Error() string { return e.Msg }

// badCell is a CellError of field with an English message.
func badCell(field, code, value, format string, args ...any) error {
	return &CellError{Field: field, Code: code, Value: clipCell(value), Msg: fmt.Sprintf(format, args...)}
}

func (e RowError) String() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// BadRowsError lists the bad rows of a file that was therefore not
// imported at all.
type BadRowsError struct {
	Rows  []RowError // the first maxErrors
	Total int        // every bad row
}

func (e *BadRowsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d bad row(s), nothing imported: ", e.Total)
	for i, r := range e.Rows {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(r.String())
	}
	if more := e.Total - len(e.Rows); more > 0 {
		fmt.Fprintf(&b, "; and %d more", more)
	}
	return b.String()
}

type rowErrors struct{ e BadRowsError }

// addErr lists a bad row; a CellError names its field, and cols the
// column it was read from.
func (r *rowErrors) addErr(line int, cols columns, err error) {
	r.e.Total++
	if len(r.e.Rows) >= maxErrors {
		return
	}
	r.e.Rows = append(r.e.Rows, cols.rowError(line, err))
}

// rowError describes a bad row, naming the column of a CellError.
func (c columns) rowError(line int, err error) RowError {
	re := RowError{Line: line, Reason: err.Error()}
	var ce *CellError
	if errors.As(err, &ce) {
		re.Field, re.Code, re.Value = ce.Field, ce.Code, ce.Value
		re.Column, re.ColumnIndex = c.column(ce.Field)
	}
	var le *locatedError
	if errors.As(err, &le) {
		re.Column, re.ColumnIndex = le.column, le.index
	}
	return re
}

// locatedError is a CellError with the column it was read from, for the
// readers that hand bad rows to a callback without their header.
type locatedError struct {
	*CellError
	column string
	index  int
}

func (e *locatedError) Unwrap() error { return e.CellError }

// locate names the column of a CellError; other errors pass as they are.
func (c columns) locate(err error) error {
	var ce *CellError
	if !errors.As(err, &ce) {
		return err
	}
	name, idx := c.column(ce.Field)
	return &locatedError{CellError: ce, column: name, index: idx}
}

func (r *rowErrors) err() error {
	if r.e.Total == 0 {
		return nil
	}
	return &r.e
}

// sniff reads a whole file once and names its encoding: UTF-8 with or
// without a byte order mark, UTF-16 with one (Excel's "Unicode text" and
// Google Ads' Excel CSV), and otherwise GB18030, a superset of GBK and
// GB2312 (Chinese Excel's default). It also hashes the file, which is what
// recognises a file imported before.
func sniff(r io.Reader) (hash, enc string, err error) {
	h := sha256.New()
	buf := make([]byte, 64<<10)
	var size int64
	carry := make([]byte, 0, len(buf)+utf8.UTFMax)
	valid := true
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			chunk := buf[:n]
			h.Write(chunk)
			if size == 0 {
				switch {
				case bytes.HasPrefix(chunk, []byte{0xEF, 0xBB, 0xBF}):
					enc = "utf-8-bom"
				case bytes.HasPrefix(chunk, []byte{0xFF, 0xFE}), bytes.HasPrefix(chunk, []byte{0xFE, 0xFF}):
					enc = "utf-16"
				}
			}
			size += int64(n)
			if size > MaxFileBytes {
				return "", "", fmt.Errorf("the file is over %d MiB: split it", MaxFileBytes>>20)
			}
			if valid && enc != "utf-16" {
				// A rune may straddle two reads: keep its start for the next.
				b := append(carry, chunk...) // carry has room: see below
				cut := len(b)
				for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
					if utf8.RuneStart(b[i]) {
						if !utf8.FullRune(b[i:]) {
							cut = i
						}
						break
					}
				}
				valid = utf8.Valid(b[:cut])
				carry = append(carry[:0], b[cut:]...)
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return "", "", rerr
		}
	}
	if size == 0 {
		return "", "", errors.New("the file is empty")
	}
	if len(carry) > 0 {
		valid = false
	}
	switch {
	case enc == "utf-16":
	case enc == "utf-8-bom" && !valid:
		return "", "", errors.New("the file starts with a UTF-8 byte order mark but is not valid UTF-8")
	case valid:
		enc = "utf-8"
	default:
		enc = "gb18030"
	}
	return hex.EncodeToString(h.Sum(nil)), enc, nil
}

// record is one CSV row with the line it starts on.
type record struct {
	line   int
	fields []string
}

// errRowTooLong is what rowGuard answers when one row grows past maxRowBytes.
var errRowTooLong = errors.New("row too long")

// columnsError is what rowGuard answers when a line has more than
// MaxColumns columns.
type columnsError struct{ line int }

func (e columnsError) Error() string {
	return fmt.Sprintf("line %d has more than %d columns; a file may have at most %d", e.line, MaxColumns, MaxColumns)
}

// rowGuard stops the reader under the CSV reader before a row is read
// whole when it is too big: more than maxRowBytes since the end of the
// last row (plus what the CSV reader's buffer holds), an unclosed quote
// say, or a line with more than MaxColumns delimiters outside quotes (a
// header of a million columns). Without it the CSV reader would split
// such a row into a million strings before anything could look at it.
type rowGuard struct {
	r       io.Reader
	pulled  int64
	start   int64 // input offset of the end of the last row
	comma   byte  // the delimiter; 0 until known
	inQuote bool
	line    int // lines ended, outside quotes
	commas  int // delimiters on the current line, outside quotes
	tabs    int
	err     error
}

func (g *rowGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.pulled-g.start > maxRowBytes+csvBuffer {
		return 0, errRowTooLong
	}
	n, err := g.r.Read(p)
	g.pulled += int64(n)
	for _, b := range p[:n] {
		switch {
		case b == '"':
			g.inQuote = !g.inQuote
		case g.inQuote:
		case b == '\n':
			g.line++
			g.commas, g.tabs = 0, 0
		case b == ',':
			g.commas++
		case b == '\t':
			g.tabs++
		}
	}
	if (g.comma == ',' && g.commas > MaxColumns) || (g.comma == '\t' && g.tabs > MaxColumns) {
		g.err = columnsError{line: g.line + 1}
		return 0, g.err
	}
	return n, err
}

// csvBuffer is the read buffer of the CSV reader.
const csvBuffer = 64 << 10

// csvStream reads a file a row at a time; the delimiter is a comma, or a
// tab for tab-separated exports (Excel's "Unicode text", Google Ads' Excel
// CSV). Rows past the limits are errors naming their line.
type csvStream struct {
	cr   *csv.Reader
	lim  *rowGuard
	enc  string
	last int // the line the last row ended on
	rows int
}

// newCSVStream decodes r (at the file's start) as enc, found by sniff.
func newCSVStream(r io.Reader, enc string) (*csvStream, error) {
	var text io.Reader
	switch enc {
	case "utf-8", "utf-8-bom":
		br := bufio.NewReader(r)
		if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
			br.Discard(3)
		}
		text, enc = br, "utf-8"
	case "utf-16":
		text = transform.NewReader(r, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	default:
		text = transform.NewReader(r, simplifiedchinese.GB18030.NewDecoder())
	}
	lim := &rowGuard{r: text}
	br := bufio.NewReaderSize(lim, csvBuffer)
	head, err := br.Peek(csvBuffer)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, decodeError(enc, err)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	lim.comma = ','
	if tabSeparated(string(head)) {
		cr.Comma, lim.comma = '\t', '\t'
	}
	return &csvStream{cr: cr, lim: lim, enc: enc}, nil
}

func decodeError(enc string, err error) error {
	switch enc {
	case "utf-16":
		return fmt.Errorf("the file starts with a UTF-16 byte order mark but is not valid UTF-16 (%v)", err)
	case "gb18030":
		return errors.New("the file is neither UTF-8 nor GBK/GB18030 text: save it as CSV (UTF-8)")
	}
	return err
}

// next reads the next row; io.EOF after the last. The row's fields are
// valid until the next call (the strings stay valid).
func (s *csvStream) next() (record, error) {
	fields, err := s.cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return record{}, io.EOF
	case errors.As(err, new(columnsError)):
		var ce columnsError
		errors.As(err, &ce)
		return record{}, ce
	case errors.Is(err, errRowTooLong):
		return record{}, fmt.Errorf("line %d: the row is longer than %d KiB (an unclosed quote?): a row holds at most %d columns", s.last+1, maxRowBytes>>10, MaxColumns)
	case err != nil:
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return record{}, fmt.Errorf("line %d: %v", pe.StartLine, pe.Err)
		}
		return record{}, decodeError(s.enc, err)
	}
	line, _ := s.cr.FieldPos(0)
	s.last, _ = s.cr.FieldPos(len(fields) - 1)
	s.lim.start = s.cr.InputOffset()
	if len(fields) > MaxColumns {
		return record{}, fmt.Errorf("line %d has %d columns; a file may have at most %d", line, len(fields), MaxColumns)
	}
	if s.rows++; s.rows > MaxRows+maxPreamble {
		return record{}, fmt.Errorf("the file has more than %d rows: split it", MaxRows)
	}
	for i, f := range fields {
		if len(f) > MaxFieldBytes {
			return record{}, fmt.Errorf("line %d, column %d: the cell is longer than %d KiB", line, i+1, MaxFieldBytes>>10)
		}
		if strings.IndexByte(f, 0) >= 0 {
			return record{}, fmt.Errorf("line %d holds NUL bytes: the file is not CSV text", line)
		}
		if s.enc != "utf-8" && strings.ContainsRune(f, utf8.RuneError) {
			return record{}, fmt.Errorf("line %d: %w", line, decodeError(s.enc, errors.New("undecodable bytes")))
		}
		fields[i] = strings.TrimSpace(strings.Trim(f, "\ufeff"))
	}
	return record{line: line, fields: fields}, nil
}

// tabSeparated says whether a file's header is split by tabs: a line among
// the first ones has three tabs or more and fewer commas than tabs (title
// lines above the header may have neither).
func tabSeparated(text string) bool {
	lines := strings.SplitN(text[:min(len(text), 64<<10)], "\n", maxPreamble+2)
	for _, l := range lines[:min(len(lines), maxPreamble+1)] {
		tabs := strings.Count(l, "\t")
		if tabs >= 3 && strings.Count(l, ",") < tabs {
			return true
		}
	}
	return false
}

func blank(fields []string) bool {
	for _, f := range fields {
		if f != "" {
			return false
		}
	}
	return true
}

// normHeader makes header cells comparable: lower case, a unit in brackets
// dropped ("消费(元)", "Cost (CNY)"), spaces, dots and underscores removed.
func normHeader(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	for _, br := range [][2]string{{"(", ")"}, {"（", "）"}, {"[", "]"}} {
		if i := strings.Index(h, br[0]); i > 0 {
			if j := strings.Index(h[i:], br[1]); j > 0 && i+j+len(br[1]) == len(h) {
				h = h[:i]
			}
		}
	}
	return strings.NewReplacer(" ", "", ".", "", "_", "", "-", "", "\u3000", "").Replace(h)
}

// columns maps a field to the column index it was found at, and keeps
// the header as the file writes it, so that a bad cell can be named by
// its column ("消费", column I) and not only by its field.
type columns struct {
	idx    map[string]int
	header []string
}

func (c columns) get(fields []string, name string) string {
	i, ok := c.idx[name]
	if !ok || i >= len(fields) {
		return ""
	}
	return model.StripBidi(fields[i])
}

// has says whether the header has a column for field.
func (c columns) has(field string) bool {
	_, ok := c.idx[field]
	return ok
}

// n is the number of fields found.
func (c columns) n() int { return len(c.idx) }

// column is where field is: its header cell as written and its position
// (1 for the first column); "" and 0 when the header has no such column.
func (c columns) column(field string) (string, int) {
	i, ok := c.idx[field]
	if !ok {
		return "", 0
	}
	name := ""
	if i < len(c.header) {
		name = model.StripBidi(c.header[i])
	}
	return name, i + 1
}

// aliasIndex maps normalised header names to fields; it is built once per
// file, so that a header cell costs one normalisation and one lookup.
type aliasIndex map[string]string

func newAliasIndex(aliases map[string][]string) aliasIndex {
	idx := aliasIndex{}
	for field, names := range aliases {
		for _, a := range names {
			if _, dup := idx[normHeader(a)]; !dup {
				idx[normHeader(a)] = field
			}
		}
	}
	return idx
}

// matchHeader maps header cells to fields by their aliases (the first cell
// of a field wins) and says whether every required field was found.
func matchHeader(header []string, idx aliasIndex, required []string) (columns, bool) {
	cols := columns{idx: map[string]int{}}
	for i, h := range header {
		n := normHeader(h)
		if n == "" {
			continue
		}
		if field, ok := idx[n]; ok {
			if _, taken := cols.idx[field]; !taken {
				cols.idx[field] = i
			}
		}
	}
	for _, f := range required {
		if _, ok := cols.idx[f]; !ok {
			return cols, false
		}
	}
	// The reader reuses its row: keep a copy of the header (at most
	// MaxColumns cells, each bounded).
	cols.header = make([]string, len(header))
	for i, h := range header {
		cols.header[i] = strings.Clone(clipCell(h))
	}
	return cols, true
}

// clipCell shortens a cell kept for messages to at most maxCell bytes.
func clipCell(s string) string {
	if len(s) <= maxCell {
		return s
	}
	return strings.ToValidUTF8(s[:maxCell], "")
}

// notes collects what an import says about rows it skipped or merged,
// keeping the first maxNotes.
type notes struct {
	list []string
	more int
}

func (n *notes) add(format string, args ...any) {
	if len(n.list) >= maxNotes {
		n.more++
		return
	}
	n.list = append(n.list, fmt.Sprintf(format, args...))
}

func (n *notes) all() []string {
	if n.more == 0 {
		return n.list
	}
	return append(append([]string(nil), n.list...), fmt.Sprintf("and %d more notes", n.more))
}

// checkCell refuses a name or identifier (field, called what in
// messages) that is too long or holds a control character.
func checkCell(field, v, what string) error {
	if len(v) > maxCell {
		return badCell(field, "too_long", v, "%s is longer than %d bytes", what, maxCell)
	}
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			return badCell(field, "control_char", v, "%s holds a control character", what)
		}
	}
	return nil
}
