package message

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/secret"
	"github.com/revloop/revloop/internal/store"
)

// SettingWeCom holds the WeCom app revloop sends through.
const SettingWeCom = "wecom"

// DefaultWeComBaseURL is the official API.
const DefaultWeComBaseURL = "https://qyapi.weixin.qq.com"

// WeCom step kinds.
const (
	WeComApp      = "app"      // an app message to members (the person's owner by default)
	WeComExternal = "external" // a message to the external contact, sent by its owner
)

// WeCom's per-member limits on app messages, which revloop keeps below.
var weComMemberLimits = []store.SendLimit{{Window: time.Minute, Max: 30}, {Window: time.Hour, Max: 1000}}

// Bounds.
const (
	MaxWeComContentLen     = 2048 // WeCom's limit on a text message, in bytes
	MaxWeComDupInterval    = 4 * 60 * 60
	DefaultWeComDupSeconds = 1800
	weComReadLimit         = 1 << 20
)

// WeComSettings is the stored value of SettingWeCom; the app secret is
// sealed and never shown.
type WeComSettings struct {
	CorpID       string `json:"corp_id"`
	AgentID      int64  `json:"agent_id"`
	SecretSealed string `json:"secret_sealed,omitempty"`
	BaseURL      string `json:"base_url,omitempty"`
	// DuplicateCheckInterval is the seconds WeCom drops a repeated app
	// message within (default 1800, at most 14400).
	DuplicateCheckInterval int `json:"duplicate_check_interval,omitempty"`
}

// Base is the API's base URL without a trailing slash.
func (s WeComSettings) Base() string {
	if s.BaseURL == "" {
		return DefaultWeComBaseURL
	}
	return strings.TrimRight(s.BaseURL, "/")
}

// Check checks the settings, naming the field that is wrong.
func (s WeComSettings) Check() error {
	if s.CorpID == "" || len(s.CorpID) > 64 || strings.ContainsAny(s.CorpID, " /?&#") {
		return errors.New("corp_id: required, at most 64 characters without spaces")
	}
	if s.AgentID <= 0 {
		return errors.New("agent_id: required, a positive number")
	}
	if s.BaseURL != "" {
		u, err := url.Parse(s.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || len(s.BaseURL) > 300 {
			return fmt.Errorf("base_url: %q is not an http(s) base URL", s.BaseURL)
		}
	}
	if s.DuplicateCheckInterval < 0 || s.DuplicateCheckInterval > MaxWeComDupInterval {
		return fmt.Errorf("duplicate_check_interval: %d, want 0 (default %d) to %d seconds", s.DuplicateCheckInterval, DefaultWeComDupSeconds, MaxWeComDupInterval)
	}
	return nil
}

// CheckWeComStep checks a wecom step, naming the field that is wrong.
func CheckWeComStep(kind, content, toUser string) error {
	if kind != WeComApp && kind != WeComExternal {
		return fmt.Errorf("kind: %q is not app or external", kind)
	}
	if strings.TrimSpace(content) == "" {
		return errors.New("content: required")
	}
	if len(content) > MaxWeComContentLen {
		return fmt.Errorf("content: at most %d bytes", MaxWeComContentLen)
	}
	if toUser != "" && kind == WeComExternal {
		return errors.New("to_user: only for app messages (an external message goes from the person's owner to the person)")
	}
	if len(toUser) > 1000 || strings.ContainsAny(toUser, " \r\n") {
		return errors.New("to_user: member ids separated by |")
	}
	return nil
}

// WeCom sends wecom steps through the WeCom API: app messages to members
// and external-contact messages (customer group-sending tasks of one
// member to one contact).
type WeCom struct {
	st  *store.Store
	box *secret.Box
	// HTTP is the client of the API calls.
	HTTP *http.Client
	// Now is the clock of token expiry and member limits.
	Now func() time.Time

	flight singleflight.Group
	mu     sync.Mutex
	tokens map[string]cachedToken // by app key
}

type cachedToken struct {
	token, sealed string
	expires       time.Time
}

// NewWeCom makes the WeCom sender over st, opening the app secret and
// the shared token with box.
func NewWeCom(st *store.Store, box *secret.Box) *WeCom {
	return &WeCom{st: st, box: box, HTTP: &http.Client{Timeout: 15 * time.Second}, Now: time.Now, tokens: map[string]cachedToken{}}
}

var _ Sender = (*WeCom)(nil)

// tokenMargin: a token this close to its expiry is refreshed first.
const tokenMargin = 5 * time.Minute

// weComError is an answer of the API with a non-zero errcode.
type weComError struct {
	Code int
	Msg  string
	API  string
}

func (e *weComError) Error() string {
	return fmt.Sprintf("wecom %s: errcode %d: %s", e.API, e.Code, e.Msg)
}

// tokenInvalid are the errcodes of an invalid or expired access token.
func tokenInvalid(code int) bool { return code == 40001 || code == 42001 || code == 40014 }

// weComTransient are the errcodes worth trying again later: WeCom busy,
// frequency limits, a server IP not yet on the app's list.
var weComTransient = map[int]bool{-1: true, 45009: true, 45011: true, 45033: true, 45035: true, 60020: true, 50001: true, 41001: true}

// weComReasons names the errcodes of a message refused for good.
var weComReasons = map[int]string{
	40003: "invalid_user", 60111: "invalid_user", 81013: "invalid_user", 46004: "invalid_user",
	40096: "invalid_external_user", 84061: "no_contact_relation", 41048: "invalid_external_user",
	44004: "empty_content", 45002: "content_too_long", 40056: "invalid_agent", 301002: "invalid_agent",
	48002: "api_forbidden", 60011: "no_privilege", 60103: "invalid_user",
}

// appKey names the token of one app.
func (s WeComSettings) appKey() string { return s.CorpID + "/" + strconv.FormatInt(s.AgentID, 10) }

// token is the app's access token: this node's copy while it is good,
// else the one stored for every node, else a fresh one from gettoken,
// fetched by one caller at a time (singleflight here, a claim in the
// database across nodes). bad is a token WeCom just refused.
func (w *WeCom) token(ctx context.Context, s WeComSettings, secretPlain string, bad string) (string, error) {
	k := s.appKey()
	now := w.Now()
	w.mu.Lock()
	c, ok := w.tokens[k]
	w.mu.Unlock()
	if ok && c.token != bad && c.expires.After(now.Add(tokenMargin)) {
		return c.token, nil
	}
	v, err, _ := w.flight.Do(k+"\x00"+bad, func() (any, error) {
		for wait := 0; ; wait++ {
			now := w.Now()
			row, err := w.st.WeComToken(ctx, k)
			if err != nil {
				return nil, err
			}
			if row.Sealed != "" && row.ExpiresAt.After(now.Add(tokenMargin)) {
				plain, err := w.box.Open(row.Sealed)
				if err == nil && string(plain) != bad {
					w.keep(k, cachedToken{token: string(plain), sealed: row.Sealed, expires: row.ExpiresAt})
					return string(plain), nil
				}
				if err == nil {
					// WeCom refused the stored token: expire it, unless
					// another node replaced it meanwhile.
					if err := w.st.ExpireWeComToken(ctx, k, row.Sealed); err != nil {
						return nil, err
					}
					continue
				}
			}
			claimed, err := w.st.ClaimWeComRefresh(ctx, k, row.Sealed, now, now.Add(30*time.Second))
			if err != nil {
				return nil, err
			}
			if claimed {
				return w.refresh(ctx, s, secretPlain, k)
			}
			// Another node is refreshing it: wait for its token.
			if wait >= 50 {
				return nil, fmt.Errorf("wecom token of %s: another node's refresh did not finish", k)
			}
			t := time.NewTimer(100 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

func (w *WeCom) keep(k string, c cachedToken) {
	w.mu.Lock()
	w.tokens[k] = c
	w.mu.Unlock()
}

// refresh asks gettoken for a new token and stores it for every node.
func (w *WeCom) refresh(ctx context.Context, s WeComSettings, secretPlain, k string) (string, error) {
	q := url.Values{"corpid": {s.CorpID}, "corpsecret": {secretPlain}}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	err := w.call(ctx, http.MethodGet, s.Base()+"/cgi-bin/gettoken?"+q.Encode(), "gettoken", nil, &out)
	if err == nil && (out.AccessToken == "" || out.ExpiresIn <= 0) {
		err = errors.New("wecom gettoken: no token in the answer")
	}
	if err != nil {
		_ = w.st.EndWeComRefresh(context.WithoutCancel(ctx), k)
		return "", err
	}
	sealed, err := w.box.Seal([]byte(out.AccessToken))
	if err != nil {
		return "", err
	}
	now := w.Now()
	exp := now.Add(time.Duration(out.ExpiresIn) * time.Second)
	if err := w.st.SaveWeComToken(ctx, k, sealed, exp, now); err != nil {
		return "", err
	}
	w.keep(k, cachedToken{token: out.AccessToken, sealed: sealed, expires: exp})
	return out.AccessToken, nil
}

// call makes one API call and decodes its answer into out; a non-zero
// errcode is a *weComError.
func (w *WeCom) call(ctx context.Context, method, u, api string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := w.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("wecom %s: %w", api, redactToken(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, weComReadLimit))
	if err != nil {
		return fmt.Errorf("wecom %s: %w", api, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("wecom %s: HTTP %d", api, resp.StatusCode)
	}
	var head struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return fmt.Errorf("wecom %s: answer is not JSON", api)
	}
	if head.ErrCode != 0 {
		return &weComError{Code: head.ErrCode, Msg: head.ErrMsg, API: api}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("wecom %s: %w", api, err)
		}
	}
	return nil
}

// redactToken keeps tokens and secrets out of a URL error's text.
func redactToken(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}

// post calls an API that takes the access token, refreshing the token
// and trying once more when WeCom calls it invalid or expired.
func (w *WeCom) post(ctx context.Context, s WeComSettings, secretPlain, path, api string, body, out any) error {
	tok, err := w.token(ctx, s, secretPlain, "")
	if err != nil {
		return err
	}
	err = w.call(ctx, http.MethodPost, s.Base()+path+"?access_token="+url.QueryEscape(tok), api, body, out)
	var we *weComError
	if errors.As(err, &we) && tokenInvalid(we.Code) {
		if tok, err = w.token(ctx, s, secretPlain, tok); err != nil {
			return err
		}
		err = w.call(ctx, http.MethodPost, s.Base()+path+"?access_token="+url.QueryEscape(tok), api, body, out)
	}
	return err
}

// weComAppMessage is the body of message/send for a text message.
type weComAppMessage struct {
	ToUser                 string            `json:"touser"`
	MsgType                string            `json:"msgtype"`
	AgentID                int64             `json:"agentid"`
	Text                   map[string]string `json:"text"`
	Safe                   int               `json:"safe"`
	EnableDuplicateCheck   int               `json:"enable_duplicate_check"`
	DuplicateCheckInterval int               `json:"duplicate_check_interval"`
}

// weComExternalMessage is the body of externalcontact/add_msg_template.
type weComExternalMessage struct {
	ChatType       string            `json:"chat_type"`
	ExternalUserID []string          `json:"external_userid"`
	Sender         string            `json:"sender"`
	Text           map[string]string `json:"text"`
}

// Send sends one wecom step. A member over WeCom's limits (30 a minute,
// 1000 an hour) gives a *RetryError with the time a slot frees; the
// message is not dropped.
func (w *WeCom) Send(ctx context.Context, r Request) (Result, error) {
	var step model.JourneyStep
	if err := json.Unmarshal(r.Step, &step); err != nil {
		return Result{Status: Failed, Reason: "bad_step"}, nil
	}
	if step.Kind == "" {
		step.Kind = WeComApp
	}
	if err := CheckWeComStep(step.Kind, step.Content, step.ToUser); err != nil {
		return Result{Status: Failed, Reason: "bad_step"}, nil
	}
	var s WeComSettings
	ok, err := w.st.Setting(ctx, SettingWeCom, &s)
	if err != nil {
		return Result{}, err
	}
	if !ok || s.CorpID == "" || s.SecretSealed == "" || w.box == nil {
		return Result{Status: Failed, Reason: "not_configured"}, nil
	}
	plain, err := w.box.Open(s.SecretSealed)
	if err != nil {
		return Result{Status: Failed, Reason: "not_configured"}, nil
	}
	p, err := w.st.MessagePerson(ctx, r.PersonID)
	if errors.Is(err, store.ErrNotFound) {
		return Result{Status: Failed, Reason: ReasonNoPerson}, nil
	}
	if err != nil {
		return Result{}, err
	}

	// The members whose limits the message counts against: the
	// recipients of an app message, the sender of an external one.
	var members []string
	var body any
	var path, api string
	switch step.Kind {
	case WeComApp:
		to := step.ToUser
		if to == "" {
			to = p.OwnerMember
		}
		if to == "" {
			return Result{Status: Skipped, Reason: "no_address"}, nil
		}
		members = strings.Split(to, "|")
		dup := s.DuplicateCheckInterval
		if dup == 0 {
			dup = DefaultWeComDupSeconds
		}
		body = weComAppMessage{ToUser: to, MsgType: "text", AgentID: s.AgentID, Text: map[string]string{"content": step.Content},
			EnableDuplicateCheck: 1, DuplicateCheckInterval: dup}
		path, api = "/cgi-bin/message/send", "message/send"
	case WeComExternal:
		if p.ExternalUserID == "" {
			return Result{Status: Skipped, Reason: "no_address"}, nil
		}
		if p.OwnerMember == "" {
			return Result{Status: Skipped, Reason: "no_sender"}, nil
		}
		members = []string{p.OwnerMember}
		body = weComExternalMessage{ChatType: "single", ExternalUserID: []string{p.ExternalUserID}, Sender: p.OwnerMember,
			Text: map[string]string{"content": step.Content}}
		path, api = "/cgi-bin/externalcontact/add_msg_template", "externalcontact/add_msg_template"
	}

	// Sent before with this key (WeCom accepted it, the journey's record
	// of it was lost): not sent again.
	if id, sent, err := w.st.SentBefore(ctx, "wecom.member", r.Key+"|"+members[0]); err != nil {
		return Result{}, err
	} else if sent {
		return Result{Status: Sent, ProviderID: id}, nil
	}

	now := w.Now()
	var reserved []string
	release := func() {
		for _, k := range reserved {
			_ = w.st.ReleaseSend(context.WithoutCancel(ctx), "wecom.member", k)
		}
	}
	for _, m := range members {
		k := r.Key + "|" + m
		ok, retry, err := w.st.ReserveSend(ctx, "wecom.member", m, k, weComMemberLimits, now, ReservationHold)
		if err != nil {
			release()
			return Result{}, err
		}
		if !ok {
			release()
			return Result{}, &RetryError{At: retry, Reason: "wecom member " + m + " at the sending limit"}
		}
		reserved = append(reserved, k)
	}

	var out struct {
		MsgID       string   `json:"msgid"`
		InvalidUser string   `json:"invaliduser"`
		FailList    []string `json:"fail_list"`
	}
	err = w.post(ctx, s, string(plain), path, api, body, &out)
	var we *weComError
	switch {
	case errors.As(err, &we) && !weComTransient[we.Code] && !tokenInvalid(we.Code):
		release()
		reason := weComReasons[we.Code]
		if reason == "" {
			reason = "wecom_" + strconv.Itoa(we.Code)
		}
		return Result{Status: Failed, Reason: reason}, nil
	case err != nil:
		release()
		return Result{}, err
	}
	for i, k := range reserved {
		// A count not confirmed still holds its slot until the
		// reservation expires.
		_ = w.st.ConfirmSend(ctx, "wecom.member", members[i], k, out.MsgID, now)
	}
	if out.InvalidUser != "" {
		invalid := map[string]bool{}
		for _, m := range strings.Split(out.InvalidUser, "|") {
			invalid[m] = true
		}
		all := true
		for _, m := range members {
			all = all && invalid[m]
		}
		if all {
			return Result{Status: Failed, Reason: "invalid_user", ProviderID: out.MsgID}, nil
		}
	}
	if len(out.FailList) > 0 {
		return Result{Status: Failed, Reason: "invalid_external_user", ProviderID: out.MsgID}, nil
	}
	return Result{Status: Sent, ProviderID: out.MsgID}, nil
}
