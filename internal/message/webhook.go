package message

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/secret"
	"github.com/revloop/revloop/internal/store"
)

// Webhook settings.
const (
	// SettingWebhook holds the signing secret, sealed:
	// {"secret_sealed": "v1:..."}.
	SettingWebhook = "webhook"
	// SettingWebhookAllow lists the CIDRs webhooks may call although
	// they are internal, e.g. ["10.20.0.0/16"].
	SettingWebhookAllow = "webhook.allow_ranges"
)

// Webhook request headers.
const (
	HeaderSignature = "X-Revloop-Signature"
	HeaderDelivery  = "X-Revloop-Delivery"
)

// Bounds of a webhook step and of its answers.
const (
	MaxWebhookHeaders     = 20
	MaxWebhookHeaderLen   = 1024
	MaxWebhookURLLen      = 2048
	MaxWebhookRedirects   = 3
	MaxWebhookAllowRanges = 100
	webhookReadLimit      = 64 << 10
)

// WebhookSettings is the stored value of SettingWebhook.
type WebhookSettings struct {
	SecretSealed string `json:"secret_sealed,omitempty"`
}

// ParseAllowRanges reads and checks a webhook.allow_ranges value.
func ParseAllowRanges(raw []byte) ([]string, error) {
	var list []string
	if err := decodeStrict(raw, &list); err != nil {
		return nil, err
	}
	if len(list) > MaxWebhookAllowRanges {
		return nil, fmt.Errorf("at most %d ranges", MaxWebhookAllowRanges)
	}
	out := make([]string, 0, len(list))
	for i, s := range list {
		p, err := parseRange(s)
		if err != nil {
			return nil, fmt.Errorf("[%d] %q is not a CIDR or an address", i, s)
		}
		out = append(out, p.String())
	}
	return out, nil
}

func parseRange(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Sign is the value of the X-Revloop-Signature header for body sent at
// t: "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<unix seconds>.<body>">".
func Sign(key []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a signature header against body: the receiver's
// side of Sign, with the tolerance the receiver allows between the
// signature's time and now.
func VerifySignature(key []byte, header string, body []byte, now time.Time, tolerance time.Duration) bool {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	want := m.Sum(nil)
	for _, s := range sigs {
		got, err := hex.DecodeString(s)
		if err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

// WebhookBody is what a webhook receives.
type WebhookBody struct {
	Key     string             `json:"key"`
	Time    time.Time          `json:"time"`
	Journey WebhookJourney     `json:"journey"`
	Step    string             `json:"step"`
	Person  WebhookPerson      `json:"person"`
	Account *WebhookAccountRef `json:"account,omitempty"`
}

// WebhookJourney names the journey and version that sent it.
type WebhookJourney struct {
	ID      int64 `json:"id"`
	Version int   `json:"version"`
}

// WebhookPerson is the person the step ran for.
type WebhookPerson struct {
	ID     int64           `json:"id"`
	Name   string          `json:"name,omitempty"`
	Email  string          `json:"email,omitempty"`
	Stage  string          `json:"stage,omitempty"`
	Traits json.RawMessage `json:"traits"`
}

// WebhookAccountRef is the person's account.
type WebhookAccountRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Webhook sends webhook steps: a signed JSON POST to the step's URL. Its
// exported fields may be changed before the first Send.
type Webhook struct {
	st  *store.Store
	box *secret.Box

	// Timeout bounds one attempt (connection, request and answer).
	Timeout time.Duration
	// Attempts is how many times one Send tries before it gives up with
	// a transient error; Backoff is the wait before the second, doubled
	// for each one after.
	Attempts int
	Backoff  time.Duration
	// Now is the clock of the signature's time.
	Now func() time.Time

	mu      sync.Mutex
	clients map[string]*http.Client // by allowed ranges
}

// NewWebhook makes the webhook sender: person data from st, the signing
// secret opened with box.
func NewWebhook(st *store.Store, box *secret.Box) *Webhook {
	return &Webhook{st: st, box: box, Timeout: 10 * time.Second, Attempts: 3, Backoff: time.Second, Now: time.Now, clients: map[string]*http.Client{}}
}

var _ Sender = (*Webhook)(nil)

var errTooManyRedirects = errors.New("too many redirects")

func (w *Webhook) client(allow []string) (*http.Client, error) {
	k := strings.Join(allow, ",")
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.clients[k]; ok {
		return c, nil
	}
	prefixes := make([]netip.Prefix, 0, len(allow))
	for _, s := range allow {
		p, err := parseRange(s)
		if err != nil {
			return nil, fmt.Errorf("setting %s: %q: %w", SettingWebhookAllow, s, err)
		}
		prefixes = append(prefixes, p)
	}
	d := guardedDialer(w.Timeout, prefixes)
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the guard
		DialContext:           dialContext(d),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   w.Timeout,
		ResponseHeaderTimeout: w.Timeout,
	}
	c := &http.Client{
		Transport: tr,
		Timeout:   w.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > MaxWebhookRedirects {
				return errTooManyRedirects
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to a %q URL", req.URL.Scheme)
			}
			if req.URL.Host != via[0].URL.Host {
				// The step's own headers (an API key, say) are for the
				// host it named, not for one it redirects to.
				for k := range req.Header {
					if !keptOnRedirect[k] {
						req.Header.Del(k)
					}
				}
			}
			return nil
		},
	}
	if len(w.clients) > 16 {
		clear(w.clients)
	}
	w.clients[k] = c
	return c, nil
}

// keptOnRedirect are the headers sent on to another host.
var keptOnRedirect = map[string]bool{
	"Content-Type": true, "User-Agent": true,
	textproto.CanonicalMIMEHeaderKey(HeaderSignature): true, textproto.CanonicalMIMEHeaderKey(HeaderDelivery): true,
}

// reservedHeaders may not be set by a step.
var reservedHeaders = map[string]bool{
	"Content-Type": true, "Content-Length": true, "Host": true, "Transfer-Encoding": true, "Connection": true,
	textproto.CanonicalMIMEHeaderKey(HeaderSignature): true, textproto.CanonicalMIMEHeaderKey(HeaderDelivery): true,
}

// CheckWebhookStep checks a webhook step's url and headers, naming the
// field that is wrong.
func CheckWebhookStep(rawURL string, headers map[string]string) error {
	if len(rawURL) > MaxWebhookURLLen {
		return fmt.Errorf("url: at most %d characters", MaxWebhookURLLen)
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return fmt.Errorf("url: %q is not an http(s) URL without credentials", rawURL)
	}
	if len(headers) > MaxWebhookHeaders {
		return fmt.Errorf("headers: at most %d", MaxWebhookHeaders)
	}
	for k, v := range headers {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if k == "" || len(k)+len(v) > MaxWebhookHeaderLen || strings.ContainsAny(k, " :\r\n\t") || strings.ContainsAny(v, "\r\n\x00") {
			return fmt.Errorf("headers: %q is not a valid header", k)
		}
		if reservedHeaders[ck] {
			return fmt.Errorf("headers: %s is set by revloop", ck)
		}
	}
	return nil
}

// Send posts the step's body, retrying transient failures (5xx,
// time-outs, refused connections, 429) with back-off within one call.
func (w *Webhook) Send(ctx context.Context, r Request) (Result, error) {
	var step model.JourneyStep
	if err := json.Unmarshal(r.Step, &step); err != nil {
		return Result{Status: Failed, Reason: "bad_step"}, nil
	}
	if err := CheckWebhookStep(step.URL, step.Headers); err != nil {
		return Result{Status: Failed, Reason: "bad_step"}, nil
	}
	var ws WebhookSettings
	if _, err := w.st.Setting(ctx, SettingWebhook, &ws); err != nil {
		return Result{}, err
	}
	if ws.SecretSealed == "" || w.box == nil {
		return Result{Status: Failed, Reason: "not_configured"}, nil
	}
	key, err := w.box.Open(ws.SecretSealed)
	if err != nil {
		return Result{Status: Failed, Reason: "not_configured"}, nil
	}
	var allow []string
	if _, err := w.st.Setting(ctx, SettingWebhookAllow, &allow); err != nil {
		return Result{}, err
	}
	client, err := w.client(allow)
	if err != nil {
		return Result{}, err
	}
	p, err := w.st.MessagePerson(ctx, r.PersonID)
	if errors.Is(err, store.ErrNotFound) {
		return Result{Status: Failed, Reason: ReasonNoPerson}, nil
	}
	if err != nil {
		return Result{}, err
	}
	at := r.Now
	if at.IsZero() {
		at = w.Now()
	}
	b := WebhookBody{Key: r.Key, Time: at.UTC(), Journey: WebhookJourney{ID: r.JourneyID, Version: r.Version}, Step: r.StepID,
		Person: WebhookPerson{ID: p.ID, Name: p.Name, Email: p.Email, Stage: p.Stage, Traits: p.Traits}}
	if p.AccountID != 0 {
		b.Account = &WebhookAccountRef{ID: p.AccountID, Name: p.AccountName}
	}
	body, err := json.Marshal(b)
	if err != nil {
		return Result{}, err
	}
	attempts := max(w.Attempts, 1)
	wait := w.Backoff
	var last error
	for i := range attempts {
		if i > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return Result{}, errors.Join(ctx.Err(), last)
			case <-t.C:
			}
			wait *= 2
		}
		res, retryAt, err := w.post(ctx, client, step, r.Key, key, body)
		if err == nil {
			return res, nil
		}
		last = err
		if !retryAt.IsZero() {
			// 429: wait here when it is no longer than the back-off would,
			// else hand the time back to the caller.
			if d := time.Until(retryAt); d > wait || i == attempts-1 {
				return Result{}, &RetryError{At: retryAt, Reason: "webhook rate limited", Err: err}
			}
		}
	}
	return Result{}, fmt.Errorf("webhook %s: %d attempts: %w", r.Key, attempts, last)
}

// post makes one attempt. A nil error is a final result (sent or failed
// for good); an error is transient, with the time the receiver asked to
// wait for when it said (429 Retry-After).
func (w *Webhook) post(ctx context.Context, c *http.Client, step model.JourneyStep, deliveryKey string, key, body []byte) (Result, time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, step.URL, bytes.NewReader(body))
	if err != nil {
		return Result{Status: Failed, Reason: "bad_step"}, time.Time{}, nil
	}
	for k, v := range step.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "revloop-webhook/1")
	req.Header.Set(HeaderDelivery, deliveryKey)
	req.Header.Set(HeaderSignature, Sign(key, w.Now(), body))
	resp, err := c.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, ErrBlockedAddress):
			return Result{Status: Failed, Reason: "blocked_address"}, time.Time{}, nil
		case errors.Is(err, errTooManyRedirects):
			return Result{Status: Failed, Reason: "too_many_redirects"}, time.Time{}, nil
		}
		return Result{}, time.Time{}, redactToken(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, webhookReadLimit))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return Result{Status: Sent, ProviderID: resp.Header.Get("X-Request-Id")}, time.Time{}, nil
	case code == http.StatusTooManyRequests:
		return Result{}, retryAfter(resp.Header.Get("Retry-After"), w.Now()), fmt.Errorf("HTTP %d", code)
	case code >= 500 || code == http.StatusRequestTimeout:
		return Result{}, time.Time{}, fmt.Errorf("HTTP %d", code)
	case code >= 300 && code < 400:
		return Result{Status: Failed, Reason: "redirect_not_followed"}, time.Time{}, nil
	default:
		return Result{Status: Failed, Reason: "http_" + strconv.Itoa(code)}, time.Time{}, nil
	}
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), at
// most an hour ahead; 30 seconds when it is missing or unreadable.
func retryAfter(v string, now time.Time) time.Time {
	d := 30 * time.Second
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	d = min(max(d, 0), time.Hour)
	return now.Add(d)
}
