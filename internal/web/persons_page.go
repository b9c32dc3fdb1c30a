package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/identity"
	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The persons list (/persons and GET /api/v1/persons): everyone revloop
// knows, searched and filtered, a page at a time in one order, exported
// whole as CSV. docs/persons.md describes it for users.

const (
	personsPageSize = 50  // rows of a page unless limit says otherwise
	personsPageMax  = 200 // the largest limit
	personsQueryMax = 200 // bytes of a search
)

// personsRoutes mounts the persons list, the person page and their APIs.
func (s *Server) personsRoutes(m *http.ServeMux) error {
	m.Handle("GET /persons", s.page("persons", s.personsPage))
	return s.personRoutes(m)
}

// personsView is the persons list of a request: the page renders it, the
// API writes it as JSON.
type personsView struct {
	Filter   viewFilter
	Params   personsParams
	Sort     store.PersonSort
	Desc     bool
	Limit    int
	Total    int64
	Rows     []store.PersonRow
	Next     string // the cursor of the next page, "" on the last
	Continue bool   // this page follows a cursor
	Table    *dataTable
	Owners   []model.RoutingUser
	Error    string // a filter the user must fix, in their language
	// ExportCut says an export holds the first ExportMax rows of more.
	ExportCut bool
	ExportMax int
	Cal       model.Calendar
}

// NavKey marks the persons entry of the navigation.
func (personsView) NavKey() string { return "persons" }

// personsParams are the list's parameters as typed, for the form.
type personsParams struct {
	Q, Stage, Grade, Owner, MinScore, Channel, DateBy string
	Sort, Dir                                         string // persons_sort, persons_dir as given
}

// ExportLimit is the most rows an export holds, for the page.
func (v personsView) ExportLimit() string { return formatInt(int64(v.ExportMax)) }

// Stages, Grades, Channels and Dates are the choices of the filter form.
func (personsView) Stages() []model.Stage {
	return append(slices.Clone(model.LifecycleStages), model.StageNurture, model.StageDisqualified)
}
func (personsView) Grades() []string          { return lifecycle.Grades }
func (personsView) Channels() []model.Channel { return model.Channels }
func (personsView) Dates() []store.PersonDate {
	return []store.PersonDate{store.DateFirstSeen, store.DateLead}
}

// personsCursor is what a cursor holds: where the page before ended, in
// which order. It is opaque to clients (base64 of this JSON).
type personsCursor struct {
	Sort   store.PersonSort `json:"o"`
	Desc   bool             `json:"d"`
	Absent bool             `json:"a,omitempty"`
	Time   *time.Time       `json:"t,omitempty"`
	Num    float64          `json:"n,omitempty"`
	Text   string           `json:"x,omitempty"`
	ID     int64            `json:"i"`
}

func encodePersonsCursor(sort store.PersonSort, desc bool, k store.PersonKey) string {
	c := personsCursor{Sort: sort, Desc: desc, Absent: k.Absent, Num: k.Num, Text: k.Text, ID: k.ID}
	if !k.Time.IsZero() {
		t := k.Time.UTC()
		c.Time = &t
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePersonsCursor(v string, sort store.PersonSort, desc bool) (*store.PersonKey, error) {
	bad := &filterError{Param: "cursor", Key: "persons.error.cursor", Msg: "cursor: not a cursor of this list; leave it out to start from the first page"}
	if len(v) > 1024 {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, bad
	}
	var c personsCursor
	if json.Unmarshal(b, &c) != nil || c.ID <= 0 {
		return nil, bad
	}
	if c.Sort != sort || c.Desc != desc {
		return nil, &filterError{Param: "cursor", Key: "persons.error.cursor_order",
			Msg: fmt.Sprintf("cursor: made for the order %s %s, not %s %s; leave it out to start from the first page", c.Sort, dirName(c.Desc), sort, dirName(desc))}
	}
	k := &store.PersonKey{Absent: c.Absent, Num: c.Num, Text: c.Text, ID: c.ID}
	if c.Time != nil {
		k.Time = c.Time.UTC()
	}
	return k, nil
}

func dirName(desc bool) string {
	if desc {
		return "desc"
	}
	return "asc"
}

// listParam reads a parameter given as a comma-separated list, repeated,
// or both.
func listParam(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, part := range strings.Split(v, ",") {
			if p := strings.TrimSpace(part); p != "" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// requestUserID is the user behind a request: the API key's owner or the
// session's user; 0 for a key that belongs to no user.
func (s *Server) requestUserID(r *http.Request) (int64, error) {
	if key, ok := bearer(r.Header.Get("Authorization")); ok && key != "" {
		k, err := s.auth.CheckAPIKey(r.Context(), key)
		if err != nil {
			return 0, err
		}
		return k.UserID, nil
	}
	if u, ok := userFrom(r.Context()); ok {
		return u.ID, nil
	}
	u, err := s.sessionUser(r)
	if err != nil {
		return 0, err
	}
	return u.ID, nil
}

// personsQuery reads the list's parameters. Every bad value is a
// *filterError naming its parameter.
func (s *Server) personsQuery(r *http.Request, f viewFilter) (store.PersonQuery, personsParams, error) {
	q := r.URL.Query()
	p := personsParams{Q: strings.TrimSpace(q.Get("q")), Owner: strings.TrimSpace(q.Get("owner")), MinScore: strings.TrimSpace(q.Get("min_score")),
		DateBy: strings.TrimSpace(q.Get("date"))}
	pq := store.PersonQuery{Limit: personsPageSize, Sort: store.SortFirstSeen, Desc: true}
	fail := func(param, key, msg string) (store.PersonQuery, personsParams, error) {
		return pq, p, &filterError{Param: param, Key: key, Msg: msg}
	}

	if len(p.Q) > personsQueryMax {
		return fail("q", "persons.error.q", fmt.Sprintf("q: at most %d bytes", personsQueryMax))
	}
	if p.Q != "" {
		pq.Text = p.Q
		region, err := identity.PhoneRegion(r.Context(), s.store)
		if err != nil {
			return pq, p, err
		}
		norm := identity.Normaliser{PhoneRegion: region}
		if strings.Contains(p.Q, "@") {
			if v, err := norm.Normalise(model.IdentityEmail, p.Q); err == nil {
				pq.Email = v
			}
		} else if looksLikePhone(p.Q) {
			if v, err := norm.Normalise(model.IdentityPhone, p.Q); err == nil {
				pq.Phone = v
			}
		}
	}

	stages := listParam(q, "stage")
	p.Stage = strings.Join(stages, ",")
	for _, v := range stages {
		st := model.Stage(strings.ToLower(v))
		if !st.Valid() {
			return fail("stage", "persons.error.stage", fmt.Sprintf("stage %q: want one of visitor, subscriber, lead, mql, sql, opportunity, customer, nurture, disqualified", clip(v, 40)))
		}
		pq.Stages = append(pq.Stages, st)
	}
	grades := listParam(q, "grade")
	p.Grade = strings.Join(grades, ",")
	for _, v := range grades {
		g := strings.ToUpper(v)
		switch {
		case g == "NONE":
			pq.Grades = append(pq.Grades, "")
		case lifecycle.ValidGrade(g):
			pq.Grades = append(pq.Grades, g)
		default:
			return fail("grade", "persons.error.grade", fmt.Sprintf("grade %q: want %s, or none for persons without a grade", clip(v, 40), strings.Join(lifecycle.Grades, ", ")))
		}
	}
	channels := listParam(q, "channel")
	p.Channel = strings.Join(channels, ",")
	for _, v := range channels {
		if !channelName(v) {
			return fail("channel", "persons.error.channel", fmt.Sprintf("channel %q: want a channel such as paid_search or webinar (letters, digits and _)", clip(v, 40)))
		}
		pq.Channels = append(pq.Channels, model.Channel(strings.ToLower(v)))
	}
	switch strings.ToLower(p.Owner) {
	case "":
	case "none":
		pq.NoOwner = true
	case "me":
		id, err := s.requestUserID(r)
		if err != nil {
			return pq, p, err
		}
		if id == 0 {
			return fail("owner", "persons.error.owner_me", "owner=me: this API key belongs to no user; name the owner by id")
		}
		pq.OwnerID = id
	default:
		id, err := strconv.ParseInt(p.Owner, 10, 64)
		if err != nil || id <= 0 {
			return fail("owner", "persons.error.owner", fmt.Sprintf("owner %q: want a user id, me or none", clip(p.Owner, 40)))
		}
		pq.OwnerID = id
	}
	if p.MinScore != "" {
		v, err := strconv.ParseFloat(p.MinScore, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fail("min_score", "persons.error.min_score", fmt.Sprintf("min_score %q: want a number", clip(p.MinScore, 40)))
		}
		pq.MinScore = &v
	}
	switch strings.ToLower(p.DateBy) {
	case "", string(store.DateFirstSeen):
		pq.DateBy, p.DateBy = store.DateFirstSeen, string(store.DateFirstSeen)
	case string(store.DateLead):
		pq.DateBy, p.DateBy = store.DateLead, string(store.DateLead)
	default:
		return fail("date", "persons.error.date", fmt.Sprintf("date %q: want seen (first seen in the range) or lead (became a lead in the range)", clip(p.DateBy, 40)))
	}
	w := f.Period.Window()
	pq.From, pq.To = w.From, w.To

	sortParam, dirParam := q.Get("persons_sort"), q.Get("persons_dir")
	p.Sort, p.Dir = sortParam, dirParam
	if sortParam == "" {
		sortParam, dirParam = q.Get("sort"), q.Get("dir")
	}
	if sortParam != "" {
		if !slices.Contains(store.PersonSorts, store.PersonSort(sortParam)) {
			return fail("sort", "persons.error.sort", fmt.Sprintf("sort %q: want first_seen, lead_at, score or name", clip(sortParam, 40)))
		}
		pq.Sort = store.PersonSort(sortParam)
		switch dirParam {
		case "", "desc":
			pq.Desc = true
		case "asc":
			pq.Desc = false
		default:
			return fail("dir", "persons.error.dir", fmt.Sprintf("dir %q: want asc or desc", clip(dirParam, 40)))
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > personsPageMax {
			return fail("limit", "persons.error.limit", fmt.Sprintf("limit %q: want a number from 1 to %d", clip(v, 40), personsPageMax))
		}
		pq.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		k, err := decodePersonsCursor(v, pq.Sort, pq.Desc)
		if err != nil {
			return pq, p, err
		}
		pq.After = k
	}
	return pq, p, nil
}

// looksLikePhone says whether a search is a phone number: digits with
// at most a leading + and separators, seven digits or more.
func looksLikePhone(v string) bool {
	digits := 0
	for i, c := range v {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '+' && i == 0, c == ' ', c == '-', c == '(', c == ')':
		default:
			return false
		}
	}
	return digits >= 7
}

// channelName says whether v can name a channel.
func channelName(v string) bool {
	if v == "" || len(v) > 64 {
		return false
	}
	for _, c := range strings.ToLower(v) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// personsData builds the persons list of a request, for the page and the
// API. A *filterError is a parameter the caller must fix.
func (s *Server) personsData(r *http.Request, loc Locale) (*personsView, error) {
	cal, err := s.store.Calendar(r.Context())
	if err != nil {
		return nil, err
	}
	v := &personsView{Cal: cal, ExportMax: s.exportMax}
	f, err := s.parseFilter(r, cal, nil, "")
	v.Filter = f
	if err != nil {
		return v, err
	}
	pq, p, err := s.personsQuery(r, f)
	v.Params, v.Sort, v.Desc, v.Limit = p, pq.Sort, pq.Desc, pq.Limit
	if err != nil {
		return v, err
	}
	v.Continue = pq.After != nil
	if pq, err = s.store.ResolveSearch(r.Context(), pq); err != nil {
		return v, err
	}
	rows, next, err := s.store.ListPersons(r.Context(), pq)
	if err != nil {
		return v, err
	}
	v.Rows = rows
	if next != nil {
		v.Next = encodePersonsCursor(pq.Sort, pq.Desc, *next)
	}
	if pq.After == nil && next == nil {
		// The first page is the whole list: no need to count it again.
		v.Total = int64(len(rows))
	} else if v.Total, err = s.store.CountPersons(r.Context(), pq); err != nil {
		return v, err
	}
	v.ExportCut = v.Total > int64(v.ExportMax)
	v.Table = personsTable(r, loc, cal, v)
	return v, nil
}

// personsColumns are the list's columns; the CSV export has the same.
func personsColumns(l Locale) []column {
	return []column{
		{Key: "name", Label: l.T("persons.col.name"), Kind: kindText},
		{Key: "email", Label: l.T("persons.col.email"), Kind: kindText, NoSort: true},
		{Key: "account", Label: l.T("persons.col.account"), Kind: kindText, NoSort: true},
		{Key: "stage", Label: l.T("persons.col.stage"), Kind: kindText, NoSort: true},
		{Key: "grade", Label: l.T("persons.col.grade"), Tip: l.T("persons.tip.grade"), Kind: kindText, NoSort: true},
		{Key: "score", Label: l.T("persons.col.score"), Tip: l.T("persons.tip.score"), Kind: kindNumber},
		{Key: "owner", Label: l.T("persons.col.owner"), Kind: kindText, NoSort: true},
		{Key: "channel", Label: l.T("persons.col.channel"), Tip: l.T("persons.tip.first_touch_channel"), Kind: kindText, NoSort: true},
		{Key: "lead_at", Label: l.T("persons.col.lead_at"), Tip: l.T("persons.tip.lead_at"), Kind: kindDate},
		{Key: "first_seen", Label: l.T("persons.col.first_seen"), Tip: l.T("persons.tip.first_seen"), Kind: kindDate},
	}
}

// personName is how a person is named: their name, else their email,
// else "anonymous visitor #id".
func personName(l Locale, id int64, name, email string) string {
	switch {
	case strings.TrimSpace(name) != "":
		return name
	case email != "":
		return email
	}
	return l.T("persons.anonymous", "id", id)
}

func personCells(l Locale, cal model.Calendar, p store.PersonRow) []cell {
	row := []cell{
		{V: p.Name, Text: personName(l, p.ID, p.Name, p.Email), Href: fmt.Sprintf("/persons/%d", p.ID)},
		{V: p.Email},
		{V: p.AccountName},
		{V: string(p.Stage), Text: l.Stage(p.Stage)},
		{V: p.Grade},
		{V: p.Score},
		{V: orText(p.OwnerName, p.OwnerEmail)},
		{V: string(p.FirstTouchChannel), Text: channelText(l, p.FirstTouchChannel)},
		{V: nil},
		{V: cal.Day(p.FirstSeenAt)},
	}
	if p.LeadAt != nil {
		row[8].V = cal.Day(*p.LeadAt)
	}
	return row
}

func channelText(l Locale, ch model.Channel) string {
	if ch == "" {
		return ""
	}
	return l.Channel(ch)
}

func orText(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func personsTable(r *http.Request, l Locale, cal model.Calendar, v *personsView) *dataTable {
	t := &dataTable{ID: "persons", Columns: personsColumns(l), Presorted: true, Loc: cal.Loc, Empty: l.T("persons.empty")}
	for _, p := range v.Rows {
		t.Rows = append(t.Rows, personCells(l, cal, p))
	}
	def := map[store.PersonSort]string{store.SortFirstSeen: "first_seen", store.SortLeadAt: "lead_at", store.SortScore: "score", store.SortName: "name"}
	t.prepare(r, def[store.SortFirstSeen], true)
	t.Sort, t.Desc = def[v.Sort], v.Desc
	if v.Next != "" {
		q := cloneQuery(r.URL.Query(), "export", "lang")
		q.Set("cursor", v.Next)
		t.Next = r.URL.Path + "?" + q.Encode()
	}
	return t
}

func (s *Server) personsPage(w http.ResponseWriter, r *http.Request) {
	loc := s.catalog.locale(langOnly(r))
	v, err := s.personsData(r, loc)
	var fe *filterError
	if errors.As(err, &fe) {
		v.Error = loc.T(fe.Key)
		v.Table = &dataTable{ID: "persons", Columns: personsColumns(loc), Presorted: true, Empty: loc.T("persons.empty")}
		v.Table.prepare(r, "first_seen", true)
		s.renderPersons(w, r, http.StatusBadRequest, v)
		return
	}
	if err != nil {
		s.pageInternal(w, r, "persons list", err)
		return
	}
	if s.exportList(w, r, "persons", exportName("persons", "", v.Filter), func() (listExport, error) { return s.personsExport(r, loc, v) }) ||
		s.exportTable(w, r, "persons", v.Filter) {
		return
	}
	s.renderPersons(w, r, http.StatusOK, v)
}

func (s *Server) renderPersons(w http.ResponseWriter, r *http.Request, code int, v *personsView) {
	if us, err := s.store.RoutingUsers(r.Context(), nil); err == nil {
		for _, u := range us {
			if !u.Disabled && u.Role != model.RoleViewer {
				v.Owners = append(v.Owners, u)
			}
		}
	} else {
		s.log.Error("persons list: users", "err", err)
	}
	s.render(w, r, code, "persons", "persons.title", personsPageContent{personsView: v, FirstHref: firstPageHref(r)})
}

// personsPageContent is what persons.html renders.
type personsPageContent struct {
	*personsView
	FirstHref string
}

// firstPageHref is the list without its cursor.
func firstPageHref(r *http.Request) string {
	if r.URL.Query().Get("cursor") == "" {
		return ""
	}
	q := cloneQuery(r.URL.Query(), "cursor", "export", "lang")
	return r.URL.Path + "?" + q.Encode()
}

// personListJSON is one person of the list as the API gives it.
type personListJSON struct {
	ID                int64         `json:"id"`
	Name              string        `json:"name"`
	Title             string        `json:"title"`
	Email             string        `json:"email"`
	Phone             string        `json:"phone"`
	Account           *refJSON      `json:"account"`
	Stage             model.Stage   `json:"stage"`
	Grade             string        `json:"grade"`
	SDRClass          string        `json:"sdr_class"`
	Score             float64       `json:"score"`
	Owner             *ownerJSON    `json:"owner"`
	FirstTouchChannel model.Channel `json:"first_touch_channel"`
	FirstSeenAt       time.Time     `json:"first_seen_at"`
	LeadAt            *time.Time    `json:"lead_at"`
}

type refJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type personsJSON struct {
	Persons    []personListJSON `json:"persons"`
	Total      int64            `json:"total"`
	Limit      int              `json:"limit"`
	Sort       store.PersonSort `json:"sort"`
	Dir        string           `json:"dir"`
	Date       string           `json:"date"`
	From       string           `json:"from"`
	To         string           `json:"to"`
	NextCursor *string          `json:"next_cursor"`
}

// apiPersons answers GET /api/v1/persons: with ?identifier=TYPE:VALUE the
// person holding that identifier (as before the list existed), otherwise
// the persons list.
func (s *Server) apiPersons(w http.ResponseWriter, r *http.Request) {
	if _, ok := r.URL.Query()["identifier"]; ok {
		s.apiPersonLookup(w, r)
		return
	}
	format, err := apiFormat(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	l := s.fileLocale(r, format)
	v, err := s.personsData(r, l)
	if s.apiFailed(w, r, err, "") {
		return
	}
	if format != formatJSON {
		e, err := s.personsExport(r, l, v)
		if s.apiFailed(w, r, err, "") {
			return
		}
		s.streamList(w, r, true, format, exportName("persons", "", v.Filter), e)
		return
	}
	out := personsJSON{Persons: []personListJSON{}, Total: v.Total, Limit: v.Limit, Sort: v.Sort, Dir: dirName(v.Desc), Date: v.Params.DateBy,
		From: v.Filter.From, To: v.Filter.To}
	if v.Next != "" {
		out.NextCursor = &v.Next
	}
	for _, p := range v.Rows {
		j := personListJSON{ID: p.ID, Name: p.Name, Title: p.Title, Email: p.Email, Phone: p.Phone, Stage: p.Stage, Grade: p.Grade, SDRClass: p.SDRClass,
			Score: p.Score, FirstTouchChannel: p.FirstTouchChannel, FirstSeenAt: p.FirstSeenAt, LeadAt: p.LeadAt}
		if p.AccountID != 0 {
			j.Account = &refJSON{ID: p.AccountID, Name: p.AccountName}
		}
		if p.OwnerID != 0 {
			j.Owner = &ownerJSON{ID: p.OwnerID, Name: p.OwnerName, Email: p.OwnerEmail}
		}
		out.Persons = append(out.Persons, j)
	}
	writeJSON(w, http.StatusOK, out)
}
