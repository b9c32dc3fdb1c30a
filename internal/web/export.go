package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// A workspace page's tables as files, from the same dataTables the page
// shows (docs/dashboards.md, docs/api.md):
//
//	page ?export=TABLE              that table as CSV
//	page ?export=TABLE&format=xlsx  that table as an XLSX workbook
//	twin ?format=csv[&table=TABLE]  the page's first table (or the one named) as CSV
//	twin ?format=xlsx[&table=TABLE] every table of the page (or the one named), a sheet each
//
// A paged list (persons, accounts, a campaign's members) exports every
// row its filters match, read and written a chunk at a time, at most
// listExportMax rows.

// The formats of a twin's answer.
const (
	formatJSON = "json"
	formatCSV  = "csv"
	formatXLSX = "xlsx"
)

// listExportMax bounds the rows of a paged list's export.
const listExportMax = 100_000

// listExportChunk is how many rows of a list an export reads at a time.
const listExportChunk = 1000

// truncatedHeader says that an export holds only the first rows of more
// ("100000 of 123456 rows").
const truncatedHeader = "X-Revloop-Export-Truncated"

// apiFormat reads a twin's ?format=: json (the default), csv or xlsx. A
// bad one is a *filterError naming the accepted values.
func apiFormat(r *http.Request) (string, error) {
	v := r.URL.Query().Get("format")
	switch f := strings.ToLower(strings.TrimSpace(v)); f {
	case "", formatJSON:
		return formatJSON, nil
	case formatCSV, formatXLSX:
		return f, nil
	}
	return "", &filterError{Param: "format", Key: "error.bad_format", Msg: fmt.Sprintf("format %q: want json, csv or xlsx", clip(v, 40))}
}

// exportRequested says which of a page's tables the request asks for as a
// file ("" for the page itself).
func exportRequested(r *http.Request) string { return r.URL.Query().Get("export") }

// exportFormat is the format of a page's export: csv (the default) or
// xlsx.
func exportFormat(r *http.Request) (string, error) {
	f, err := apiFormat(r)
	if err == nil && f == formatJSON {
		if v := r.URL.Query().Get("format"); v != "" {
			err = &filterError{Param: "format", Key: "error.bad_format", Msg: fmt.Sprintf("format %q: want csv or xlsx", clip(v, 40))}
		} else {
			f = formatCSV
		}
	}
	return f, err
}

// exportName names a page's file: PAGE[-TABLE][-FROM_TO].
func exportName(page, table string, f viewFilter) string {
	name := page
	if table != "" {
		name += "-" + table
	}
	if f.From != "" || f.To != "" {
		name += "-" + f.From + "_" + f.To
	}
	return name
}

// exportTable answers ?export=<id> (and format) with that table as a file
// and reports whether it did; an unknown id is a 404, an unknown format a
// 400.
func (s *Server) exportTable(w http.ResponseWriter, r *http.Request, page string, f viewFilter, tables ...*dataTable) bool {
	id := exportRequested(r)
	if id == "" {
		return false
	}
	format, err := exportFormat(r)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.bad_format")
		return true
	}
	for _, t := range tables {
		if t != nil && t.ID == id {
			s.answerFile(w, r, false, format, exportName(page, t.ID, f), t)
			return true
		}
	}
	s.renderError(w, r, http.StatusNotFound, "error.not_found")
	return true
}

// apiTables answers a twin's ?format=csv or xlsx from the tables its page
// shows (in the page's order, nil ones left out): CSV holds one table, the
// one ?table= names or else the first; XLSX holds every table, a sheet
// each, or only the one ?table= names. An unknown table is a 400 naming
// the page's tables.
func (s *Server) apiTables(w http.ResponseWriter, r *http.Request, format, page string, f viewFilter, tables ...*dataTable) {
	tables = slices.DeleteFunc(slices.Clone(tables), func(t *dataTable) bool { return t == nil })
	id := r.URL.Query().Get("table")
	if id == "" {
		if format == formatXLSX || len(tables) == 0 {
			s.answerFile(w, r, true, format, exportName(page, "", f), tables...)
			return
		}
		id = tables[0].ID
	}
	var ids []string
	for _, t := range tables {
		if t.ID == id {
			name := exportName(page, t.ID, f)
			s.answerFile(w, r, true, format, name, t)
			return
		}
		ids = append(ids, t.ID)
	}
	writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("table %q: want one of %s", clip(id, 40), strings.Join(ids, ", ")))
}

// answerFile answers tables in format: CSV (the first table) or XLSX.
// api says how to answer a failure: as JSON or as a page.
func (s *Server) answerFile(w http.ResponseWriter, r *http.Request, api bool, format, name string, tables ...*dataTable) {
	if format == formatCSV {
		t := &dataTable{}
		if len(tables) > 0 {
			t = tables[0]
		}
		writeCSV(w, name, t)
		return
	}
	if err := writeWorkbook(w, name, tables...); err != nil {
		s.fileFailed(w, r, api, err)
	}
}

// fileFailed answers an export that failed: 500 (as JSON for the API)
// when nothing was sent yet; once the file had started, only the log
// says it.
func (s *Server) fileFailed(w http.ResponseWriter, r *http.Request, api bool, err error) {
	switch {
	case errors.Is(err, errAnswerStarted):
		s.log.Warn("export cut short", "path", r.URL.Path, "err", err)
	case api:
		s.apiInternal(w, r, err)
	default:
		s.pageInternal(w, r, "export", err)
	}
}

// listExport is a list too long to hold in memory, written as a file
// while it is read.
type listExport struct {
	Table *dataTable // the columns, title and zone; its rows are ignored
	// Next gives the next rows, none at the end.
	Next func() ([][]cell, error)
	// Total is how many rows match; over Max, the file holds the first
	// Max, says so in truncatedHeader and (XLSX) in Cut below the rows.
	Total int64
	Max   int
	Cut   string
}

// cut says whether the list holds more rows than an export does, and
// sets truncatedHeader if so.
func (e listExport) cut(w http.ResponseWriter) bool {
	if e.Total <= int64(e.Max) {
		return false
	}
	w.Header().Set(truncatedHeader, fmt.Sprintf("%d of %d rows", e.Max, e.Total))
	return true
}

// each hands put the list's rows, up to the bound, starting with first
// (rows already read).
func (e listExport) each(first [][]cell, put func([]cell) error) error {
	rows, n := first, 0
	for len(rows) > 0 {
		for _, row := range rows[:min(len(rows), e.Max-n)] {
			if err := put(row); err != nil {
				return err
			}
		}
		if n += len(rows); n >= e.Max {
			return nil
		}
		var err error
		if rows, err = e.Next(); err != nil {
			return err
		}
	}
	return nil
}

// streamList answers a list as a file named name (without extension) in
// format. api says how to answer a failure before the file starts.
func (s *Server) streamList(w http.ResponseWriter, r *http.Request, api bool, format, name string, e listExport) {
	if format == formatXLSX {
		b := newWorkbook()
		defer b.close()
		err := b.list(w, e)
		if err == nil {
			err = b.send(w, name)
		}
		if err != nil {
			s.fileFailed(w, r, api, err)
		}
		return
	}
	first, err := e.Next()
	if err != nil {
		s.fileFailed(w, r, api, err)
		return
	}
	e.cut(w)
	c := startCSV(w, name, e.Table.Columns, e.Table.Loc)
	written := 0
	err = e.each(first, func(row []cell) error {
		c.row(row)
		if written++; written%listExportChunk != 0 {
			return nil
		}
		return c.flush() // a client that left stops the reading
	})
	if err == nil {
		err = c.flush()
	}
	if err != nil {
		s.fileFailed(w, r, api, fmt.Errorf("%w: %w", errAnswerStarted, err))
	}
}

// list writes a list as a sheet of the workbook, its columns sized on
// its first rows, with its Cut note below the rows when it was cut (and
// truncatedHeader set on w).
func (b *workbook) list(w http.ResponseWriter, e listExport) error {
	first, err := e.Next()
	if err != nil {
		return err
	}
	title := e.Table.Title
	if title == "" {
		title = e.Table.ID
	}
	sh, err := b.sheet(title, e.Table.Columns, e.Table.Loc, first)
	if err != nil {
		return err
	}
	if err := e.each(first, sh.add); err != nil {
		return err
	}
	if e.cut(w) && e.Cut != "" {
		if err := sh.note(e.Cut); err != nil {
			return err
		}
	}
	return sh.end()
}
