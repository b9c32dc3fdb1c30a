package web

import (
	"encoding/json"
	"strings"

	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/importer"
	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/scoring"
)

// jobSummary says in words what an ended job did, read from its result
// (the JSON each kind's operation answers, docs/api.md): rows imported,
// persons rescored, conversions credited... "" for a kind it does not
// know or a result it cannot read, where the progress bar's state says
// enough.
func jobSummary(l Locale, j model.Job) string {
	if !j.State.Done() {
		return ""
	}
	key := "job.result." + strings.ReplaceAll(j.Kind, ".", "_")
	n := formatInt
	read := func(v any) bool { return len(j.Result) > 0 && json.Unmarshal(j.Result, v) == nil }
	if j.State == model.JobFailed {
		if strings.HasPrefix(j.Kind, "import.") {
			var f importer.FailedResult
			if read(&f) && f.BadRowCount > 0 {
				return l.T("job.result.import_bad_rows", "n", n(int64(f.BadRowCount)))
			}
			if f.Input {
				return l.T("job.result.import_refused")
			}
			return l.T("job.result.import_stopped")
		}
		return l.T("job.result.failed")
	}
	switch j.Kind {
	case "import.costs", "import.events":
		var r importer.Result
		if !read(&r) {
			return ""
		}
		return l.T(key, "read", n(int64(r.RowsRead)), "new", n(int64(r.RowsNew)), "updated", n(int64(r.RowsUpdated)),
			"same", n(int64(r.RowsSame)), "skipped", n(int64(r.RowsSkipped)))
	case "scoring.rescore":
		var r scoring.Result
		if !read(&r) {
			return ""
		}
		return l.T(key, "persons", n(int64(r.Persons)), "updated", n(int64(r.Updated)), "mql", n(int64(r.MovedToMQL)), "version", r.Version)
	case "attribution.recompute":
		var r credits.Stats
		if !read(&r) {
			return ""
		}
		return l.T(key, "conversions", n(int64(r.Conversions)), "credits", n(int64(r.Credits)), "deleted", n(int64(r.Deleted)))
	case "scoring.train":
		var r struct {
			Status    string   `json:"status"`
			Message   string   `json:"message"`
			Examples  int64    `json:"examples"`
			Positives int64    `json:"positives"`
			AUC       *float64 `json:"auc"`
			Scored    int64    `json:"scored_persons"`
		}
		if !read(&r) {
			return ""
		}
		if r.AUC == nil || r.Scored == 0 {
			return l.T("job.result.scoring_train_none", "examples", n(r.Examples), "positives", n(r.Positives))
		}
		return l.T(key, "examples", n(r.Examples), "positives", n(r.Positives), "auc", formatDecimal(*r.AUC, 3), "scored", n(r.Scored))
	case "channels.reclassify":
		var r process.ReclassifyResult
		if !read(&r) {
			return ""
		}
		return l.T(key, "examined", n(int64(r.Examined)), "changed", n(int64(r.Changed)))
	case "lifecycle.run":
		var r lifecycle.RunResult
		if !read(&r) {
			return ""
		}
		return l.T(key, "evaluated", n(int64(r.Evaluated)), "grades", n(int64(r.GradeChanges)), "classes", n(int64(r.SDRClassChanges)),
			"moves", n(int64(r.Moves)))
	case "routing.run":
		var r struct{ Assigned, Waiting, Closed, Breached int64 }
		if !read(&r) {
			return ""
		}
		return l.T(key, "assigned", n(r.Assigned), "waiting", n(r.Waiting), "breached", n(r.Breached))
	case "person.erase":
		var r model.ErasureReceipt
		if !read(&r) {
			return ""
		}
		var rows int64
		for _, v := range r.Removed {
			rows += v
		}
		return l.T(key, "persons", n(int64(len(r.Persons))), "rows", n(rows))
	}
	return ""
}
