// Package importer reads CSV files exported from ad platforms (daily costs)
// and from event tools (registrations, check-ins, badge scans) and stores
// them: costs upserted by day × campaign × ad group × keyword, offline
// touches as events with a message id derived from the row, so that
// importing a file twice changes nothing. A file is imported all or
// nothing; every bad row is reported with its line number.
//
// The parsing layer (ParseCosts, ParseEvents) is pure; Importer adds the
// store.
package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Limits on what one file may hold.
const (
	MaxFileBytes = 64 << 20
	MaxRows      = 500_000
	maxCell      = 1000 // bytes in one name or identifier
	maxErrors    = 100  // bad rows listed; the rest are counted
	maxPreamble  = 20   // title lines an export may put above its header
)

// RowError is one bad row.
type RowError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
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

func (r *rowErrors) add(line int, format string, args ...any) {
	r.e.Total++
	if len(r.e.Rows) < maxErrors {
		r.e.Rows = append(r.e.Rows, RowError{Line: line, Reason: fmt.Sprintf(format, args...)})
	}
}

func (r *rowErrors) err() error {
	if r.e.Total == 0 {
		return nil
	}
	return &r.e
}

// decodeText turns a file into UTF-8 text: UTF-8 with or without a byte
// order mark, UTF-16 with one (Excel's "Unicode text" and Google Ads'
// Excel CSV), and otherwise GB18030, a superset of GBK and GB2312 (Chinese
// Excel's default). It names the encoding it used.
func decodeText(b []byte) (string, string, error) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		b = b[3:]
		if !utf8.Valid(b) {
			return "", "", errors.New("the file starts with a UTF-8 byte order mark but is not valid UTF-8")
		}
		return string(b), "utf-8", nil
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		out, err := io.ReadAll(transform.NewReader(bytes.NewReader(b), unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()))
		if err != nil || strings.ContainsRune(string(out), utf8.RuneError) {
			return "", "", errors.New("the file starts with a UTF-16 byte order mark but is not valid UTF-16")
		}
		return string(out), "utf-16", nil
	case utf8.Valid(b):
		return string(b), "utf-8", nil
	}
	out, err := io.ReadAll(transform.NewReader(bytes.NewReader(b), simplifiedchinese.GB18030.NewDecoder()))
	if err != nil || !utf8.Valid(out) || strings.ContainsRune(string(out), utf8.RuneError) {
		return "", "", errors.New("the file is neither UTF-8 nor GBK/GB18030 text: save it as CSV (UTF-8)")
	}
	return string(out), "gb18030", nil
}

// record is one CSV row with the line it starts on.
type record struct {
	line   int
	fields []string
}

// readCSV decodes and splits a file; the delimiter is a comma, or a tab
// for tab-separated exports (Excel's "Unicode text", Google Ads' Excel CSV).
func readCSV(data []byte) ([]record, string, error) {
	if len(data) == 0 {
		return nil, "", errors.New("the file is empty")
	}
	if len(data) > MaxFileBytes {
		return nil, "", fmt.Errorf("the file is %d bytes; the limit is %d MiB", len(data), MaxFileBytes>>20)
	}
	text, enc, err := decodeText(data)
	if err != nil {
		return nil, "", err
	}
	if strings.IndexByte(text, 0) >= 0 {
		return nil, "", errors.New("the file holds NUL bytes: it is not CSV text")
	}
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	if tabSeparated(text) {
		r.Comma = '\t'
	}
	var out []record
	for {
		fields, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, enc, fmt.Errorf("line %d: %v", pe.StartLine, pe.Err)
			}
			return nil, enc, err
		}
		line, _ := r.FieldPos(0)
		if len(out) >= MaxRows+maxPreamble {
			return nil, enc, fmt.Errorf("the file has more than %d rows: split it", MaxRows)
		}
		for i := range fields {
			fields[i] = strings.TrimSpace(strings.Trim(fields[i], "\ufeff"))
		}
		out = append(out, record{line: line, fields: fields})
	}
	return out, enc, nil
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

// columns maps a field to the column index it was found at.
type columns map[string]int

func (c columns) get(fields []string, name string) string {
	i, ok := c[name]
	if !ok || i >= len(fields) {
		return ""
	}
	return fields[i]
}

// matchHeader maps header cells to fields by their aliases and says how
// many of the fields were found and whether every required one was.
func matchHeader(header []string, aliases map[string][]string, required []string) (columns, bool) {
	cols := columns{}
	for i, h := range header {
		n := normHeader(h)
		if n == "" {
			continue
		}
		for field, names := range aliases {
			if _, taken := cols[field]; taken {
				continue
			}
			for _, a := range names {
				if n == normHeader(a) {
					cols[field] = i
					break
				}
			}
		}
	}
	for _, f := range required {
		if _, ok := cols[f]; !ok {
			return cols, false
		}
	}
	return cols, true
}

func checkCell(v, what string) error {
	if len(v) > maxCell {
		return fmt.Errorf("%s is longer than %d bytes", what, maxCell)
	}
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("%s holds a control character", what)
		}
	}
	return nil
}
