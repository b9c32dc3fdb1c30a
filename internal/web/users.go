package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// userRoutes mounts the administrators' user management: the JSON API
// (admin keys) and the users page (admin sessions), and registers the
// periodic clean-up of expired sessions and quiet sign-in counters.
func (s *Server) userRoutes(m *http.ServeMux) error {
	t, err := template.New("layout.html").Funcs(template.FuncMap{"asset": s.assetURL}).
		ParseFS(templateFS, "templates/layout.html", "templates/users.html")
	if err != nil {
		return err
	}
	s.pages["users"] = t

	m.Handle("GET /api/v1/users", s.requireRole(model.RoleAdmin, s.apiUsers))
	m.Handle("POST /api/v1/users", s.requireRole(model.RoleAdmin, s.apiCreateUser))
	m.Handle("POST /api/v1/users/{id}/disable", s.requireRole(model.RoleAdmin, s.apiUserAction(userDisable)))
	m.Handle("POST /api/v1/users/{id}/enable", s.requireRole(model.RoleAdmin, s.apiUserAction(userEnable)))
	m.Handle("POST /api/v1/users/{id}/password", s.requireRole(model.RoleAdmin, s.apiUserAction(userPassword)))
	m.Handle("DELETE /api/v1/users/{id}/sessions", s.requireRole(model.RoleAdmin, s.apiUserAction(userRevoke)))

	m.Handle("GET /users", s.page("users", s.usersPage))
	m.Handle("POST /users", s.requireUser(s.requireAdminPage(s.usersCreateSubmit)))
	m.Handle("POST /users/{id}/{action}", s.requireUser(s.requireAdminPage(s.usersActionSubmit)))

	return nil
}

// clientIP is the address the sign-in throttle counts a request by: the
// collector's view (the peer, or behind a trusted proxy the forwarded
// client), never a header from an untrusted peer.
func (s *Server) clientIP(r *http.Request) string {
	if s.collector != nil {
		return s.collector.ClientIP(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// retryAfter is a Retry-After value: whole seconds, rounded up.
func retryAfter(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// userJSON is a user as the API shows them, never with the password hash.
type userJSON struct {
	ID         int64      `json:"id"`
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	Role       model.Role `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	DisabledAt *time.Time `json:"disabled_at"`
	Sessions   int        `json:"sessions"`
}

func newUserJSON(u model.User, sessions int) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, CreatedAt: u.CreatedAt, DisabledAt: u.DisabledAt, Sessions: sessions}
}

// usersWithSessions lists every user with their live session count.
func (s *Server) usersWithSessions(ctx context.Context) ([]userJSON, error) {
	users, err := s.store.Users(ctx, "")
	if err != nil {
		return nil, err
	}
	counts, err := s.store.UserSessionCounts(ctx, s.app.Now())
	if err != nil {
		return nil, err
	}
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		out = append(out, newUserJSON(u, counts[u.ID]))
	}
	return out, nil
}

func (s *Server) apiUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.usersWithSessions(r.Context())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
}

func (s *Server) apiCreateUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if !decodeBody(w, r, &in, `{"email", "name", "role", "password"}`) {
		return
	}
	role, err := model.ParseRole(in.Role)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "role: "+err.Error())
		return
	}
	if len(in.Name) > 200 {
		writeJSONError(w, http.StatusBadRequest, "name: at most 200 bytes")
		return
	}
	u, err := s.auth.CreateUser(r.Context(), in.Email, in.Name, role, in.Password)
	if err != nil {
		s.userError(w, r, err)
		return
	}
	s.log.Info("user created", "user_id", u.ID, "role", u.Role, "by", s.actor(r))
	writeJSON(w, http.StatusCreated, map[string]any{"user": newUserJSON(u, 0)})
}

// userAction is one change to an existing user.
type userAction string

const (
	userDisable  userAction = "disable"
	userEnable   userAction = "enable"
	userPassword userAction = "password"
	userRevoke   userAction = "sessions"
)

// applyUserAction changes user id and returns the sessions it ended.
func (s *Server) applyUserAction(ctx context.Context, id int64, action userAction, password string) (int64, error) {
	switch action {
	case userDisable:
		return s.auth.DisableUser(ctx, id)
	case userEnable:
		return 0, s.auth.EnableUser(ctx, id)
	case userPassword:
		return s.auth.SetPassword(ctx, id, password)
	case userRevoke:
		return s.auth.RevokeSessions(ctx, id)
	}
	return 0, fmt.Errorf("unknown user action %q", action)
}

func (s *Server) apiUserAction(action userAction) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			writeJSONError(w, http.StatusBadRequest, "id: want a user id")
			return
		}
		var password string
		if action == userPassword {
			var in struct {
				Password string `json:"password"`
			}
			if !decodeBody(w, r, &in, `{"password"}`) {
				return
			}
			password = in.Password
		}
		ended, err := s.applyUserAction(r.Context(), id, action, password)
		if err != nil {
			s.userError(w, r, err)
			return
		}
		s.log.Info("user changed", "user_id", id, "action", string(action), "sessions_ended", ended, "by", s.actor(r))
		u, err := s.store.UserByID(r.Context(), id)
		if err != nil {
			s.apiInternal(w, r, err)
			return
		}
		counts, err := s.store.UserSessionCounts(r.Context(), s.app.Now())
		if err != nil {
			s.apiInternal(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"user": newUserJSON(u, counts[id]), "sessions_ended": ended})
	}
}

// userError answers what auth refused: 404, 409 or 400 with the reason.
func (s *Server) userError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no user %s", r.PathValue("id")))
	case errors.Is(err, auth.ErrLastAdmin), strings.Contains(err.Error(), "already exists"):
		writeJSONError(w, http.StatusConflict, err.Error())
	case errors.Is(err, auth.ErrPasswordShort), errors.Is(err, auth.ErrPasswordLong), errors.Is(err, auth.ErrPasswordCommon),
		strings.Contains(err.Error(), "invalid email"), strings.Contains(err.Error(), "password is empty"):
		writeJSONError(w, http.StatusBadRequest, err.Error())
	default:
		s.apiInternal(w, r, err)
	}
}

// requireAdminPage lets only admins see a page; others get 403.
func (s *Server) requireAdminPage(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, ok := userFrom(r.Context())
		if !ok || u.Role != model.RoleAdmin {
			s.renderError(w, r, http.StatusForbidden, "users.forbidden")
			return
		}
		next(w, r)
	}
}

// usersView is the users page.
type usersView struct {
	Users  []userJSON
	Me     int64
	Notice string // what the last action did
	Error  string
	Roles  []model.Role
	// The create form, kept when it was refused.
	Email, Name string
	Role        model.Role
}

// userNotices are the messages a redirect after an action may show.
var userNotices = map[string]bool{"created": true, "disabled": true, "enabled": true, "password": true, "sessions": true}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) {
	loc := s.catalog.locale(langOnly(r))
	v := usersView{Roles: model.Roles, Role: model.RoleViewer}
	if n := r.URL.Query().Get("done"); userNotices[n] {
		v.Notice = loc.T("users.done." + n)
	}
	s.renderUsers(w, r, http.StatusOK, v)
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, code int, v usersView) {
	users, err := s.usersWithSessions(r.Context())
	if err != nil {
		s.pageInternal(w, r, "users page", err)
		return
	}
	v.Users = users
	if u, ok := userFrom(r.Context()); ok {
		v.Me = u.ID
	}
	v.Roles = model.Roles
	s.render(w, r, code, "users", "users.title", v)
}

// userErrorText translates what auth refused for the page.
func userErrorText(loc Locale, err error) (string, bool) {
	switch {
	case errors.Is(err, auth.ErrPasswordShort):
		return loc.T("users.error.password_short", "n", auth.MinPasswordLength), true
	case errors.Is(err, auth.ErrPasswordLong):
		return loc.T("users.error.password_long", "n", auth.MaxPasswordLength), true
	case errors.Is(err, auth.ErrPasswordCommon):
		return loc.T("users.error.password_common"), true
	case errors.Is(err, auth.ErrLastAdmin):
		return loc.T("users.error.last_admin"), true
	case errors.Is(err, store.ErrNotFound):
		return loc.T("users.error.not_found"), true
	case strings.Contains(err.Error(), "already exists"):
		return loc.T("users.error.exists"), true
	case strings.Contains(err.Error(), "invalid email"):
		return loc.T("users.error.email"), true
	case strings.Contains(err.Error(), "unknown role"):
		return loc.T("users.error.role"), true
	}
	return "", false
}

func (s *Server) usersFormError(w http.ResponseWriter, r *http.Request, v usersView, err error) {
	loc := s.catalog.locale(langOnly(r))
	msg, ok := userErrorText(loc, err)
	if !ok {
		s.pageInternal(w, r, "users page", err)
		return
	}
	v.Error = msg
	s.renderUsers(w, r, http.StatusBadRequest, v)
}

func (s *Server) usersCreateSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "users.error.bad_form")
		return
	}
	v := usersView{Email: strings.TrimSpace(r.PostForm.Get("email")), Name: strings.TrimSpace(r.PostForm.Get("name")), Role: model.Role(r.PostForm.Get("role"))}
	if len(v.Name) > 200 {
		v.Name = v.Name[:200]
	}
	u, err := s.auth.CreateUser(r.Context(), v.Email, v.Name, v.Role, r.PostForm.Get("password"))
	if err != nil {
		s.usersFormError(w, r, v, err)
		return
	}
	s.log.Info("user created", "user_id", u.ID, "role", u.Role, "by", s.actor(r))
	http.Redirect(w, r, "/users?done=created", http.StatusSeeOther)
}

func (s *Server) usersActionSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "users.error.bad_form")
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	action := userAction(r.PathValue("action"))
	switch action {
	case userDisable, userEnable, userPassword, userRevoke:
	default:
		err = errors.New("unknown action")
	}
	if err != nil || id <= 0 {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	ended, err := s.applyUserAction(r.Context(), id, action, r.PostForm.Get("password"))
	if err != nil {
		s.usersFormError(w, r, usersView{Role: model.RoleViewer}, err)
		return
	}
	s.log.Info("user changed", "user_id", id, "action", string(action), "sessions_ended", ended, "by", s.actor(r))
	done := string(action)
	if action == userDisable {
		done = "disabled"
	} else if action == userEnable {
		done = "enabled"
	}
	if me, ok := userFrom(r.Context()); ok && me.ID == id && action != userEnable {
		// The admin ended their own session: sign in again.
		http.Redirect(w, r, "/login?next="+url.QueryEscape("/users"), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/users?done="+done, http.StatusSeeOther)
}
