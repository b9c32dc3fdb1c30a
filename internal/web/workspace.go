package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The workspace: the pages people work in every day, their navigation by
// role, and what every one of them shares — the date range and model in
// the URL, sortable tables that export CSV, charts, hints that define each
// figure, progress bars of long operations.

// workspaceRoutes mounts what the workspace pages share.
func (s *Server) workspaceRoutes(m *http.ServeMux) error {
	m.Handle("GET /jobs/{id}", s.requireUser(s.jobFragment))
	return nil
}

// navItem is one page of the navigation, shown to the roles that may open
// it.
type navItem struct {
	Key   string // page id; its label is nav.<Key>
	Path  string
	Roles []model.Role
}

// navGroup is a heading of the navigation and its pages.
type navGroup struct {
	Key   string // label: nav.group.<Key>
	Items []navItem
}

var (
	everyone   = []model.Role{model.RoleAdmin, model.RoleMarketer, model.RoleSales, model.RoleViewer}
	marketers  = []model.Role{model.RoleAdmin, model.RoleMarketer, model.RoleViewer}
	operators  = []model.Role{model.RoleAdmin, model.RoleMarketer}
	adminsOnly = []model.Role{model.RoleAdmin}
)

// workspaceNav is the navigation: every page of the workspace and who may
// open it. A page's handler checks the same roles (s.page).
func workspaceNav() []navGroup {
	return []navGroup{
		{Key: "dashboards", Items: []navItem{
			{Key: "marketing", Path: "/dashboards/marketing", Roles: marketers},
			{Key: "ads", Path: "/dashboards/ads", Roles: marketers},
			{Key: "events", Path: "/dashboards/events", Roles: marketers},
			{Key: "content", Path: "/dashboards/content", Roles: marketers},
			{Key: "sales", Path: "/dashboards/sales", Roles: everyone},
		}},
		{Key: "work", Items: []navItem{
			{Key: "persons", Path: "/persons", Roles: everyone},
			{Key: "accounts", Path: "/accounts", Roles: everyone},
			{Key: "campaigns", Path: "/campaigns", Roles: everyone},
			{Key: "tasks", Path: "/tasks", Roles: everyone},
			{Key: "my_links", Path: "/my/links", Roles: everyone},
		}},
		{Key: "reviews", Items: []navItem{
			{Key: "promotion", Path: "/reviews/promotion", Roles: marketers},
			{Key: "content_review", Path: "/reviews/content", Roles: marketers},
			{Key: "period_review", Path: "/reviews/period", Roles: marketers},
		}},
		{Key: "engage", Items: []navItem{
			{Key: "segments", Path: "/segments", Roles: marketers},
			{Key: "journeys", Path: "/journeys", Roles: marketers},
		}},
		{Key: "tools", Items: []navItem{
			{Key: "imports", Path: "/imports", Roles: operators},
			{Key: "links", Path: "/links", Roles: operators},
			{Key: "rules", Path: "/rules", Roles: operators},
		}},
		{Key: "admin", Items: []navItem{
			{Key: "settings", Path: "/settings", Roles: adminsOnly},
			{Key: "tracking", Path: "/settings/tracking", Roles: operators},
			{Key: "messaging", Path: "/settings/messaging", Roles: adminsOnly},
			{Key: "email", Path: "/settings/email", Roles: adminsOnly},
			{Key: "users", Path: "/users", Roles: adminsOnly},
		}},
	}
}

// navFor is the navigation a role sees, with the current page marked.
func navFor(role model.Role, current string) []navGroupView {
	var out []navGroupView
	for _, g := range workspaceNav() {
		v := navGroupView{Key: g.Key}
		for _, it := range g.Items {
			if slices.Contains(it.Roles, role) {
				v.Items = append(v.Items, navItemView{Key: it.Key, Path: it.Path, Current: it.Key == current})
			}
		}
		if len(v.Items) > 0 {
			out = append(out, v)
		}
	}
	return out
}

type navGroupView struct {
	Key   string
	Items []navItemView
}

type navItemView struct {
	Key, Path string
	Current   bool
}

// pageRoles is who may open a workspace page, by its nav key.
func pageRoles(key string) []model.Role {
	for _, g := range workspaceNav() {
		for _, it := range g.Items {
			if it.Key == key {
				return it.Roles
			}
		}
	}
	return nil
}

// homeFor is where a role lands after logging in.
func homeFor(role model.Role) string {
	if role == model.RoleSales {
		return "/dashboards/sales"
	}
	return "/dashboards/marketing"
}

// page guards a workspace page: logged in, and of a role that may open it
// (others get 403 in their language).
func (s *Server) page(key string, next http.HandlerFunc) http.Handler {
	roles := pageRoles(key)
	if roles == nil {
		panic("web: page " + key + " is not in the navigation")
	}
	return s.requireUser(func(w http.ResponseWriter, r *http.Request) {
		u, _ := userFrom(r.Context())
		if !slices.Contains(roles, u.Role) {
			s.renderError(w, r, http.StatusForbidden, "error.forbidden_page")
			return
		}
		next(w, r)
	})
}

// pageAPI guards the JSON twin of a workspace page: a key or session of a
// role that may open the page.
func (s *Server) pageAPI(key string, next http.HandlerFunc) http.Handler {
	roles := pageRoles(key)
	if roles == nil {
		panic("web: page " + key + " is not in the navigation")
	}
	return s.requireAPI(func(w http.ResponseWriter, r *http.Request) {
		role, err := s.requestRole(r)
		if err != nil {
			s.apiInternal(w, r, err)
			return
		}
		if !slices.Contains(roles, role) {
			writeJSONError(w, http.StatusForbidden, fmt.Sprintf("this needs one of the roles %s; yours is %s", joinRoles(roles), role))
			return
		}
		next(w, r)
	})
}

func joinRoles(rs []model.Role) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, string(r))
	}
	return strings.Join(parts, ", ")
}

// requestRole is the role of an authenticated request's API key or
// session user.
func (s *Server) requestRole(r *http.Request) (model.Role, error) {
	if key, ok := bearer(r.Header.Get("Authorization")); ok && key != "" {
		k, err := s.auth.CheckAPIKey(r.Context(), key)
		if err != nil {
			return "", err
		}
		return k.Role, nil
	}
	if u, ok := userFrom(r.Context()); ok {
		return u.Role, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", nil
	}
	u, err := s.auth.SessionUser(r.Context(), c.Value)
	if err != nil {
		return "", err
	}
	return u.Role, nil
}

// viewFilter is the date range and attribution model of a page, read from
// the URL so that a link shows the same view.
type viewFilter struct {
	From, To string // YYYY-MM-DD, as the form shows them
	Period   model.Period
	Today    time.Time // the team's today
	Default  bool      // no range in the URL: the last 12 months
	Model    string    // attribution model ("" on pages without one)
	Ranges   []rangeLink
}

// rangeLink is a quick range: the same page over another period.
type rangeLink struct {
	Key     string // label: range.<Key>
	Href    string
	Current bool
}

// filterError is a filter the user must fix; Key names the message.
type filterError struct {
	Param, Key string
	Msg        string // for the API
}

func (e *filterError) Error() string { return e.Msg }

// parseFilter reads from, to and (when models is not empty) model from
// the URL. Days are team days; from and to are both included. Without
// them the range is the 12 months to today.
func (s *Server) parseFilter(r *http.Request, cal model.Calendar, models []string, defModel string) (viewFilter, error) {
	return readFilter(r, cal, cal.Day(s.app.Now()), models, defModel)
}

// filterOf is parseFilter in the team's calendar (an error reading it is
// no *filterError).
func (s *Server) filterOf(r *http.Request, models []string, defModel string) (viewFilter, error) {
	cal, err := s.store.Calendar(r.Context())
	if err != nil {
		return viewFilter{}, err
	}
	return s.parseFilter(r, cal, models, defModel)
}

// readFilter is parseFilter on a given team day.
func readFilter(r *http.Request, cal model.Calendar, today time.Time, models []string, defModel string) (viewFilter, error) {
	q := r.URL.Query()
	f := viewFilter{Today: today}
	from, to := strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	day := func(param, v string) (time.Time, error) {
		if v == "" {
			return time.Time{}, nil
		}
		d, err := time.Parse(dateLayout, v)
		if err != nil || d.Year() < 1990 || d.Year() > 2200 {
			return time.Time{}, &filterError{Param: param, Key: "error.bad_" + param, Msg: fmt.Sprintf("%s: %q is not a day: use YYYY-MM-DD (a day in the team's time zone)", param, clip(v, 40))}
		}
		return d, nil
	}
	fd, err := day("from", from)
	if err != nil {
		return f, err
	}
	td, err := day("to", to)
	if err != nil {
		return f, err
	}
	if from == "" && to == "" {
		f.Default = true
		fd, td = f.Today.AddDate(-1, 0, 1), f.Today
	}
	if !fd.IsZero() && !td.IsZero() && td.Before(fd) {
		return f, &filterError{Param: "from,to", Key: "error.from_after_to", Msg: fmt.Sprintf("from (%s) must not be after to (%s)", from, to)}
	}
	f.Period = model.Period{From: fd, To: td, Cal: cal}
	if !fd.IsZero() {
		f.From = fd.Format(dateLayout)
	}
	if !td.IsZero() {
		f.To = td.Format(dateLayout)
	}
	if len(models) > 0 {
		f.Model = strings.TrimSpace(q.Get("model"))
		if f.Model == "" {
			f.Model = defModel
		}
		if !slices.Contains(models, f.Model) {
			return f, &filterError{Param: "model", Key: "error.bad_model", Msg: fmt.Sprintf("model %q: want one of %s", clip(f.Model, 40), strings.Join(models, ", "))}
		}
	}
	f.Ranges = quickRanges(r, f)
	return f, nil
}

// quickRanges are the usual periods, each a link keeping the rest of the
// URL (model, filters) but not a table's page.
func quickRanges(r *http.Request, f viewFilter) []rangeLink {
	t := f.Today
	quarter := model.QuarterOf(t)
	ranges := []struct {
		key      string
		from, to time.Time
	}{
		{"30d", t.AddDate(0, 0, -29), t},
		{"90d", t.AddDate(0, 0, -89), t},
		{"mtd", model.MonthOf(t), t},
		{"qtd", quarter, t},
		{"last_quarter", quarter.AddDate(0, -3, 0), quarter.AddDate(0, 0, -1)},
		{"ytd", time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC), t},
		{"12m", t.AddDate(-1, 0, 1), t},
	}
	var out []rangeLink
	for _, rg := range ranges {
		q := url.Values{}
		for k, v := range r.URL.Query() {
			if k == "cursor" || k == "export" || k == "lang" {
				continue
			}
			q[k] = slices.Clone(v)
		}
		q.Set("from", rg.from.Format(dateLayout))
		q.Set("to", rg.to.Format(dateLayout))
		out = append(out, rangeLink{Key: rg.key, Href: r.URL.Path + "?" + q.Encode(),
			Current: f.Period.From.Equal(rg.from) && f.Period.To.Equal(rg.to)})
	}
	return out
}

// RangeText says which days a filter shows, in the page's language.
func (f viewFilter) RangeText(loc Locale) string {
	return rangeText(loc, f.From, f.To)
}

// creditModels are the attribution models a dashboard switches between:
// those whose credits are stored.
func creditModels() []string {
	out := make([]string, len(credits.Models))
	for i, m := range credits.Models {
		out[i] = string(m)
	}
	return out
}

// apiFailed answers a JSON twin's error, if any, and says whether it did:
// 404 with missing (or "not found") for a record that does not exist, 400 with the
// message of a bad filter, 500 otherwise.
func (s *Server) apiFailed(w http.ResponseWriter, r *http.Request, err error, missing string) bool {
	var fe *filterError
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		if missing == "" {
			missing = "not found"
		}
		writeJSONError(w, http.StatusNotFound, missing)
	case errors.As(err, &fe):
		writeJSONError(w, http.StatusBadRequest, fe.Msg)
	default:
		s.apiInternal(w, r, err)
	}
	return true
}

// pageFailed answers a detail page's error, if any, and says whether it
// did: the not-found page (notFoundKey) for a record that does not exist,
// the page itself with a bad filter's message (badFilter renders it with
// the text in the page's language, 400), 500 otherwise.
func (s *Server) pageFailed(w http.ResponseWriter, r *http.Request, err error, notFoundKey, what string, badFilter func(text string)) bool {
	var fe *filterError
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		s.renderError(w, r, http.StatusNotFound, notFoundKey)
	case errors.As(err, &fe):
		badFilter(s.catalog.locale(langOnly(r)).T(fe.Key))
	default:
		s.pageInternal(w, r, what, err)
	}
	return true
}
