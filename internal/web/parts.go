package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The values the partial templates (templates/partials.html) take, each
// built in a template by the function of the same name:
//
//	{{template "filters" (filterPart $.L .Filter "/dashboards/ads" $.Content.Models)}}
//	{{template "kpis" (kpisPart $.L .KPIs)}}
//	{{template "table" (tablePart $.L .Campaigns)}}
//	{{template "chart" .Trend}}
//	{{template "progress" (jobPart $.L .Job)}}

type hiddenField struct{ Name, Value string }

type partFilter struct {
	L      Locale
	F      viewFilter
	Action string
	Models []string
	Keep   []hiddenField // other parameters the form must keep
}

// filterPart is the date range (and model) form of a page. It keeps the
// URL's other parameters (a table's order, a search) as hidden fields.
func filterPart(l Locale, f viewFilter, action string, models []string, keep ...string) partFilter {
	p := partFilter{L: l, F: f, Action: action, Models: models}
	for i := 0; i+1 < len(keep); i += 2 {
		if keep[i+1] != "" {
			p.Keep = append(p.Keep, hiddenField{keep[i], keep[i+1]})
		}
	}
	return p
}

// kpi is one headline figure.
type kpi struct {
	ID     string // stable id (the metric's word), for tests and the API
	Label  string
	Tip    string
	Value  string // formatted
	Raw    string // the unformatted value, as the API gives it
	Sub    string // a second line: the split, the comparison
	Accent bool
	Meter  *meter // progress towards a target
}

// meter is progress towards a target.
type meter struct {
	Now   int     // percent, for aria
	Width float64 // bar length, capped at 100
	Over  bool    // target reached
	Label string
}

// newMeter is the meter of value against target; nil without a target.
func newMeter(l Locale, value, target float64) *meter {
	if target <= 0 || math.IsNaN(value) {
		return nil
	}
	pct := value / target * 100
	return &meter{Now: int(math.Round(pct)), Width: math.Min(100, math.Max(0, pct)), Over: pct >= 100,
		Label: l.T("target.progress", "percent", formatDecimal(pct, 0))}
}

type partKPIs struct {
	L    Locale
	KPIs []kpi
}

func kpisPart(l Locale, k []kpi) partKPIs { return partKPIs{L: l, KPIs: k} }

type partTable struct {
	L Locale
	T *dataTable
}

func tablePart(l Locale, t *dataTable) partTable { return partTable{L: l, T: t} }

// partJob is a long operation's progress bar, refreshed every second by
// htmx from GET /jobs/{id} until the job ends.
type partJob struct {
	L          Locale
	J          model.Job
	Kind       string // the operation in words
	Done       bool
	Known      bool    // the total is known
	Percent    float64 // 0..100
	Detail     string
	Summary    string // what the job did, in words, once it ended (jobSummary)
	Error      string // why it failed or waits, as the job says it
	ResultHref string
}

func jobPart(l Locale, j model.Job) partJob {
	p := partJob{L: l, J: j, Kind: jobKindText(l, j.Kind), Done: j.State.Done()}
	if j.ProgressTotal > 0 {
		p.Known = true
		p.Percent = math.Min(100, float64(j.ProgressDone)/float64(j.ProgressTotal)*100)
	}
	if p.Done && j.State == model.JobSucceeded {
		p.Known, p.Percent = true, 100
	}
	unit := j.ProgressUnit
	if unit == "" {
		unit = "items"
	}
	switch {
	case j.ProgressTotal > 0:
		p.Detail = l.T("job.progress_of", "done", formatInt(j.ProgressDone), "total", formatInt(j.ProgressTotal), "unit", l.T("job.unit."+unitKey(unit)))
	case j.ProgressDone > 0:
		p.Detail = l.T("job.progress", "done", formatInt(j.ProgressDone), "unit", l.T("job.unit."+unitKey(unit)))
	}
	p.Error = j.Error
	if p.Done {
		p.Summary = jobSummary(l, j)
	}
	if strings.HasPrefix(j.Kind, "import.") && j.State == model.JobFailed && strings.Contains(j.Error, "bad row") {
		p.Error = "" // every bad row is listed on the import's result, line by line
	}
	if strings.HasPrefix(j.Kind, "import.") && p.Done {
		p.ResultHref = fmt.Sprintf("/imports?job=%d#result", j.ID)
	}
	return p
}

// unitKey maps a job's progress unit to a catalogue key.
func unitKey(u string) string {
	switch u {
	case "rows", "bytes", "persons", "conversions", "touches", "events", "touchpoints", "leads":
		return u
	}
	return "items"
}

// jobKindText names an operation: import.costs → "Cost import".
func jobKindText(l Locale, kind string) string {
	key := "job.kind." + strings.ReplaceAll(kind, ".", "_")
	if s := l.T(key); s != key {
		return s
	}
	return kind
}

// jobFragment answers GET /jobs/{id}: the progress bar alone, for htmx to
// swap in; it stops polling once the job has ended.
func (s *Server) jobFragment(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	j, err := s.store.GetJob(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err != nil {
		s.pageInternal(w, r, "job progress", err)
		return
	}
	s.renderPart(w, r, "progress", jobPart(s.catalog.locale(langOnly(r)), j))
}

// pageID reads a page's {id}: a positive number, or the page is not found.
func pageID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// renderPart writes one partial template as an HTML fragment.
func (s *Server) renderPart(w http.ResponseWriter, r *http.Request, name string, data any) {
	t, ok := s.pages["partials"]
	if !ok {
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("render part", "part", name, "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	fmt.Fprint(w, buf.String())
}
