// Package collect is revloop's Segment-compatible event collector: the
// /v1/track, identify, page, screen, group, alias, batch and import endpoints
// (and the browser forms /v1/t, p, i, g, a, b). It authenticates write keys,
// decodes and validates messages, corrects clock skew, reads UTM parameters
// and click ids, flags bots, optionally anonymises IP addresses, rate-limits
// per write key and group-commits the events of many requests in one
// transaction. A request is acknowledged only after its events are durably
// committed; a retried message is stored once.
package collect

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Settings keys (store.Setting, JSON values) read at start and every
// SettingsRefresh.
const (
	// SettingAnonymizeIP (bool) blanks the last octet of IPv4 and the last
	// 80 bits of IPv6 addresses before they are stored.
	SettingAnonymizeIP = "collector.anonymize_ip"
	// SettingTrustedProxies (list of CIDRs or addresses) names the reverse
	// proxies whose X-Forwarded-For is believed.
	SettingTrustedProxies = "collector.trusted_proxies"
	// SettingRateLimit ({"events_per_second": N, "burst": M,
	// "bytes_per_second": B, "burst_bytes": C}) overrides the per-write-key
	// rate limit; 0 events per second turns it off, bytes left out or 0
	// keep their defaults.
	SettingRateLimit = "collector.rate_limit"
)

// Defaults.
const (
	DefaultRate  = 20000  // events per second per write key: what one server stores (docs/collector.md)
	DefaultBurst = 100000 // events
	// The byte budget per write key: a heavy backend sending 15,000 events
	// of 500 bytes a second uses 7.5 MB/s, a quarter of it.
	DefaultByteRate        = 32 << 20  // stored payload bytes per second per write key
	DefaultByteBurst       = 128 << 20 // bytes
	DefaultKeyCacheTTL     = 10 * time.Second
	DefaultSettingsRefresh = 10 * time.Second
	defaultGroupEvents     = 5000
)

// RateLimit is two token buckets per write key: Rate events a second on
// average and Burst at once, and ByteRate bytes of stored payload a second
// and ByteBurst at once. Counting bytes too keeps a sender of few large
// events within what counting events alone would let through many times
// over.
type RateLimit struct {
	Rate      float64 `json:"events_per_second"`
	Burst     int     `json:"burst"`
	ByteRate  float64 `json:"bytes_per_second,omitempty"`
	ByteBurst int     `json:"burst_bytes,omitempty"`
}

// withByteDefaults fills the byte budget left out; no event limit means no
// byte limit either.
func (r RateLimit) withByteDefaults() RateLimit {
	if r.Rate == 0 {
		r.ByteRate, r.ByteBurst = 0, 0
		return r
	}
	if r.ByteRate <= 0 || math.IsNaN(r.ByteRate) {
		r.ByteRate = DefaultByteRate
	}
	if r.ByteBurst <= 0 {
		r.ByteBurst = DefaultByteBurst
	}
	return r
}

// Options configure a Collector. Store and Registerer are required.
type Options struct {
	Store      *store.Store
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Notify is called after a commit that stored new events.
	Notify func()
	// Ingest stores a commit's events and returns how many were new; nil
	// means Store.IngestEvents. The server passes one that processes the
	// events in the same transaction (jobs.Ingester).
	Ingest func(ctx context.Context, events []model.Event) (int, error)
	// RateLimit applies until the SettingRateLimit setting says otherwise;
	// the zero value means DefaultRate and DefaultBurst.
	RateLimit       RateLimit
	KeyCacheTTL     time.Duration // how long a write key lookup is trusted (revocation delay)
	SettingsRefresh time.Duration
	// Committers is the number of group-commit writers; 0 means one on
	// SQLite (one writer anyway) and two on PostgreSQL.
	Committers int
	// Now replaces the clock in tests.
	Now func() time.Time
}

// Collector serves the collector endpoints.
type Collector struct {
	store    *store.Store
	log      *slog.Logger
	notify   func()
	now      func() time.Time
	metrics  *metrics
	commits  *committer
	limits   *limiter // events
	bytes    *limiter // stored payload bytes
	keys     keyCache
	bots     BotDetector
	defaults RateLimit
	refresh  time.Duration

	decodeSlots chan struct{}
	settings    atomic.Pointer[settings]
	loadOnce    sync.Once
	startOnce   sync.Once
	stopLoop    chan struct{}
	loopDone    chan struct{}
	loopActive  atomic.Bool

	suppress suppressor // identifiers whose events are dropped (suppress.go)

	linkKeyMu    sync.Mutex // guards the built-in links write key (hit.go)
	linkKeyID    int64
	linkKeyUntil time.Time
}

type settings struct {
	anonymizeIP bool
	trusted     []netip.Prefix
	rate        RateLimit
}

// New builds a Collector; nothing runs until the first request or Start.
func New(opts Options) (*Collector, error) {
	if opts.Store == nil || opts.Registerer == nil {
		return nil, errors.New("collect: Options.Store and Options.Registerer are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RateLimit == (RateLimit{}) {
		opts.RateLimit = RateLimit{Rate: DefaultRate, Burst: DefaultBurst}
	}
	opts.RateLimit = opts.RateLimit.withByteDefaults()
	if opts.KeyCacheTTL <= 0 {
		opts.KeyCacheTTL = DefaultKeyCacheTTL
	}
	if opts.SettingsRefresh <= 0 {
		opts.SettingsRefresh = DefaultSettingsRefresh
	}
	if opts.Committers <= 0 {
		opts.Committers = 1
		if opts.Store.Dialect() == store.Postgres {
			opts.Committers = 2
		}
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("collect: metrics: %w", err)
	}
	c := &Collector{
		store: opts.Store, log: opts.Logger, notify: opts.Notify, now: opts.Now, metrics: m,
		limits: newLimiter(opts.RateLimit.Rate, opts.RateLimit.Burst), defaults: opts.RateLimit,
		bytes:   newLimiter(opts.RateLimit.ByteRate, opts.RateLimit.ByteBurst),
		refresh: opts.SettingsRefresh, stopLoop: make(chan struct{}), loopDone: make(chan struct{}),
		decodeSlots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1)),
	}
	c.keys = keyCache{store: opts.Store, ttl: opts.KeyCacheTTL, now: opts.Now, m: map[string]keyEntry{}}
	ingest := opts.Ingest
	if ingest == nil {
		ingest = opts.Store.IngestEvents
	}
	c.commits = newCommitter(ingest, opts.Logger, opts.Committers, defaultGroupEvents, c.committed)
	c.settings.Store(&settings{rate: opts.RateLimit})
	return c, nil
}

// Routes are the collector's endpoints and the message kind each takes.
var Routes = map[string]Kind{
	"/v1/track": Kind(model.EventTrack), "/v1/identify": Kind(model.EventIdentify), "/v1/page": Kind(model.EventPage),
	"/v1/screen": Kind(model.EventScreen), "/v1/group": Kind(model.EventGroup), "/v1/alias": Kind(model.EventAlias),
	"/v1/batch": KindBatch, "/v1/import": KindBatch,
	"/v1/t": Kind(model.EventTrack), "/v1/i": Kind(model.EventIdentify), "/v1/p": Kind(model.EventPage),
	"/v1/g": Kind(model.EventGroup), "/v1/a": Kind(model.EventAlias), "/v1/b": KindBatch,
}

// BypassPatterns are the patterns to exempt from cross-origin form checks:
// websites post events from their own origin.
func BypassPatterns() []string { return []string{"/v1/"} }

// Mount adds the collector's routes to m.
func (c *Collector) Mount(m *http.ServeMux) {
	for path, kind := range Routes {
		m.HandleFunc("POST "+path, c.handle(kind))
	}
	m.HandleFunc("OPTIONS /v1/{rest...}", c.preflight)
	m.HandleFunc("/v1/", c.unknown)
}

// Start loads the settings and starts the committers and the settings
// refresher; the first request does the same if Start was not called.
func (c *Collector) Start(ctx context.Context) error {
	c.ensureStarted(ctx)
	return nil
}

func (c *Collector) ensureStarted(ctx context.Context) {
	c.startOnce.Do(func() {
		c.loadOnce.Do(func() { c.reloadSettings(ctx) })
		c.commits.ensureStarted()
		c.loopActive.Store(true)
		go c.settingsLoop()
	})
}

// Close stops taking events, commits everything already queued and stops
// the background work. Requests arriving from now on get 503.
func (c *Collector) Close(ctx context.Context) error {
	err := c.commits.close(ctx)
	if c.loopActive.Load() {
		select {
		case <-c.stopLoop:
		default:
			close(c.stopLoop)
		}
		select {
		case <-c.loopDone:
		case <-ctx.Done():
		}
	}
	return err
}

func (c *Collector) settingsLoop() {
	defer close(c.loopDone)
	t := time.NewTicker(c.refresh)
	defer t.Stop()
	for {
		select {
		case <-c.stopLoop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c.reloadSettings(ctx)
			cancel()
		}
	}
}

// ReloadSettings reads the collector settings from the store now.
func (c *Collector) ReloadSettings(ctx context.Context) error {
	c.loadOnce.Do(func() {})
	return c.reloadSettings(ctx)
}

func (c *Collector) reloadSettings(ctx context.Context) error {
	next := settings{rate: c.defaults}
	var errs []error
	if _, err := c.store.Setting(ctx, SettingAnonymizeIP, &next.anonymizeIP); err != nil {
		errs = append(errs, err)
	}
	var proxies []string
	if _, err := c.store.Setting(ctx, SettingTrustedProxies, &proxies); err != nil {
		errs = append(errs, err)
	}
	for _, p := range proxies {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				errs = append(errs, fmt.Errorf("setting %s: %q is not an address or CIDR", SettingTrustedProxies, p))
				continue
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		next.trusted = append(next.trusted, pfx.Masked())
	}
	if _, err := c.store.Setting(ctx, SettingRateLimit, &next.rate); err != nil {
		errs = append(errs, err)
	}
	if next.rate.Rate < 0 || next.rate.Burst < 0 || math.IsNaN(next.rate.Rate) {
		errs = append(errs, fmt.Errorf("setting %s: negative values", SettingRateLimit))
		next.rate = c.defaults
	}
	next.rate = next.rate.withByteDefaults()
	if err := c.refreshSuppressions(ctx, false); err != nil {
		errs = append(errs, err)
	}
	err := errors.Join(errs...)
	if err != nil {
		c.log.Warn("collector settings: some could not be read; keeping defaults for them", "err", err)
	}
	c.settings.Store(&next)
	c.limits.set(next.rate.Rate, next.rate.Burst)
	c.bytes.set(next.rate.ByteRate, next.rate.ByteBurst)
	return err
}

// committed is the committers' report of each transaction.
func (c *Collector) committed(group, stored int, d time.Duration, err error) {
	if err != nil {
		c.metrics.commits.WithLabelValues("error").Inc()
		c.log.Error("collector commit failed; the requests get 503 and will be retried", "events", group, "err", err)
		return
	}
	c.metrics.commits.WithLabelValues("ok").Inc()
	c.metrics.commitTime.Observe(d.Seconds())
	c.metrics.groupSize.Observe(float64(group))
	c.metrics.events.WithLabelValues("stored").Add(float64(stored))
	c.metrics.events.WithLabelValues("duplicate").Add(float64(group - stored))
	if stored > 0 && c.notify != nil {
		c.notify()
	}
}

func (c *Collector) handle(kind Kind) http.HandlerFunc {
	limit := MaxEventBytes
	if kind == KindBatch {
		limit = MaxBatchBytes
	}
	return func(w http.ResponseWriter, r *http.Request) {
		c.cors(w, r)
		ctx := r.Context()
		c.ensureStarted(ctx)
		received := c.now()
		st := c.settings.Load()

		headerKey, fromHeader := writeKeyFromHeader(r)
		var keyID int64
		if fromHeader {
			id, rej := c.checkKey(ctx, headerKey)
			if rej != nil {
				c.fail(w, rej)
				return
			}
			keyID = id
		}
		body, rej := readBody(w, r, limit)
		if rej != nil {
			c.fail(w, rej)
			return
		}
		// Decoding takes turns, leaving a processor to the committer: it is
		// the one stage that cannot run in parallel, and when it gets only
		// its fair share among many busy handlers, throughput drops.
		select {
		case c.decodeSlots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		dec, err := Decode(Input{Kind: kind, Body: body, ReceivedAt: received, RemoteIP: clientIP(r, st.trusted),
			UserAgent: r.Header.Get("User-Agent"), AnonymizeIP: st.anonymizeIP, IsBot: c.bots.IsBot})
		<-c.decodeSlots
		if err != nil {
			var rej *Rejection
			if !errors.As(err, &rej) {
				rej = reject(http.StatusBadRequest, ReasonMalformed, "%v", err)
			}
			c.fail(w, rej)
			return
		}
		if !fromHeader {
			if dec.WriteKey == "" {
				c.fail(w, reject(http.StatusUnauthorized, ReasonNoWriteKey,
					"no write key: send it as the Basic auth user name (Authorization: Basic base64(KEY:)), as a Bearer token or as \"writeKey\" in the body"))
				return
			}
			id, rej := c.checkKey(ctx, dec.WriteKey)
			if rej != nil {
				c.fail(w, rej)
				return
			}
			keyID = id
		}
		if retry, rej := c.admit(keyID, dec.Events, received, st); rej != nil {
			w.Header().Set("Retry-After", strconv.Itoa(retry))
			c.fail(w, rej)
			return
		}
		if err := c.commit(ctx, dec.Events); err != nil {
			if !errors.Is(err, errClosed) && !errors.Is(err, context.Canceled) {
				c.log.Error("collector: events not stored", "events", len(dec.Events), "err", err)
			}
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "events not stored (temporary failure): retry the request"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true})
	}
}

// admit applies the write key's rate limit to decoded events and stamps
// them with the key; a refusal says after how many seconds to retry. Every
// source of events (posted messages, link clicks, pixels) passes here.
func (c *Collector) admit(keyID int64, events []model.Event, at time.Time, st *settings) (int, *Rejection) {
	size := 0
	for i := range events {
		size += len(events[i].Payload)
	}
	if ok, wait := c.bytes.take(keyID, size, at); !ok {
		secs := max(int(math.Ceil(wait.Seconds())), 1)
		return secs, reject(http.StatusTooManyRequests, ReasonRateLimited,
			"byte rate limit of this write key exceeded (%g bytes/s, burst %d bytes): retry after %d s", st.rate.ByteRate, st.rate.ByteBurst, secs)
	}
	if ok, wait := c.limits.take(keyID, len(events), at); !ok {
		secs := max(int(math.Ceil(wait.Seconds())), 1)
		return secs, reject(http.StatusTooManyRequests, ReasonRateLimited,
			"rate limit of this write key exceeded (%g events/s, burst %d): retry after %d s", st.rate.Rate, st.rate.Burst, secs)
	}
	for i := range events {
		events[i].WriteKeyID = keyID
	}
	return 0, nil
}

// commit drops the events of suppressed identifiers (suppress.go),
// group-commits the rest and counts the bots among them.
func (c *Collector) commit(ctx context.Context, events []model.Event) error {
	if events = c.dropSuppressed(events); len(events) == 0 {
		return nil
	}
	if err := c.commits.submit(ctx, events); err != nil {
		return err
	}
	bots := 0
	for i := range events {
		if events[i].Bot {
			bots++
		}
	}
	c.metrics.bots.Add(float64(bots))
	return nil
}

func (c *Collector) fail(w http.ResponseWriter, rej *Rejection) {
	if rej.Status >= 500 {
		w.Header().Set("Retry-After", "1")
	} else {
		c.metrics.rejected.WithLabelValues(rej.Reason).Inc()
	}
	if rej.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="revloop collector"`)
	}
	writeJSON(w, rej.Status, map[string]any{"error": rej.Msg})
}

func (c *Collector) checkKey(ctx context.Context, key string) (int64, *Rejection) {
	id, err := c.keys.lookup(ctx, key)
	switch {
	case err == nil:
		return id, nil
	case errors.Is(err, errUnknownKey):
		return 0, reject(http.StatusUnauthorized, ReasonUnknownWriteKey, "unknown write key: create one with 'revloop writekey create --name NAME'")
	case errors.Is(err, errRevokedKey):
		return 0, reject(http.StatusUnauthorized, ReasonRevokedWriteKey, "this write key was revoked")
	}
	c.log.Error("collector: cannot check write key", "err", err)
	return 0, &Rejection{Status: http.StatusServiceUnavailable, Reason: "store", Msg: "cannot check the write key right now: retry the request"}
}

// cors lets web pages on any site send events (without credentials).
func (c *Collector) cors(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if o := r.Header.Get("Origin"); o != "" {
		h.Set("Access-Control-Allow-Origin", o)
		h.Add("Vary", "Origin")
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
	}
}

func (c *Collector) preflight(w http.ResponseWriter, r *http.Request) {
	c.cors(w, r)
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

func (c *Collector) unknown(w http.ResponseWriter, r *http.Request) {
	c.cors(w, r)
	if _, ok := Routes[r.URL.Path]; ok {
		w.Header().Set("Allow", "POST, OPTIONS")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": fmt.Sprintf("method %s not allowed on %s: send POST", r.Method, r.URL.Path)})
		return
	}
	writeJSON(w, http.StatusNotFound, map[string]any{"error": fmt.Sprintf("no such collector endpoint: %s (try /v1/track, /v1/page, /v1/identify, /v1/batch, ...)", r.URL.Path)})
}

// writeKeyFromHeader reads the key from Basic auth (the user name; the
// password is empty, and a missing colon is tolerated) or a Bearer token.
func writeKeyFromHeader(r *http.Request) (string, bool) {
	authz := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, cred, ok := strings.Cut(authz, " ")
	if !ok {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			if raw, err = base64.RawStdEncoding.DecodeString(cred); err != nil {
				return "", false
			}
		}
		user, _, _ := strings.Cut(string(raw), ":")
		user = strings.TrimSpace(user)
		return user, user != ""
	case "bearer":
		return cred, cred != ""
	}
	return "", false
}

// readBody reads at most limit bytes of (decompressed) body.
func readBody(w http.ResponseWriter, r *http.Request, limit int) ([]byte, *Rejection) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			return nil, reject(http.StatusUnsupportedMediaType, ReasonMediaType, "unreadable Content-Type %q", bound(ct, 80))
		case mt == "application/json", mt == "text/plain", mt == "application/x-www-form-urlencoded", mt == "application/octet-stream",
			strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"):
		default:
			return nil, reject(http.StatusUnsupportedMediaType, ReasonMediaType, "unsupported Content-Type %s: send JSON as application/json or text/plain", mt)
		}
	}
	tooLarge := func() *Rejection {
		if limit == MaxBatchBytes {
			return reject(http.StatusRequestEntityTooLarge, ReasonBatchTooLarge, "batch is over the limit of %d bytes (500 KB): send fewer events per batch", MaxBatchBytes)
		}
		return reject(http.StatusRequestEntityTooLarge, ReasonEventTooLarge, "event is over the limit of %d bytes (32 KB)", MaxEventBytes)
	}
	// The compressed body is bounded too; gzip never grows data by more
	// than a few bytes per 16 KB block.
	raw := http.MaxBytesReader(w, r.Body, int64(limit+limit/64+1024))
	var src io.Reader = raw
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(raw)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, tooLarge()
			}
			return nil, reject(http.StatusBadRequest, ReasonBadCompression, "body is not valid gzip: %v", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, reject(http.StatusUnsupportedMediaType, ReasonEncoding, "unsupported Content-Encoding %q: send identity or gzip", bound(enc, 40))
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(src, int64(limit)+1))
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, tooLarge()
		case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.Is(err, io.ErrUnexpectedEOF) && src != io.Reader(raw):
			return nil, reject(http.StatusBadRequest, ReasonBadCompression, "body is not valid gzip: %v", err)
		}
		return nil, reject(http.StatusBadRequest, ReasonUnreadableBody, "cannot read the request body: %v", err)
	}
	if n > int64(limit) {
		return nil, tooLarge()
	}
	return buf.Bytes(), nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// keyCache remembers write key lookups for a while, so that a busy sender
// costs no query per request. Unknown keys are remembered too, so that
// garbage keys cannot make every request a query; the map is emptied when
// it grows past keyCacheSize.
type keyCache struct {
	store *store.Store
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	m     map[string]keyEntry
}

type keyEntry struct {
	id    int64
	err   error
	until time.Time
}

const keyCacheSize = 10000

var (
	errUnknownKey = errors.New("unknown write key")
	errRevokedKey = errors.New("revoked write key")
)

func (k *keyCache) lookup(ctx context.Context, key string) (int64, error) {
	if key == "" || len(key) > 200 {
		return 0, errUnknownKey
	}
	now := k.now()
	k.mu.Lock()
	e, ok := k.m[key]
	k.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.id, e.err
	}
	wk, err := k.store.WriteKeyByKey(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		e = keyEntry{err: errUnknownKey}
	case err != nil:
		return 0, err
	case wk.RevokedAt != nil:
		e = keyEntry{err: errRevokedKey}
	default:
		e = keyEntry{id: wk.ID}
	}
	e.until = now.Add(k.ttl)
	k.mu.Lock()
	if len(k.m) >= keyCacheSize {
		clear(k.m)
	}
	k.m[key] = e
	k.mu.Unlock()
	return e.id, e.err
}
