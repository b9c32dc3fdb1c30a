package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/importer"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The imports page (/imports): upload a cost or event file from the
// browser, watch its job, read what it did — rows imported and skipped,
// or every bad row with its line, column and what to fix — and the
// history of past imports. Its JSON twin is GET /api/v1/imports/history.

// importKinds are the kinds of file, in the order the form offers them.
var importKinds = []string{"costs", "events"}

// importsPage is the page's content.
type importsPage struct {
	Filter     viewFilter
	Kind       string // the kind chosen in the form
	Create     bool   // create_campaigns ticked
	Kinds      []string
	LimitBytes int64
	Limit      string // the upload limit in words ("64 MiB")
	TooLarge   string // what a file over it is told
	Error      string // why an upload was refused
	Notice     string // a file imported before
	Job        *model.Job
	Outcome    *importOutcomeView // the watched job, once it ended
	History    *dataTable
	Help       []importHelp
	Layouts    []importLayout
}

func (importsPage) NavKey() string { return "imports" }

// importOutcomeView is what an ended import did.
type importOutcomeView struct {
	Succeeded bool
	File      string
	KPIs      []kpi
	Errors    *dataTable // the bad rows, line by line
	More      int        // bad rows beyond those listed
	Refused   string     // why the whole file was refused
}

// importHelp lists the columns of one kind of file.
type importHelp struct {
	Kind    string
	Columns []importColumnHelp
	Samples []sampleLink
}

type importColumnHelp struct {
	Field, HeaderZH, HeaderEN, Meaning string
	Required, OneOf                    bool
	Names                              string // every header name accepted
}

type sampleLink struct{ Lang, Href string }

// importLayout is a platform export the cost import reads as it is.
type importLayout struct {
	Name, Platform, Headers string
}

// importRecord is one import of the history: the job that ran it and its
// outcome.
type importRecord struct {
	JobID      int64          `json:"job_id"`
	Kind       string         `json:"kind"` // costs or events
	File       string         `json:"file_name"`
	State      model.JobState `json:"state"`
	CreatedBy  string         `json:"created_by"`
	CreatedAt  time.Time      `json:"created_at"`
	FinishedAt *time.Time     `json:"finished_at"`
	Layout     string         `json:"layout,omitempty"`
	RowsRead   int64          `json:"rows_read"`
	RowsNew    int64          `json:"rows_new"`
	RowsUpdate int64          `json:"rows_updated"`
	RowsSame   int64          `json:"rows_same"`
	RowsSkip   int64          `json:"rows_skipped"`
	BadRows    int64          `json:"bad_rows"`
	Error      string         `json:"error,omitempty"`
}

// maxImportHistory bounds the history a page shows.
const maxImportHistory = 500

// importHistory is the import jobs created in the filter's range, newest
// first, with what each did: the page's table and its JSON twin.
func (s *Server) importHistory(ctx context.Context, f viewFilter) ([]importRecord, error) {
	w := f.Period.Window()
	jobs, err := s.store.JobsCreated(ctx, "import", w.From, w.To, maxImportHistory)
	if err != nil {
		return nil, err
	}
	out := make([]importRecord, 0, len(jobs))
	for _, j := range jobs {
		rec := importRecord{JobID: j.ID, Kind: strings.TrimPrefix(j.Kind, "import."), State: j.State, CreatedBy: j.CreatedBy,
			CreatedAt: j.CreatedAt, FinishedAt: j.FinishedAt, Error: j.Error}
		switch j.State {
		case model.JobSucceeded:
			var res importer.Result
			if json.Unmarshal(j.Result, &res) == nil {
				rec.File, rec.Layout = res.FileName, res.Layout
				rec.RowsRead, rec.RowsNew, rec.RowsUpdate = int64(res.RowsRead), int64(res.RowsNew), int64(res.RowsUpdated)
				rec.RowsSame, rec.RowsSkip = int64(res.RowsSame), int64(res.RowsSkipped)
			}
		case model.JobFailed:
			var res importer.FailedResult
			if json.Unmarshal(j.Result, &res) == nil {
				rec.File, rec.BadRows = res.FileName, int64(res.BadRowCount)
			}
		}
		out = append(out, rec)
	}
	return out, nil
}

// historyTable is the history as the page's table.
func historyTable(l Locale, recs []importRecord, loc *time.Location) *dataTable {
	t := &dataTable{ID: "history", Title: l.T("imports.history_title"), Loc: loc, Empty: l.T("imports.history_empty"), Columns: []column{
		{Key: "created", Label: l.T("imports.col.created"), Kind: kindTime},
		{Key: "kind", Label: l.T("imports.col.kind"), Kind: kindText},
		{Key: "file", Label: l.T("imports.col.file"), Kind: kindText},
		{Key: "state", Label: l.T("imports.col.state"), Kind: kindText},
		{Key: "read", Label: l.T("imports.col.read"), Tip: l.T("tip.rows_read"), Kind: kindInt},
		{Key: "new", Label: l.T("imports.col.new"), Tip: l.T("tip.rows_new"), Kind: kindInt},
		{Key: "updated", Label: l.T("imports.col.updated"), Tip: l.T("tip.rows_updated"), Kind: kindInt},
		{Key: "same", Label: l.T("imports.col.same"), Tip: l.T("tip.rows_same"), Kind: kindInt},
		{Key: "skipped", Label: l.T("imports.col.skipped"), Tip: l.T("tip.rows_skipped"), Kind: kindInt},
		{Key: "bad", Label: l.T("imports.col.bad"), Tip: l.T("tip.bad_rows"), Kind: kindInt},
		{Key: "by", Label: l.T("imports.col.by"), Kind: kindText},
	}}
	for _, r := range recs {
		href := fmt.Sprintf("/imports?job=%d#result", r.JobID)
		t.Rows = append(t.Rows, []cell{
			{V: r.CreatedAt, Href: href},
			{V: r.Kind, Text: l.T("imports.kind." + r.Kind)},
			{V: r.File, Href: href},
			{V: string(r.State), Text: l.T("job.state." + string(r.State))},
			{V: r.RowsRead}, {V: r.RowsNew}, {V: r.RowsUpdate}, {V: r.RowsSame}, {V: r.RowsSkip}, {V: r.BadRows},
			{V: r.CreatedBy},
		})
	}
	return t
}

// importsPage answers GET /imports.
func (s *Server) importsPage(w http.ResponseWriter, r *http.Request) {
	s.renderImports(w, r, http.StatusOK, importsPage{Kind: "costs"})
}

// renderImports fills the page around p (the form as sent, an error) and
// renders it with code.
func (s *Server) renderImports(w http.ResponseWriter, r *http.Request, code int, p importsPage) {
	ctx := r.Context()
	l := s.catalog.locale(langOnly(r))
	cal, err := s.store.Calendar(ctx)
	if err != nil {
		s.pageInternal(w, r, "imports page", err)
		return
	}
	f, ok := s.toolFilter(w, r, cal, &p.Error, &code)
	if !ok {
		return
	}
	p.Filter = f
	p.Kinds, p.LimitBytes = importKinds, maxImportBody
	p.Limit, p.TooLarge = l.T("imports.limit", "mib", maxImportBody>>20), l.T("imports.error.too_large", "mib", maxImportBody>>20)
	p.Help, p.Layouts = importHelpFor(l), importLayouts()
	if id, err := strconv.ParseInt(r.URL.Query().Get("job"), 10, 64); err == nil && id > 0 && p.Job == nil {
		j, err := s.store.GetJob(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			s.pageInternal(w, r, "imports page", err)
			return
		case strings.HasPrefix(j.Kind, "import."):
			p.Job = &j
		}
	}
	if p.Job != nil && p.Job.State.Done() {
		p.Outcome = importOutcome(l, *p.Job, cal.Loc)
	}
	recs, err := s.importHistory(ctx, p.Filter)
	if err != nil {
		s.pageInternal(w, r, "imports history", err)
		return
	}
	p.History = historyTable(l, recs, cal.Loc)
	p.History.prepare(r, "created", true)
	var errTable *dataTable
	if p.Outcome != nil {
		errTable = p.Outcome.Errors
	}
	if s.exportTable(w, r, "imports", p.Filter, p.History, errTable) {
		return
	}
	s.render(w, r, code, "imports", "imports.title", p)
}

// importOutcome says what an ended import job did.
func importOutcome(l Locale, j model.Job, loc *time.Location) *importOutcomeView {
	o := &importOutcomeView{Succeeded: j.State == model.JobSucceeded}
	if o.Succeeded {
		var res importer.Result
		if json.Unmarshal(j.Result, &res) != nil {
			return o
		}
		o.File = res.FileName
		fig := func(id, label string, v int) kpi {
			return kpi{ID: id, Label: l.T(label), Tip: l.T("tip." + id), Value: formatInt(int64(v)), Raw: strconv.Itoa(v)}
		}
		o.KPIs = []kpi{fig("rows_read", "imports.col.read", res.RowsRead), fig("rows_new", "imports.col.new", res.RowsNew)}
		if j.Kind == "import.costs" {
			o.KPIs = append(o.KPIs, fig("rows_updated", "imports.col.updated", res.RowsUpdated))
		}
		o.KPIs = append(o.KPIs, fig("rows_same", "imports.col.same", res.RowsSame), fig("rows_skipped", "imports.col.skipped", res.RowsSkipped))
		o.KPIs[1].Accent = true
		return o
	}
	var res importer.FailedResult
	_ = json.Unmarshal(j.Result, &res)
	o.File = res.FileName
	if res.BadRowCount == 0 {
		o.Refused = j.Error
		return o
	}
	o.More = res.BadRowCount - len(res.BadRows)
	o.Errors = badRowsTable(l, res.BadRows)
	o.Errors.Loc = loc
	return o
}

// badRowsTable lists bad rows: the line, the column as the file names it
// (and its letter, as a spreadsheet shows it), the value, what to fix in
// the reader's language, and the importer's own words.
func badRowsTable(l Locale, rows []importer.RowError) *dataTable {
	t := &dataTable{ID: "errors", Columns: []column{
		{Key: "line", Label: l.T("imports.err.line"), Kind: kindInt},
		{Key: "column", Label: l.T("imports.err.column"), Kind: kindText},
		{Key: "value", Label: l.T("imports.err.value"), Kind: kindText},
		{Key: "fix", Label: l.T("imports.err.fix"), Kind: kindText},
		{Key: "detail", Label: l.T("imports.err.detail"), Kind: kindText},
	}}
	for _, e := range rows {
		col := ""
		if e.ColumnIndex > 0 {
			col = l.T("imports.err.column_at", "letter", columnLetter(e.ColumnIndex), "name", e.Column)
		}
		t.Rows = append(t.Rows, []cell{{V: int64(e.Line)}, {V: col}, {V: e.Value}, {V: rowFix(l, e)}, {V: e.Reason}})
	}
	t.Sort = "line"
	return t
}

// rowFix says what is wrong with a row and how to fix it, in the
// reader's language when the importer named the problem (its code),
// else in the importer's words.
func rowFix(l Locale, e importer.RowError) string {
	if e.Code == "" {
		return e.Reason
	}
	key := "imports.fix." + e.Code
	s := l.T(key, "value", e.Value, "column", e.Column)
	if s == key {
		return e.Reason
	}
	return s
}

// columnLetter names a column as a spreadsheet does: 1 → A, 27 → AA.
func columnLetter(n int) string {
	var b []byte
	for n > 0 {
		n--
		b = append([]byte{byte('A' + n%26)}, b...)
		n /= 26
	}
	return string(b)
}

// importHelpFor lists the columns of each kind of file, read from the
// importer, so that a column it learns shows here by itself.
func importHelpFor(l Locale) []importHelp {
	var out []importHelp
	for _, kind := range importKinds {
		h := importHelp{Kind: kind}
		for _, c := range importer.Columns(kind) {
			meaning := l.T("imports.field." + kind + "." + c.Field)
			if meaning == "imports.field."+kind+"."+c.Field {
				meaning = l.T("imports.field.other")
			}
			h.Columns = append(h.Columns, importColumnHelp{Field: c.Field, HeaderZH: c.HeaderName("zh-CN"), HeaderEN: c.HeaderName("en"),
				Meaning: meaning, Required: c.Required, OneOf: c.OneOf != "", Names: strings.Join(c.Names, " · ")})
		}
		for _, lang := range []string{"zh-CN", "en"} {
			h.Samples = append(h.Samples, sampleLink{Lang: lang, Href: "/imports/samples/" + kind + "-" + lang + ".csv"})
		}
		out = append(out, h)
	}
	return out
}

// importLayouts are the platform exports the cost import recognises.
func importLayouts() []importLayout {
	var out []importLayout
	for _, lay := range importer.CostLayouts {
		if lay.Name == "generic" {
			continue
		}
		var heads []string
		for _, f := range []string{"date", "account", "campaign", "ad_group", "keyword", "impressions", "clicks", "cost"} {
			if names := lay.Aliases[f]; len(names) > 0 {
				heads = append(heads, names[0])
			}
		}
		out = append(out, importLayout{Name: lay.Name, Platform: lay.Platform, Headers: strings.Join(heads, ", ")})
	}
	return out
}

// importSample answers GET /imports/samples/{file}: costs-zh-CN.csv,
// events-en.csv...
func (s *Server) importSample(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	kind, lang, ok := strings.Cut(strings.TrimSuffix(name, ".csv"), "-")
	if !ok || !strings.HasSuffix(name, ".csv") || (lang != "zh-CN" && lang != "en") || importer.Columns(kind) == nil {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="revloop-%s-sample-%s.csv"`, kind, lang))
	h.Set("Cache-Control", "no-store")
	w.Write(importer.Sample(kind, lang))
}

// uploadSlack is what a multipart form may add to the file it carries
// (boundaries, the other fields).
const uploadSlack = 64 << 10

// importsUpload answers POST /imports: a multipart form with kind,
// create_campaigns and the file. The file goes to a temporary file as it
// arrives (never whole into memory), then into the database and a job;
// the answer is a redirect to the page watching that job. A file over the
// limit, a missing file or another import running answer the page again
// with the reason.
func (s *Server) importsUpload(w http.ResponseWriter, r *http.Request) {
	l := s.catalog.locale(langOnly(r))
	p := importsPage{Kind: "costs"}
	refuse := func(code int, msg string) {
		p.Error = msg
		s.renderImports(w, r, code, p)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxImportBody+uploadSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		refuse(http.StatusBadRequest, l.T("imports.error.no_file"))
		return
	}
	tmp, err := os.CreateTemp("", "revloop-upload-*.csv")
	if err != nil {
		s.pageInternal(w, r, "import upload", err)
		return
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	var name string
	var size int64
	gotFile := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if tooLarge(err) {
				refuse(http.StatusRequestEntityTooLarge, l.T("imports.error.too_large", "mib", maxImportBody>>20))
				return
			}
			refuse(http.StatusBadRequest, l.T("imports.error.unreadable"))
			return
		}
		switch part.FormName() {
		case "kind":
			v, _ := io.ReadAll(io.LimitReader(part, 64))
			p.Kind = strings.TrimSpace(string(v))
		case "create_campaigns":
			v, _ := io.ReadAll(io.LimitReader(part, 64))
			p.Create = strings.TrimSpace(string(v)) != ""
		case "file":
			gotFile = true
			name = uploadName(part)
			size, err = io.Copy(tmp, io.LimitReader(part, maxImportBody+1))
			if err != nil {
				if tooLarge(err) {
					refuse(http.StatusRequestEntityTooLarge, l.T("imports.error.too_large", "mib", maxImportBody>>20))
					return
				}
				refuse(http.StatusBadRequest, l.T("imports.error.unreadable"))
				return
			}
			if size > maxImportBody {
				refuse(http.StatusRequestEntityTooLarge, l.T("imports.error.too_large", "mib", maxImportBody>>20))
				return
			}
		}
		part.Close()
	}
	if p.Kind != "costs" && p.Kind != "events" {
		p.Kind = "costs"
		refuse(http.StatusBadRequest, l.T("imports.error.kind"))
		return
	}
	if !gotFile || size == 0 {
		refuse(http.StatusBadRequest, l.T("imports.error.no_file"))
		return
	}
	// The file is in: the import no longer depends on this request.
	ictx := context.WithoutCancel(r.Context())
	j, res, err := s.app.StartImport(ictx, p.Kind, name, tmp, p.Create, s.actor(r))
	var busy *store.JobBusyError
	switch {
	case errors.As(err, &busy):
		p.Job = &busy.Holder
		refuse(http.StatusConflict, l.T("imports.error.busy"))
		return
	case err != nil && isInputError(err):
		refuse(http.StatusBadRequest, l.T("imports.error.refused", "reason", err.Error()))
		return
	case err != nil:
		s.pageInternal(w, r, "import upload", err)
		return
	case j.ID == 0:
		cal, cerr := s.store.Calendar(r.Context())
		if cerr != nil {
			s.pageInternal(w, r, "import upload", cerr)
			return
		}
		p.Notice = l.T("imports.already", "file", res.FileName, "time", res.CreatedAt.In(cal.Loc).Format("2006-01-02 15:04"))
		s.renderImports(w, r, http.StatusOK, p)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/imports?job=%d", j.ID), http.StatusSeeOther)
}

// uploadName is the file's own name as the browser sent it (without a
// path), at most 200 bytes; it is shown escaped wherever it appears.
func uploadName(part *multipart.Part) string {
	name := strings.TrimSpace(filepath.Base(strings.ReplaceAll(part.FileName(), `\`, "/")))
	if name == "" || name == "." || name == "/" {
		name = "upload.csv"
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	return clip(name, 200)
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// apiImportHistory answers GET /api/v1/imports/history?from=&to=: the
// imports page's history as JSON.
func (s *Server) apiImportHistory(w http.ResponseWriter, r *http.Request) {
	format, err := apiFormat(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	f, err := s.filterOf(r, nil, "")
	if s.apiFailed(w, r, err, "") {
		return
	}
	recs, err := s.importHistory(r.Context(), f)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	if format != formatJSON {
		t := historyTable(s.fileLocale(r, format), recs, f.Period.Cal.Loc)
		t.prepare(r, "created", true)
		s.apiTables(w, r, format, "imports", f, t)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": f.From, "to": f.To, "imports": recs})
}
