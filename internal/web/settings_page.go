package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/app"
	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/identity"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/privacy"
	"github.com/revloop/revloop/internal/store"
)

// The settings page (/settings, administrators): every run-time setting
// with what it does, changed through a form that checks the value as the
// API does and says what is wrong; the long operations an administrator
// may start, each with its progress bar and result; the recent jobs. Its
// JSON twins are GET /api/v1/settings and GET /api/v1/jobs.

// settingsPage is the page's content.
type settingsPage struct {
	Filter   viewFilter
	Settings []settingItem
	Ops      []operationItem
	Jobs     *dataTable
	Job      *model.Job // the one the page follows (?job=)
	Notice   string
	Error    string
}

func (settingsPage) NavKey() string { return "settings" }

// settingItem is one setting's form.
type settingItem struct {
	Key, Name, Help string
	Input           string // bool, int, text, lines, json
	Value           string // what the form shows
	Now, Default    string // the value in force and the default, as JSON
	Set             bool
	Error           string // why the value sent was refused
	Saved           bool
	Note            string // what a change starts (the time zone)
}

// settingInputs says how each setting is typed in; the rest are JSON.
var settingInputs = map[string]string{
	collect.SettingAnonymizeIP:    "bool",
	privacy.SettingRetentionDays:  "int",
	collect.SettingTrustedProxies: "lines",
	SettingPublicURL:              "text",
	model.SettingTimeZone:         "text",
	identity.PhoneRegionSetting:   "text",
}

// settingOrder puts the settings people change most first.
var settingOrder = []string{model.SettingTimeZone, SettingPublicURL, identity.PhoneRegionSetting, collect.SettingAnonymizeIP,
	privacy.SettingRetentionDays, collect.SettingRateLimit, collect.SettingTrustedProxies}

// operationItem is a long operation the page can start.
type operationItem struct {
	Key, Kind string
	Last      *model.Job // its newest job
}

// pageOperations are the operations the settings page starts, by key.
var pageOperations = []struct {
	Key string
	Op  func() app.Operation
}{
	{"recompute", func() app.Operation { return app.RecomputeCredits(credits.Full) }},
	{"rescore", app.Rescore},
	{"train", app.TrainModel},
	{"reclassify", app.Reclassify},
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) {
	l := s.catalog.locale(langOnly(r))
	p := settingsPage{}
	q := r.URL.Query()
	if k := q.Get("saved"); k != "" {
		if _, ok := runSettings()[k]; ok {
			p.Notice = l.T("settings.saved", "name", settingName(l, k))
		}
	}
	if q.Get("busy") != "" {
		p.Notice = l.T("settings.busy")
	}
	s.renderSettings(w, r, http.StatusOK, p, "", "", "")
}

// renderSettings fills the page and renders it with code; failedKey's
// form shows sent and the reason it was refused.
func (s *Server) renderSettings(w http.ResponseWriter, r *http.Request, code int, p settingsPage, failedKey, sent, reason string) {
	ctx := r.Context()
	l := s.catalog.locale(langOnly(r))
	cal, err := s.store.Calendar(ctx)
	if err != nil {
		s.pageInternal(w, r, "settings page", err)
		return
	}
	f, ok := s.toolFilter(w, r, cal, &p.Error, &code)
	if !ok {
		return
	}
	p.Filter = f
	list, err := s.settingList(ctx)
	if err != nil {
		s.pageInternal(w, r, "settings page", err)
		return
	}
	saved := r.URL.Query().Get("saved")
	for _, v := range list {
		it := settingItem{Key: v.Key, Name: settingName(l, v.Key), Help: l.T("settings.help." + v.Key), Input: settingInputs[v.Key],
			Now: compactJSON(v.Value), Default: compactJSON(v.Default), Set: v.Set, Saved: v.Key == saved}
		if it.Input == "" {
			it.Input = "json"
		}
		it.Value = formValue(it.Input, v.Value)
		if v.Key == model.SettingTimeZone {
			it.Note = l.T("settings.time_zone_note")
		}
		if v.Key == failedKey {
			it.Value, it.Error = sent, reason
		}
		p.Settings = append(p.Settings, it)
	}
	slices.SortStableFunc(p.Settings, func(a, b settingItem) int {
		return slices.Index(settingOrder, a.Key) - slices.Index(settingOrder, b.Key)
	})
	for _, o := range pageOperations {
		op := o.Op()
		it := operationItem{Key: o.Key, Kind: op.Kind}
		last, err := s.store.ListJobs(ctx, op.Kind, 1)
		if err != nil {
			s.pageInternal(w, r, "settings page", err)
			return
		}
		if len(last) > 0 {
			it.Last = &last[0]
		}
		p.Ops = append(p.Ops, it)
	}
	if id, err := strconv.ParseInt(r.URL.Query().Get("job"), 10, 64); err == nil && id > 0 {
		j, err := s.store.GetJob(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.pageInternal(w, r, "settings page", err)
			return
		}
		if err == nil {
			p.Job = &j
		}
	}
	win := f.Period.Window()
	jobs, err := s.store.JobsCreated(ctx, "", win.From, win.To, maxJobList)
	if err != nil {
		s.pageInternal(w, r, "settings page", err)
		return
	}
	p.Jobs = jobsTable(l, jobs, cal.Loc)
	p.Jobs.prepare(r, "created", true)
	if s.exportTable(w, r, "settings", p.Filter, p.Jobs) {
		return
	}
	s.render(w, r, code, "settings", "settings.title", p)
}

// settingName is a setting's name in the reader's language.
func settingName(l Locale, key string) string {
	return l.T("settings.name." + key)
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}

// formValue is a setting's value as its form field shows it.
func formValue(input string, v any) string {
	b, _ := json.Marshal(v)
	switch input {
	case "text":
		var s string
		if json.Unmarshal(b, &s) == nil {
			return s
		}
	case "lines":
		var list []string
		if json.Unmarshal(b, &list) == nil {
			return strings.Join(list, "\n")
		}
	case "json":
		var buf bytes.Buffer
		if json.Indent(&buf, b, "", "  ") == nil {
			return buf.String()
		}
	}
	return strings.TrimSpace(string(b))
}

// formJSON turns what a setting's form sent into the JSON the setting
// takes.
func formJSON(input, v string) []byte {
	v = strings.TrimSpace(strings.ReplaceAll(v, "\r\n", "\n"))
	switch input {
	case "text":
		b, _ := json.Marshal(v)
		return b
	case "lines":
		list := []string{}
		for _, line := range strings.Split(v, "\n") {
			for _, item := range strings.Split(line, ",") {
				if item = strings.TrimSpace(item); item != "" {
					list = append(list, item)
				}
			}
		}
		b, _ := json.Marshal(list)
		return b
	case "bool":
		if v == "" {
			return []byte("false")
		}
	}
	return []byte(v)
}

// settingsSave answers POST /settings/{key}: the form's value, checked as
// the API checks it; saved, the page again with a notice (and the job the
// change started, when one did); refused, the page with the reason beside
// the setting.
func (s *Server) settingsSave(w http.ResponseWriter, r *http.Request) {
	l := s.catalog.locale(langOnly(r))
	key := r.PathValue("key")
	if _, ok := runSettings()[key]; !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.renderSettings(w, r, http.StatusBadRequest, settingsPage{}, key, "", l.T("settings.error.form"))
		return
	}
	input := settingInputs[key]
	if input == "" {
		input = "json"
	}
	sent := r.PostForm.Get("value")
	at := s.app.Now()
	_, err := s.saveSetting(r.Context(), key, formJSON(input, sent))
	var se *settingError
	if errors.As(err, &se) {
		s.renderSettings(w, r, http.StatusBadRequest, settingsPage{Error: l.T("settings.error.lead", "name", settingName(l, key))}, key, sent,
			l.T("settings.error.value", "reason", se.Msg))
		return
	}
	if err != nil {
		s.pageInternal(w, r, "save setting", err)
		return
	}
	target := url.Values{"saved": {key}}
	if key == model.SettingTimeZone {
		// Changing the time zone rebuilds the roll-ups in the background:
		// the page follows that job when there is one.
		if jobs, err := s.store.JobsCreated(r.Context(), "rollups", at.Add(-time.Second), time.Time{}, 1); err == nil && len(jobs) > 0 {
			target.Set("job", strconv.FormatInt(jobs[0].ID, 10))
		}
	}
	http.Redirect(w, r, "/settings?"+target.Encode()+"#setting-"+key, http.StatusSeeOther)
}

// settingsOperation answers POST /settings/operations/{op}: starts the
// operation and follows its job; while one of the kind runs, follows that
// one instead.
func (s *Server) settingsOperation(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("op")
	i := slices.IndexFunc(pageOperations, func(o struct {
		Key string
		Op  func() app.Operation
	}) bool {
		return o.Key == key
	})
	if i < 0 {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	j, err := s.app.Enqueue(r.Context(), pageOperations[i].Op(), s.actor(r))
	var busy *store.JobBusyError
	busyNote := ""
	switch {
	case errors.As(err, &busy):
		j, busyNote = busy.Holder, "&busy=1"
	case err != nil:
		s.pageInternal(w, r, "start operation", err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/settings?job=%d%s#operations", j.ID, busyNote), http.StatusSeeOther)
}

// jobsTable is the recent jobs as a table.
func jobsTable(l Locale, jobs []model.Job, loc *time.Location) *dataTable {
	t := &dataTable{ID: "jobs", Loc: loc, Empty: l.T("settings.jobs_empty"), Columns: []column{
		{Key: "created", Label: l.T("settings.col.created"), Kind: kindTime},
		{Key: "kind", Label: l.T("settings.col.kind"), Kind: kindText},
		{Key: "state", Label: l.T("settings.col.state"), Kind: kindText},
		{Key: "done", Label: l.T("settings.col.done"), Kind: kindInt},
		{Key: "total", Label: l.T("settings.col.total"), Kind: kindInt},
		{Key: "result", Label: l.T("settings.col.result"), Kind: kindText},
		{Key: "by", Label: l.T("settings.col.by"), Kind: kindText},
		{Key: "finished", Label: l.T("settings.col.finished"), Kind: kindTime},
	}}
	for _, j := range jobs {
		var finished any
		if j.FinishedAt != nil {
			finished = *j.FinishedAt
		}
		result := jobSummary(l, j)
		if result == "" && j.Error != "" {
			result = j.Error
		}
		t.Rows = append(t.Rows, []cell{
			{V: j.CreatedAt, Href: fmt.Sprintf("/settings?job=%d#operations", j.ID)},
			{V: j.Kind, Text: jobKindText(l, j.Kind)},
			{V: string(j.State), Text: l.T("job.state." + string(j.State))},
			{V: j.ProgressDone}, {V: j.ProgressTotal},
			{V: result}, {V: j.CreatedBy}, {V: finished},
		})
	}
	return t
}
