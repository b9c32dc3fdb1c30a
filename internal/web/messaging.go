package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The messaging settings (administrators): the consent policy and the
// frequency caps of the channels, the WeCom app, the webhook signing
// secret and the internal ranges webhooks may call, and the WeCom member
// id of each user. Secrets are sealed with the server's secret key
// before they are stored and are never returned: a reader sees only
// whether one is set. docs/messaging.md describes each value.

// maxMessagingBody bounds a messaging setting's body.
const maxMessagingBody = 64 << 10

// messagingKeys are the settings of this API, in the order shown.
var messagingKeys = []string{message.SettingConsent, message.SettingCaps, message.SettingWeCom, message.SettingWebhook, message.SettingWebhookAllow}

func (s *Server) messagingRoutes(m *http.ServeMux) error {
	m.Handle("GET /api/v1/messaging/settings", s.requireRole(model.RoleAdmin, s.apiMessagingSettings))
	m.Handle("PUT /api/v1/messaging/settings/{key}", s.requireRole(model.RoleAdmin, s.apiPutMessagingSetting))
	m.Handle("GET /api/v1/wecom/members", s.requireRole(model.RoleAdmin, s.apiWeComMembers))
	m.Handle("PUT /api/v1/wecom/members/{user}", s.requireRole(model.RoleAdmin, s.apiPutWeComMember))
	s.messagingPageRoutes(m)
	return nil
}

// weComView is the WeCom setting as shown: the secret only as set or not.
type weComView struct {
	CorpID                 string `json:"corp_id"`
	AgentID                int64  `json:"agent_id"`
	BaseURL                string `json:"base_url"`
	DuplicateCheckInterval int    `json:"duplicate_check_interval"`
	SecretSet              bool   `json:"secret_set"`
}

// webhookView is the webhook setting as shown.
type webhookView struct {
	SecretSet bool `json:"secret_set"`
}

// messagingView is every messaging setting in force.
type messagingView struct {
	Consent     message.ConsentPolicy `json:"message.consent"`
	Caps        message.Caps          `json:"message.caps"`
	WeCom       weComView             `json:"wecom"`
	Webhook     webhookView           `json:"webhook"`
	AllowRanges []string              `json:"webhook.allow_ranges"`
	// SecretsAvailable says whether the server has a secret key to seal
	// secrets with (without one, the WeCom and webhook secrets cannot be set).
	SecretsAvailable bool `json:"secrets_available"`
}

// messagingSettings reads the settings in force, defaults filled in.
func (s *Server) messagingSettings(ctx context.Context) (messagingView, error) {
	v := messagingView{Consent: message.ConsentPolicy{}, Caps: message.Caps{}, AllowRanges: []string{}, SecretsAvailable: s.app.Secrets != nil}
	var raw json.RawMessage
	if ok, err := s.store.Setting(ctx, message.SettingConsent, &raw); err != nil {
		return v, err
	} else if ok {
		if p, err := message.ParseConsentPolicy(raw); err == nil {
			v.Consent = p
		}
	}
	for _, ch := range message.CapChannels() {
		v.Consent[ch] = v.Consent.Of(ch)
	}
	if ok, err := s.store.Setting(ctx, message.SettingCaps, &raw); err != nil {
		return v, err
	} else if ok {
		if c, err := message.ParseCaps(raw); err == nil {
			v.Caps = c
		}
	}
	var wc message.WeComSettings
	if _, err := s.store.Setting(ctx, message.SettingWeCom, &wc); err != nil {
		return v, err
	}
	dup := wc.DuplicateCheckInterval
	if dup == 0 {
		dup = message.DefaultWeComDupSeconds
	}
	v.WeCom = weComView{CorpID: wc.CorpID, AgentID: wc.AgentID, BaseURL: wc.Base(), DuplicateCheckInterval: dup, SecretSet: wc.SecretSealed != ""}
	var wh message.WebhookSettings
	if _, err := s.store.Setting(ctx, message.SettingWebhook, &wh); err != nil {
		return v, err
	}
	v.Webhook.SecretSet = wh.SecretSealed != ""
	if _, err := s.store.Setting(ctx, message.SettingWebhookAllow, &v.AllowRanges); err != nil {
		return v, err
	}
	return v, nil
}

func (s *Server) apiMessagingSettings(w http.ResponseWriter, r *http.Request) {
	v, err := s.messagingSettings(r.Context())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// weComInput is what an administrator sends for the WeCom app; an
// empty secret keeps the stored one.
type weComInput struct {
	CorpID                 string `json:"corp_id"`
	AgentID                int64  `json:"agent_id"`
	Secret                 string `json:"secret"`
	BaseURL                string `json:"base_url"`
	DuplicateCheckInterval int    `json:"duplicate_check_interval"`
}

type webhookInput struct {
	Secret string `json:"secret"`
}

// Bounds of the secrets.
const (
	maxSecretLen     = 256
	minWebhookSecret = 16
)

// saveMessagingSetting checks and stores one messaging setting; a value
// refused is a *settingError.
func (s *Server) saveMessagingSetting(ctx context.Context, key string, raw []byte) error {
	bad := func(format string, a ...any) error {
		return &settingError{Msg: fmt.Sprintf("setting %s: ", key) + fmt.Sprintf(format, a...)}
	}
	switch key {
	case message.SettingConsent:
		p, err := message.ParseConsentPolicy(raw)
		if err != nil {
			return bad("%v", err)
		}
		return s.store.SetSetting(ctx, key, p)
	case message.SettingCaps:
		c, err := message.ParseCaps(raw)
		if err != nil {
			return bad("%v", err)
		}
		return s.store.SetSetting(ctx, key, c)
	case message.SettingWebhookAllow:
		l, err := message.ParseAllowRanges(raw)
		if err != nil {
			return bad("%v", err)
		}
		return s.store.SetSetting(ctx, key, l)
	case message.SettingWeCom:
		var in weComInput
		if err := parseObject(raw, &in); err != nil {
			return bad("%v", err)
		}
		var old message.WeComSettings
		if _, err := s.store.Setting(ctx, key, &old); err != nil {
			return err
		}
		wc := message.WeComSettings{CorpID: strings.TrimSpace(in.CorpID), AgentID: in.AgentID, BaseURL: strings.TrimRight(strings.TrimSpace(in.BaseURL), "/"),
			DuplicateCheckInterval: in.DuplicateCheckInterval, SecretSealed: old.SecretSealed}
		if err := wc.Check(); err != nil {
			return bad("%v", err)
		}
		switch {
		case in.Secret != "":
			if len(in.Secret) > maxSecretLen || !utf8.ValidString(in.Secret) || strings.TrimSpace(in.Secret) != in.Secret {
				return bad("secret: at most %d characters, no surrounding spaces", maxSecretLen)
			}
			if s.app.Secrets == nil {
				return bad("secret: the server has no secret key to seal it with (start it with --secret-key or REVLOOP_SECRET_KEY)")
			}
			sealed, err := s.app.Secrets.Seal([]byte(in.Secret))
			if err != nil {
				return err
			}
			wc.SecretSealed = sealed
		case wc.SecretSealed == "":
			return bad("secret: required (the app's Secret from the WeCom admin console)")
		}
		if wc.BaseURL == message.DefaultWeComBaseURL {
			wc.BaseURL = ""
		}
		return s.store.SetSetting(ctx, key, wc)
	case message.SettingWebhook:
		var in webhookInput
		if err := parseObject(raw, &in); err != nil {
			return bad("%v", err)
		}
		if len(in.Secret) < minWebhookSecret || len(in.Secret) > maxSecretLen || !utf8.ValidString(in.Secret) {
			return bad("secret: %d to %d characters", minWebhookSecret, maxSecretLen)
		}
		if s.app.Secrets == nil {
			return bad("secret: the server has no secret key to seal it with (start it with --secret-key or REVLOOP_SECRET_KEY)")
		}
		sealed, err := s.app.Secrets.Seal([]byte(in.Secret))
		if err != nil {
			return err
		}
		return s.store.SetSetting(ctx, key, message.WebhookSettings{SecretSealed: sealed})
	}
	return errUnknownSetting
}

func (s *Server) apiPutMessagingSetting(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	known := false
	for _, k := range messagingKeys {
		known = known || k == key
	}
	if !known {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("unknown messaging setting %q (known: %s)", key, strings.Join(messagingKeys, ", ")))
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxMessagingBody+1))
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "cannot read the request body")
		return
	}
	if len(raw) > maxMessagingBody {
		writeJSONError(w, http.StatusRequestEntityTooLarge, "a messaging setting is at most 64 KiB")
		return
	}
	err = s.saveMessagingSetting(r.Context(), key, raw)
	var se *settingError
	if errors.As(err, &se) {
		writeJSONError(w, http.StatusBadRequest, se.Msg)
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	v, err := s.messagingSettings(r.Context())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiWeComMembers(w http.ResponseWriter, r *http.Request) {
	ms, err := s.store.WeComMembers(r.Context())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": ms})
}

// weComMemberID is a WeCom member id (userid): letters, digits and
// _-.@, at most 64 characters.
var weComMemberID = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)

func (s *Server) apiPutWeComMember(w http.ResponseWriter, r *http.Request) {
	uid, err := strconv.ParseInt(r.PathValue("user"), 10, 64)
	if err != nil || uid <= 0 {
		writeJSONError(w, http.StatusBadRequest, "user: want a user id")
		return
	}
	var in struct {
		MemberID string `json:"member_id"`
	}
	body, ok := readBody(w, r, "body")
	if !ok {
		return
	}
	if err := parseObject(body, &in); err != nil {
		writeJSONError(w, http.StatusBadRequest, "body must be a JSON object {\"member_id\": \"...\"}: "+err.Error())
		return
	}
	in.MemberID = strings.TrimSpace(in.MemberID)
	if in.MemberID != "" && !weComMemberID.MatchString(in.MemberID) {
		writeJSONError(w, http.StatusBadRequest, "member_id: letters, digits and _-.@, at most 64 characters (\"\" removes it)")
		return
	}
	err = s.store.SetWeComMember(r.Context(), uid, in.MemberID, time.Now())
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no user %d", uid))
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_id": uid, "member_id": in.MemberID})
}
