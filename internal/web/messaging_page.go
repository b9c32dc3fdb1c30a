package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/store"
)

// The messaging settings page (/settings/messaging, administrators): the
// consent policy and caps per channel, the WeCom app, the webhook secret
// and allowed ranges, and the users' WeCom member ids. Each form posts
// to /settings/messaging/{key}, checked as the API checks it.

type messagingPage struct {
	View     messagingView
	Caps     []messagingCap
	Ranges   string
	Members  []messagingMember
	Notice   string
	Error    string
	ErrorKey string
}

func (messagingPage) NavKey() string { return "messaging" }

// messagingCap is one channel's policy and caps in the form.
type messagingCap struct {
	Channel string
	Policy  string
	PerDay  int
	PerWeek int
}

// messagingMember is a user and their WeCom member id.
type messagingMember struct {
	UserID   int64
	Name     string
	Email    string
	MemberID string
}

func (s *Server) messagingPageRoutes(m *http.ServeMux) {
	m.Handle("GET /settings/messaging", s.page("messaging", s.messagingPage))
	m.Handle("POST /settings/messaging/{key}", s.page("messaging", s.messagingSave))
}

func (s *Server) messagingPage(w http.ResponseWriter, r *http.Request) {
	l := s.catalog.locale(langOnly(r))
	p := messagingPage{}
	if k := r.URL.Query().Get("saved"); k != "" {
		p.Notice = l.T("messaging.saved")
	}
	s.renderMessaging(w, r, http.StatusOK, p)
}

func (s *Server) renderMessaging(w http.ResponseWriter, r *http.Request, code int, p messagingPage) {
	ctx := r.Context()
	v, err := s.messagingSettings(ctx)
	if err != nil {
		s.pageInternal(w, r, "messaging page", err)
		return
	}
	p.View = v
	for _, ch := range message.CapChannels() {
		c := v.Caps[ch]
		p.Caps = append(p.Caps, messagingCap{Channel: ch, Policy: v.Consent.Of(ch), PerDay: c.PerDay, PerWeek: c.PerWeek})
	}
	p.Ranges = strings.Join(v.AllowRanges, "\n")
	users, err := s.store.Users(ctx, "")
	if err != nil {
		s.pageInternal(w, r, "messaging page", err)
		return
	}
	members, err := s.store.WeComMembers(ctx)
	if err != nil {
		s.pageInternal(w, r, "messaging page", err)
		return
	}
	byUser := map[int64]string{}
	for _, m := range members {
		byUser[m.UserID] = m.MemberID
	}
	for _, u := range users {
		if u.DisabledAt != nil {
			continue
		}
		p.Members = append(p.Members, messagingMember{UserID: u.ID, Name: u.Name, Email: u.Email, MemberID: byUser[u.ID]})
	}
	s.render(w, r, code, "messaging", "messaging.title", p)
}

// messagingFormJSON turns a form into the JSON body the API takes.
func messagingFormJSON(key string, f url.Values) ([]byte, error) {
	num := func(name string) (int, error) {
		v := strings.TrimSpace(f.Get(name))
		if v == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, &settingError{Msg: name + ": want a whole number"}
		}
		return n, nil
	}
	var v any
	switch key {
	case message.SettingConsent:
		m := map[string]string{}
		for _, ch := range message.CapChannels() {
			m[ch] = f.Get(ch)
		}
		v = m
	case message.SettingCaps:
		m := map[string]message.Cap{}
		for _, ch := range message.CapChannels() {
			d, err := num(ch + ".per_day")
			if err != nil {
				return nil, err
			}
			wk, err := num(ch + ".per_week")
			if err != nil {
				return nil, err
			}
			m[ch] = message.Cap{PerDay: d, PerWeek: wk}
		}
		v = m
	case message.SettingWeCom:
		agent, err := num("agent_id")
		if err != nil {
			return nil, err
		}
		dup, err := num("duplicate_check_interval")
		if err != nil {
			return nil, err
		}
		v = weComInput{CorpID: f.Get("corp_id"), AgentID: int64(agent), Secret: f.Get("secret"), BaseURL: f.Get("base_url"), DuplicateCheckInterval: dup}
	case message.SettingWebhook:
		v = webhookInput{Secret: f.Get("secret")}
	case message.SettingWebhookAllow:
		list := []string{}
		for _, line := range strings.Split(f.Get("ranges"), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				list = append(list, line)
			}
		}
		v = list
	default:
		return nil, errUnknownSetting
	}
	return json.Marshal(v)
}

func (s *Server) messagingSave(w http.ResponseWriter, r *http.Request) {
	l := s.catalog.locale(langOnly(r))
	key := r.PathValue("key")
	r.Body = http.MaxBytesReader(w, r.Body, maxMessagingBody)
	if err := r.ParseForm(); err != nil {
		s.renderMessaging(w, r, http.StatusBadRequest, messagingPage{Error: l.T("messaging.error.form"), ErrorKey: key})
		return
	}
	var err error
	if key == "members" {
		err = s.saveMembersForm(r)
	} else {
		var raw []byte
		raw, err = messagingFormJSON(key, r.PostForm)
		if err == nil {
			err = s.saveMessagingSetting(r.Context(), key, raw)
		}
	}
	var se *settingError
	switch {
	case errors.Is(err, errUnknownSetting):
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	case errors.As(err, &se):
		s.renderMessaging(w, r, http.StatusBadRequest, messagingPage{Error: l.T("messaging.error.value", "reason", se.Msg), ErrorKey: key})
		return
	case err != nil:
		s.pageInternal(w, r, "save messaging setting", err)
		return
	}
	http.Redirect(w, r, "/settings/messaging?"+url.Values{"saved": {key}}.Encode()+"#"+strings.ReplaceAll(key, ".", "-"), http.StatusSeeOther)
}

// saveMembersForm stores the member ids of the members form
// (member.<user id> fields).
func (s *Server) saveMembersForm(r *http.Request) error {
	n := 0
	for k, vs := range r.PostForm {
		idText, ok := strings.CutPrefix(k, "member.")
		if !ok || len(vs) != 1 {
			continue
		}
		if n++; n > 10000 {
			return &settingError{Msg: "too many members in one form"}
		}
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			return &settingError{Msg: k + ": not a user"}
		}
		mid := strings.TrimSpace(vs[0])
		if mid != "" && !weComMemberID.MatchString(mid) {
			return &settingError{Msg: "member_id " + strconv.Quote(mid) + ": letters, digits and _-.@, at most 64 characters"}
		}
		if err := s.store.SetWeComMember(r.Context(), id, mid, time.Now()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return &settingError{Msg: k + ": no such user"}
			}
			return err
		}
	}
	return nil
}
