package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/revloop/revloop/internal/app"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Segments: the list (/segments), the builder (/segments/new,
// /segments/{id}) with the members, and the JSON API under
// /api/v1/segments. Saving a filter starts a rebuild (a job); membership
// then follows changes by itself (internal/segment).

func (s *Server) segmentRoutes(m *http.ServeMux) error {
	m.Handle("GET /segments", s.page("segments", s.segmentsPage))
	m.Handle("GET /segments/new", s.page("segments", s.segmentEditorsOnly(s.segmentNewPage)))
	m.Handle("GET /segments/{id}", s.page("segments", s.segmentPage))
	m.Handle("POST /segments", s.page("segments", s.segmentEditorsOnly(s.segmentSubmit)))
	m.Handle("POST /segments/{id}", s.page("segments", s.segmentEditorsOnly(s.segmentSubmit)))
	m.Handle("POST /segments/{id}/delete", s.page("segments", s.segmentEditorsOnly(s.segmentDeleteSubmit)))
	m.Handle("POST /segments/{id}/rebuild", s.page("segments", s.segmentEditorsOnly(s.segmentRebuildSubmit)))
	m.Handle("POST /segments/preview", s.page("segments", s.segmentEditorsOnly(s.apiSegmentPreview)))

	m.Handle("GET /api/v1/segments", s.pageAPI("segments", s.apiSegments))
	m.Handle("POST /api/v1/segments", s.requireRole(model.RoleMarketer, s.apiCreateSegment))
	m.Handle("POST /api/v1/segments/preview", s.requireRole(model.RoleMarketer, s.apiSegmentPreview))
	m.Handle("GET /api/v1/segments/{id}", s.pageAPI("segments", s.apiSegment))
	m.Handle("PUT /api/v1/segments/{id}", s.requireRole(model.RoleMarketer, s.apiUpdateSegment))
	m.Handle("DELETE /api/v1/segments/{id}", s.requireRole(model.RoleMarketer, s.apiDeleteSegment))
	m.Handle("GET /api/v1/segments/{id}/members", s.pageAPI("segments", s.apiSegmentMembers))
	m.Handle("POST /api/v1/segments/{id}/rebuild", s.requireRole(model.RoleMarketer, s.apiRebuildSegment))
	return nil
}

// segmentEditorsOnly lets administrators and marketers change segments;
// others (viewers) get 403 in their language.
func (s *Server) segmentEditorsOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, _ := userFrom(r.Context())
		if !canEditSegments(u.Role) {
			s.renderError(w, r, http.StatusForbidden, "segments.error.forbidden")
			return
		}
		next(w, r)
	}
}

func canEditSegments(role model.Role) bool {
	return role == model.RoleAdmin || role == model.RoleMarketer
}

// Bounds of a segment's texts and of the API's pages.
const (
	maxSegmentDescription = 2000
	segmentMembersDefault = 100
	segmentPreviewDefault = 20
	segmentPreviewTimeout = 30 * time.Second
)

// segmentInput is the body of POST and PUT /api/v1/segments.
type segmentInput struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Kind        string          `json:"kind"`
	Filter      json.RawMessage `json:"filter"`
}

// check validates the input; the error names the field.
func (in *segmentInput) check(kind string) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return inputError("name", "required")
	}
	if utf8.RuneCountInString(in.Name) > model.MaxSegmentNameLen {
		return inputError("name", fmt.Sprintf("at most %d characters", model.MaxSegmentNameLen))
	}
	if utf8.RuneCountInString(in.Description) > maxSegmentDescription {
		return inputError("description", fmt.Sprintf("at most %d characters", maxSegmentDescription))
	}
	if kind == "" {
		if in.Kind == "" {
			in.Kind = model.SegmentPersons
		}
		kind = in.Kind
	} else if in.Kind != "" && in.Kind != kind {
		return inputError("kind", fmt.Sprintf("a segment's kind cannot change (it is %s)", kind))
	}
	_, err := model.ParseSegmentFilter(kind, in.Filter, "filter")
	return err
}

// segmentView is a segment as the API shows it.
type segmentView struct {
	model.Segment
	Building bool `json:"building"` // the membership does not follow the filter yet
}

func viewSegment(g model.Segment) segmentView {
	return segmentView{Segment: g, Building: g.BuiltVersion != g.Version}
}

func (s *Server) apiSegments(w http.ResponseWriter, r *http.Request) {
	gs, err := s.store.Segments(r.Context())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	out := make([]segmentView, len(gs))
	for i, g := range gs {
		out[i] = viewSegment(g)
	}
	writeJSON(w, http.StatusOK, map[string]any{"segments": out})
}

func (s *Server) apiSegment(w http.ResponseWriter, r *http.Request) {
	g, ok := s.segmentOr404(w, r)
	if ok {
		writeJSON(w, http.StatusOK, viewSegment(g))
	}
}

func (s *Server) segmentOr404(w http.ResponseWriter, r *http.Request) (model.Segment, bool) {
	id, ok := pathID(w, r, "segment")
	if !ok {
		return model.Segment{}, false
	}
	g, err := s.store.Segment(r.Context(), id)
	if s.apiFailed(w, r, err, fmt.Sprintf("segment %d does not exist", id)) {
		return g, false
	}
	return g, true
}

// createSegment validates and stores a new segment and starts its build.
func (s *Server) createSegment(ctx context.Context, in segmentInput, actor string) (model.Segment, *model.Job, error) {
	if err := in.check(""); err != nil {
		return model.Segment{}, nil, err
	}
	n, err := s.store.CountSegments(ctx)
	if err != nil {
		return model.Segment{}, nil, err
	}
	if n >= store.MaxSegments {
		return model.Segment{}, nil, inputError("name", fmt.Sprintf("a workspace keeps at most %d segments; delete one first", store.MaxSegments))
	}
	g, err := s.store.CreateSegment(ctx, model.Segment{Name: in.Name, Description: in.Description, Kind: in.Kind, Filter: in.Filter,
		CreatedBy: actor}, s.app.Now())
	if err != nil {
		return g, nil, err
	}
	return g, s.startRebuild(ctx, g.ID, actor), nil
}

// startRebuild queues a segment's build; when one is queued already (or
// cannot be), the periodic pass builds it within a minute.
func (s *Server) startRebuild(ctx context.Context, id int64, actor string) *model.Job {
	j, err := s.app.Enqueue(ctx, app.RebuildSegment(id), actor)
	if err != nil {
		var busy *store.JobBusyError
		if errors.As(err, &busy) {
			return &busy.Holder
		}
		s.log.Warn("segment rebuild not enqueued; the next pass builds it", "segment", id, "err", err)
		return nil
	}
	return &j
}

// inputError is a mistake in a request's field (400), in the form of a
// filter's errors: the field, then what is wrong.
func inputError(field, msg string) error { return &model.SegmentFilterError{Path: field, Msg: msg} }

// isSegmentInputError tells a request's mistake (400) from a failure (500).
func isSegmentInputError(err error) bool {
	var fe *model.SegmentFilterError
	return errors.As(err, &fe)
}

func (s *Server) apiCreateSegment(w http.ResponseWriter, r *http.Request) {
	var in segmentInput
	if !decodeBody(w, r, &in, "with name, kind and filter") {
		return
	}
	g, j, err := s.createSegment(r.Context(), in, s.actor(r))
	if err != nil {
		s.segmentInputFailed(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/segments/%d", g.ID))
	writeJSON(w, http.StatusCreated, map[string]any{"segment": viewSegment(g), "job": jobOrNil(j)})
}

func jobOrNil(j *model.Job) any {
	if j == nil {
		return nil
	}
	return jobView(*j)
}

func (s *Server) segmentInputFailed(w http.ResponseWriter, r *http.Request, err error) {
	if isSegmentInputError(err) {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.apiFailed(w, r, err, "segment does not exist")
}

// updateSegment validates and stores a segment's new name, description
// and filter; a changed filter starts a rebuild.
func (s *Server) updateSegment(ctx context.Context, old model.Segment, in segmentInput, actor string) (model.Segment, *model.Job, error) {
	if err := in.check(old.Kind); err != nil {
		return old, nil, err
	}
	g, err := s.store.UpdateSegment(ctx, model.Segment{ID: old.ID, Name: in.Name, Description: in.Description, Filter: in.Filter}, s.app.Now())
	if err != nil {
		return g, nil, err
	}
	var j *model.Job
	if g.Version != old.Version {
		j = s.startRebuild(ctx, g.ID, actor)
	}
	return g, j, nil
}

func (s *Server) apiUpdateSegment(w http.ResponseWriter, r *http.Request) {
	old, ok := s.segmentOr404(w, r)
	if !ok {
		return
	}
	var in segmentInput
	if !decodeBody(w, r, &in, "with name and filter") {
		return
	}
	g, j, err := s.updateSegment(r.Context(), old, in, s.actor(r))
	if err != nil {
		s.segmentInputFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"segment": viewSegment(g), "job": jobOrNil(j)})
}

func (s *Server) apiDeleteSegment(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "segment")
	if !ok {
		return
	}
	if s.apiFailed(w, r, s.store.DeleteSegment(r.Context(), id), fmt.Sprintf("segment %d does not exist", id)) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiRebuildSegment(w http.ResponseWriter, r *http.Request) {
	g, ok := s.segmentOr404(w, r)
	if ok {
		s.startOperation(w, r, app.RebuildSegment(g.ID))
	}
}

// queryInt reads a whole-number query parameter within [lo, hi], def when
// absent; the error names the parameter.
func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	raw := strings.TrimSpace(r.URL.Query().Get(name))
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s: %q is not a whole number from %d to %d", name, clip(raw, 20), lo, hi)
	}
	return n, nil
}

func (s *Server) apiSegmentMembers(w http.ResponseWriter, r *http.Request) {
	g, ok := s.segmentOr404(w, r)
	if !ok {
		return
	}
	limit, err := queryInt(r, "limit", segmentMembersDefault, 1, store.MaxSegmentMembersPage)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	offset, err := queryInt(r, "offset", 0, 0, 10_000_000)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	ms, err := s.store.SegmentMembers(r.Context(), g, offset, limit)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"segment_id": g.ID, "kind": g.Kind, "total": g.MemberCount, "offset": offset,
		"limit": limit, "members": ms})
}

// previewInput is the body of POST /api/v1/segments/preview.
type previewInput struct {
	Kind   string          `json:"kind"`
	Filter json.RawMessage `json:"filter"`
	Sample *int            `json:"sample"`
}

func (s *Server) apiSegmentPreview(w http.ResponseWriter, r *http.Request) {
	var in previewInput
	if !decodeBody(w, r, &in, "with kind and filter") {
		return
	}
	if in.Kind == "" {
		in.Kind = model.SegmentPersons
	}
	sample := segmentPreviewDefault
	if in.Sample != nil {
		if *in.Sample < 0 || *in.Sample > store.MaxSegmentSample {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("sample: from 0 to %d", store.MaxSegmentSample))
			return
		}
		sample = *in.Sample
	}
	cond, err := model.ParseSegmentFilter(in.Kind, in.Filter, "filter")
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), segmentPreviewTimeout)
	defer cancel()
	p, err := s.store.PreviewSegment(ctx, in.Kind, cond, sample, s.app.Now())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// ---- pages ----

// segmentsView is the list page.
type segmentsView struct {
	CanEdit  bool
	Segments []segmentRow
}

type segmentRow struct {
	ID                 int64
	Name, Kind         string
	Members            string
	Updated, Built     string
	Building, Timed    bool
	Description        string
	BuiltAt, CreatedBy string
}

func (segmentsView) NavKey() string { return "segments" }

func shortTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04") + " UTC"
}

func (s *Server) segmentsPage(w http.ResponseWriter, r *http.Request) {
	gs, err := s.store.Segments(r.Context())
	if err != nil {
		s.pageInternal(w, r, "segments", err)
		return
	}
	u, _ := userFrom(r.Context())
	v := segmentsView{CanEdit: canEditSegments(u.Role)}
	for _, g := range gs {
		up := g.UpdatedAt
		v.Segments = append(v.Segments, segmentRow{ID: g.ID, Name: g.Name, Kind: g.Kind, Members: formatInt(g.MemberCount),
			Updated: shortTime(&up), Built: shortTime(g.BuiltAt), Building: g.BuiltVersion != g.Version, Timed: g.Timed,
			Description: g.Description})
	}
	s.render(w, r, http.StatusOK, "segments", "segments.title", v)
}

// segmentBuilderView is the builder page: a new segment or one saved,
// with its members.
type segmentBuilderView struct {
	New      bool
	CanEdit  bool
	ID       int64
	Name     string
	Desc     string
	Kind     string
	Filter   string // the filter's JSON, as the builder edits it
	Fields   string // JSON: the fields, operators and values the builder offers
	Error    string
	Members  []segmentMemberRow
	Total    string
	Building bool
	Built    string
	Prev     string // links to the members' pages
	Next     string
	Job      *model.Job
}

type segmentMemberRow struct {
	ID                    int64
	Name, Detail, Entered string
	Href                  string
}

func (segmentBuilderView) NavKey() string { return "segments" }

// builderField is a field as the builder's script sees it.
type builderField struct {
	Name  string   `json:"name"`
	Label string   `json:"label"`
	Type  string   `json:"type"`
	Ops   []string `json:"ops"`
	Enum  []string `json:"enum,omitempty"`
}

var fieldTypeNames = map[model.FieldType]string{model.FieldText: "text", model.FieldNumber: "number", model.FieldUser: "user",
	model.FieldTrait: "trait", model.FieldConsent: "consent", model.FieldBehaviour: "behaviour", model.FieldEngaged: "engaged"}

// builderFields is what the builder offers for both kinds, with labels in
// the page's language.
func builderFields(l Locale) string {
	out := map[string]any{}
	for _, kind := range []string{model.SegmentPersons, model.SegmentAccounts} {
		var fs []builderField
		for _, f := range model.SegmentFields(kind) {
			fs = append(fs, builderField{Name: f.Name, Label: l.T("segments.field." + strings.ReplaceAll(f.Name, ".", "_")),
				Type: fieldTypeNames[f.Type], Ops: model.SegmentFieldOps(f.Type), Enum: f.Enum})
		}
		if kind == model.SegmentPersons {
			fs = append(fs,
				builderField{Name: "trait.", Label: l.T("segments.field.trait"), Type: "trait", Ops: model.SegmentFieldOps(model.FieldTrait)},
				builderField{Name: "consent.", Label: l.T("segments.field.consent"), Type: "consent", Ops: model.SegmentFieldOps(model.FieldConsent),
					Enum: model.ConsentStates})
		}
		out[kind] = fs
	}
	ops := map[string]string{}
	for _, op := range []string{model.OpEq, model.OpNe, model.OpIn, model.OpNotIn, model.OpContains, model.OpGt, model.OpGte, model.OpLt,
		model.OpLte, model.OpIsSet, model.OpIsNotSet, model.OpDid, model.OpDidNot} {
		ops[op] = l.T("segments.op." + op)
	}
	out["ops"] = ops
	words := map[string]string{}
	for _, k := range []string{"all", "any", "not", "add_condition", "add_group", "remove", "min", "days", "min_engagement", "key",
		"value", "list_hint", "matches", "sample", "preview_failed", "trait_name", "consent_channel"} {
		words[k] = l.T("segments.builder." + k)
	}
	out["words"] = words
	b, _ := json.Marshal(out)
	return string(b)
}

const defaultSegmentFilter = `{"all":[{"field":"stage","op":"eq","value":"mql"}]}`

func (s *Server) segmentNewPage(w http.ResponseWriter, r *http.Request) {
	kind := r.URL.Query().Get("kind")
	if kind != model.SegmentAccounts {
		kind = model.SegmentPersons
	}
	filter := defaultSegmentFilter
	if kind == model.SegmentAccounts {
		filter = `{"all":[{"field":"tier","op":"eq","value":"A"}]}`
	}
	v := segmentBuilderView{New: true, CanEdit: true, Kind: kind, Filter: filter, Fields: builderFields(s.catalog.locale(langOnly(r)))}
	s.render(w, r, http.StatusOK, "segment", "segments.new_title", v)
}

const segmentMembersPage = 50

func (s *Server) segmentPage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.renderError(w, r, http.StatusNotFound, "segments.error.not_found")
		return
	}
	g, err := s.store.Segment(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound, "segments.error.not_found")
		return
	}
	if err != nil {
		s.pageInternal(w, r, "segment", err)
		return
	}
	u, _ := userFrom(r.Context())
	v := s.builderView(r, g)
	v.CanEdit = canEditSegments(u.Role)
	s.render(w, r, http.StatusOK, "segment", "segments.edit_title", v)
}

// builderView fills the builder of a saved segment and a page of its
// members (?page=N).
func (s *Server) builderView(r *http.Request, g model.Segment) segmentBuilderView {
	v := segmentBuilderView{ID: g.ID, Name: g.Name, Desc: g.Description, Kind: g.Kind, Filter: string(g.Filter),
		Fields: builderFields(s.catalog.locale(langOnly(r))), Total: formatInt(g.MemberCount), Building: g.BuiltVersion != g.Version,
		Built: shortTime(g.BuiltAt)}
	page, err := queryInt(r, "page", 1, 1, 100_000)
	if err != nil {
		page = 1
	}
	ms, err := s.store.SegmentMembers(r.Context(), g, (page-1)*segmentMembersPage, segmentMembersPage)
	if err != nil {
		s.log.Warn("segment members", "segment", g.ID, "err", err)
	}
	for _, m := range ms {
		row := segmentMemberRow{ID: m.ID, Name: m.Name, Detail: m.Detail, Entered: shortTime(&m.EnteredAt)}
		if g.Kind == model.SegmentAccounts {
			row.Href = fmt.Sprintf("/accounts/%d", m.ID)
		} else {
			row.Href = fmt.Sprintf("/persons/%d", m.ID)
		}
		v.Members = append(v.Members, row)
	}
	link := func(p int) string {
		q := url.Values{"page": {strconv.Itoa(p)}}
		return fmt.Sprintf("/segments/%d?%s#members", g.ID, q.Encode())
	}
	if page > 1 {
		v.Prev = link(page - 1)
	}
	if int64(page*segmentMembersPage) < g.MemberCount {
		v.Next = link(page + 1)
	}
	return v
}

// segmentSubmit saves the builder's form: a new segment (POST /segments)
// or a saved one (POST /segments/{id}).
func (s *Server) segmentSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusRequestEntityTooLarge, "segments.error.too_large")
		return
	}
	in := segmentInput{Name: r.PostFormValue("name"), Description: r.PostFormValue("description"), Kind: r.PostFormValue("kind"),
		Filter: json.RawMessage(r.PostFormValue("filter"))}
	actor := s.actor(r)
	var g model.Segment
	var err error
	if r.PathValue("id") == "" {
		g, _, err = s.createSegment(r.Context(), in, actor)
	} else {
		id, perr := strconv.ParseInt(r.PathValue("id"), 10, 64)
		old, gerr := s.store.Segment(r.Context(), id)
		if perr != nil || errors.Is(gerr, store.ErrNotFound) {
			s.renderError(w, r, http.StatusNotFound, "segments.error.not_found")
			return
		}
		if gerr != nil {
			s.pageInternal(w, r, "segment", gerr)
			return
		}
		g, _, err = s.updateSegment(r.Context(), old, in, actor)
		if err != nil {
			g = old
		}
	}
	if err != nil {
		if !isSegmentInputError(err) {
			s.pageInternal(w, r, "segment", err)
			return
		}
		v := segmentBuilderView{New: g.ID == 0, CanEdit: true, ID: g.ID, Name: in.Name, Desc: in.Description, Kind: in.Kind,
			Filter: string(in.Filter), Fields: builderFields(s.catalog.locale(langOnly(r))), Error: err.Error()}
		if g.ID != 0 {
			v = s.builderView(r, g)
			v.CanEdit, v.Name, v.Desc, v.Filter, v.Error = true, in.Name, in.Description, string(in.Filter), err.Error()
		}
		if v.Kind == "" {
			v.Kind = model.SegmentPersons
		}
		s.render(w, r, http.StatusBadRequest, "segment", "segments.edit_title", v)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/segments/%d", g.ID), http.StatusSeeOther)
}

func (s *Server) segmentDeleteSubmit(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		err = s.store.DeleteSegment(r.Context(), id)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.pageInternal(w, r, "segment", err)
		return
	}
	http.Redirect(w, r, "/segments", http.StatusSeeOther)
}

func (s *Server) segmentRebuildSubmit(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.renderError(w, r, http.StatusNotFound, "segments.error.not_found")
		return
	}
	if _, err := s.store.Segment(r.Context(), id); err != nil {
		s.renderError(w, r, http.StatusNotFound, "segments.error.not_found")
		return
	}
	s.startRebuild(r.Context(), id, s.actor(r))
	http.Redirect(w, r, fmt.Sprintf("/segments/%d", id), http.StatusSeeOther)
}
