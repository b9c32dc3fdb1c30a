package attribution

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxHeader bounds the header line of an input file.
const maxHeader = 1 << 20

// table reads a delimited file with a header row. The delimiter (comma,
// semicolon or tab) is the one the header uses most; a UTF-8 byte order
// mark is skipped; fields are trimmed.
type table struct {
	r     *csv.Reader
	col   map[string]int
	delim rune
}

func openTable(in io.Reader, required, optional []string) (*table, error) {
	br := bufio.NewReaderSize(in, 64<<10)
	head, err := readHeader(br)
	if err != nil {
		return nil, err
	}
	head = bytes.TrimPrefix(head, []byte("\ufeff"))
	delim := ','
	if n := bytes.Count(head, []byte(";")); n > bytes.Count(head, []byte(",")) {
		delim = ';'
	}
	if n := bytes.Count(head, []byte("\t")); n > bytes.Count(head, []byte(string(delim))) {
		delim = '\t'
	}
	r := csv.NewReader(io.MultiReader(bytes.NewReader(head), br))
	r.Comma = delim
	r.ReuseRecord = true
	r.TrimLeadingSpace = true
	names, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("line 1: %w", unwrapCSV(err))
	}
	t := &table{r: r, col: map[string]int{}, delim: delim}
	for i, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if _, dup := t.col[n]; dup && n != "" {
			return nil, fmt.Errorf("line 1: column %q appears twice", n)
		}
		t.col[n] = i
	}
	for _, n := range required {
		if _, ok := t.col[n]; !ok {
			return nil, fmt.Errorf("line 1: the header has no %q column (want %s; optional %s)", n,
				strings.Join(required, ", "), strings.Join(optional, ", "))
		}
	}
	for _, n := range optional {
		if _, ok := t.col[n]; !ok {
			t.col[n] = -1
		}
	}
	r.FieldsPerRecord = len(names)
	return t, nil
}

func readHeader(br *bufio.Reader) ([]byte, error) {
	var head []byte
	for {
		part, err := br.ReadSlice('\n')
		head = append(head, part...)
		if len(head) > maxHeader {
			return nil, errors.New("line 1: the header is longer than 1 MB")
		}
		switch {
		case err == nil:
			return head, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(bytes.TrimSpace(head)) == 0 {
				return nil, errors.New("the file is empty (want a header row)")
			}
			return head, nil
		default:
			return nil, err
		}
	}
}

// next returns the next record and its line, or io.EOF.
func (t *table) next() ([]string, int, error) {
	rec, err := t.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, 0, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, pe.StartLine, fmt.Errorf("line %d: %w", pe.StartLine, unwrapCSV(err))
		}
		return nil, 0, err
	}
	line, _ := t.r.FieldPos(0)
	return rec, line, nil
}

// field returns a named column of rec, trimmed ("" for a missing optional).
func (t *table) field(rec []string, name string) string {
	i := t.col[name]
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

func unwrapCSV(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// number parses a finite number; with semicolon-delimited files a decimal
// comma is accepted too.
func (t *table) number(s, what string, nonNegative bool) (float64, error) {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil && t.delim == ';' && strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		x, err = strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	}
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("%s %q is not a number", what, s)
	}
	if nonNegative && x < 0 {
		return 0, fmt.Errorf("%s %s is negative", what, s)
	}
	return x, nil
}

// ReadPaths reads path data as ChannelAttribution lays it out: a header
// with path and total_conversions, optionally total_conversion_value and
// total_null, then one row per path such as "Search > Email > Direct"
// with channels separated by sep (default ">").
func ReadPaths(in io.Reader, sep string) (*Journeys, error) {
	if sep == "" {
		sep = ">"
	}
	t, err := openTable(in, []string{"path", "total_conversions"}, []string{"total_conversion_value", "total_null"})
	if err != nil {
		return nil, err
	}
	js := NewJourneys()
	var chans []int32
	pathCol := t.col["path"]
	numCols := [3]int{t.col["total_conversions"], t.col["total_conversion_value"], t.col["total_null"]}
	numNames := [3]string{"total_conversions", "total_conversion_value", "total_null"}
	for {
		rec, line, err := t.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		chans = chans[:0]
		rest := strings.TrimSpace(rec[pathCol])
		if rest == "" {
			return nil, fmt.Errorf("line %d: the path is empty", line)
		}
		for {
			name, after, found := strings.Cut(rest, sep)
			name = strings.TrimSpace(name)
			if name == "" {
				return nil, fmt.Errorf("line %d: the path %q has an empty channel name", line, strings.TrimSpace(rec[pathCol]))
			}
			chans = append(chans, js.Channel(name))
			if !found {
				break
			}
			rest = after
		}
		var nums [3]float64
		for i, col := range numCols {
			s := ""
			if col >= 0 {
				s = strings.TrimSpace(rec[col])
			}
			if s == "" && i > 0 {
				continue
			}
			x, err := t.number(s, numNames[i], i != 1)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			nums[i] = x
		}
		if nums[0] == 0 && nums[1] != 0 {
			return nil, fmt.Errorf("line %d: total_conversion_value is %v but total_conversions is 0", line, nums[1])
		}
		js.AddPath(chans, nums[0], nums[1], nums[2])
	}
	return js, nil
}

// FileError is an error in one of the two files of touch-level data.
type FileError struct {
	File string // "touches" or "journeys"
	Err  error
}

func (e *FileError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// TouchStats says what reading touch-level data kept and left out.
type TouchStats struct {
	Journeys      int // rows of the journeys file
	Touches       int // rows of the touches file
	KeptTouches   int // inside their journey's window
	Unattributed  int // converting journeys left without touches
	UnattribConvs float64
}

// ReadTouches reads touch-level data: touches (journey_id, time, channel)
// and journeys (journey_id, converted, and optionally value, lead_at,
// opportunity_at, converted_at), times in RFC 3339. Touches after a
// journey's conversion or more than lookback before the end of its window
// are dropped (lookback 0 keeps all); a journey without a conversion time
// ends at its last touch.
func ReadTouches(touches, journeys io.Reader, lookback time.Duration) (*Journeys, TouchStats, error) {
	var st TouchStats
	type meta struct {
		converted     bool
		value         float64
		lead, opp, at int64
		line          int
	}
	jt, err := openTable(journeys, []string{"journey_id", "converted"}, []string{"value", "lead_at", "opportunity_at", "converted_at"})
	if err != nil {
		return nil, st, &FileError{"journeys", err}
	}
	ids := map[string]int32{}
	var metas []meta
	for {
		rec, line, err := jt.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, st, &FileError{"journeys", err}
		}
		m, err := func() (meta, error) {
			m := meta{line: line}
			id := jt.field(rec, "journey_id")
			if id == "" {
				return m, errors.New("journey_id is empty")
			}
			if i, dup := ids[id]; dup {
				return m, fmt.Errorf("journey %q is already on line %d", id, metas[i].line)
			}
			ids[strings.Clone(id)] = int32(len(metas))
			switch strings.ToLower(jt.field(rec, "converted")) {
			case "1", "true", "t", "yes", "y":
				m.converted = true
			case "0", "false", "f", "no", "n":
			default:
				return m, fmt.Errorf("converted %q: want true or false", jt.field(rec, "converted"))
			}
			if s := jt.field(rec, "value"); s != "" {
				v, err := jt.number(s, "value", false)
				if err != nil {
					return m, err
				}
				m.value = v
			}
			for _, f := range []struct {
				col string
				to  *int64
			}{{"lead_at", &m.lead}, {"opportunity_at", &m.opp}, {"converted_at", &m.at}} {
				*f.to = noTime
				if s := jt.field(rec, f.col); s != "" {
					tm, err := parseTime(s)
					if err != nil {
						return m, fmt.Errorf("%s: %w", f.col, err)
					}
					*f.to = tm
				}
			}
			return m, nil
		}()
		if err != nil {
			return nil, st, &FileError{"journeys", fmt.Errorf("line %d: %w", line, err)}
		}
		metas = append(metas, m)
	}
	st.Journeys = len(metas)

	tt, err := openTable(touches, []string{"journey_id", "time", "channel"}, nil)
	if err != nil {
		return nil, st, &FileError{"touches", err}
	}
	js := NewJourneys()
	type touch struct {
		at int64
		j  int32
		ch int32
	}
	var all []touch
	for {
		rec, line, err := tt.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, st, &FileError{"touches", err}
		}
		id := tt.field(rec, "journey_id")
		j, ok := ids[id]
		if !ok {
			return nil, st, &FileError{"touches", fmt.Errorf("line %d: journey %q is not in the journeys file", line, id)}
		}
		at, err := parseTime(tt.field(rec, "time"))
		if err != nil {
			return nil, st, &FileError{"touches", fmt.Errorf("line %d: time: %w", line, err)}
		}
		name := tt.field(rec, "channel")
		if name == "" {
			return nil, st, &FileError{"touches", fmt.Errorf("line %d: channel is empty", line)}
		}
		var c int32
		if id, ok := js.ids[name]; ok {
			c = id
		} else {
			c = js.Channel(strings.Clone(name))
		}
		all = append(all, touch{at: at, j: j, ch: c})
	}
	st.Touches = len(all)
	// Group by journey (counting sort keeps file order), then order by time.
	first := make([]int32, len(metas)+1)
	for _, t := range all {
		first[t.j+1]++
	}
	for j := range metas {
		first[j+1] += first[j]
	}
	grouped := make([]touch, len(all))
	fill := slices.Clone(first[:len(metas)])
	for _, t := range all {
		grouped[fill[t.j]] = t
		fill[t.j]++
	}
	all = nil
	var chans []int32
	var times []int64
	for j, m := range metas {
		ts := grouped[first[j]:first[j+1]]
		slices.SortStableFunc(ts, func(a, b touch) int { return cmpInt64(a.at, b.at) })
		times = times[:0]
		for _, t := range ts {
			times = append(times, t.at)
		}
		lo, hi := window(times, m.converted, m.at, lookback)
		if lo >= hi {
			if m.converted {
				st.Unattributed++
				st.UnattribConvs++
			}
			continue
		}
		chans = chans[:0]
		for _, t := range ts[lo:hi] {
			chans = append(chans, t.ch)
		}
		conv, null, value := 0.0, 1.0, 0.0
		if m.converted {
			conv, null, value = 1, 0, m.value
		}
		st.KeptTouches += hi - lo
		js.addTimed(chans, times[lo:hi], conv, value, null, m.lead, m.opp, m.at)
	}
	return js, st, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func parseTime(s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("%q is not an RFC 3339 time (like 2026-03-01T09:30:00+08:00)", s)
	}
	return t.UnixNano(), nil
}
