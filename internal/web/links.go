package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/links"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// SettingPublicURL (string) is the address people reach revloop at, e.g.
// "https://m.example.cn": short links and QR codes are built on it. Without
// it they are built on what a trusted proxy forwards, or on the address the
// server listens on (publicBase), never on a client's Host header.
const SettingPublicURL = "links.public_url"

// linkMetrics counts what the public link endpoints turned away.
type linkMetrics struct {
	pixelRejected *prometheus.CounterVec
	clickRejected *prometheus.CounterVec
	clicks        prometheus.Counter
}

// linkRoutes mounts tracked links, QR codes, pixels, imports and the
// browser SDK.
func (s *Server) linkRoutes(m *http.ServeMux) error {
	lm := &linkMetrics{
		pixelRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "revloop_pixel_rejected_total",
			Help: "Tracking pixel requests not stored, by reason.",
		}, []string{"reason"}),
		clickRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "revloop_link_click_rejected_total",
			Help: "Tracked link clicks redirected but not recorded, by reason (rate_limited, error).",
		}, []string{"reason"}),
		clicks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "revloop_link_clicks_total",
			Help: "Tracked link clicks redirected and recorded.",
		}),
	}
	for _, c := range []prometheus.Collector{lm.pixelRejected, lm.clickRejected, lm.clicks} {
		if err := s.metrics.registry.Register(c); err != nil {
			return err
		}
	}
	m.HandleFunc("GET /r/{code}", func(w http.ResponseWriter, r *http.Request) { s.linkRedirect(w, r, lm) })
	m.HandleFunc("GET /r/{code}/qr.png", s.linkQR)
	m.HandleFunc("GET /r/{code}/qr.svg", s.linkQR)
	m.HandleFunc("GET /p.gif", func(w http.ResponseWriter, r *http.Request) { s.pixel(w, r, lm) })

	m.Handle("GET /api/v1/links", s.requireRole(model.RoleMarketer, s.apiLinks))
	m.Handle("POST /api/v1/links", s.requireRole(model.RoleMarketer, s.apiCreateLink))
	m.Handle("POST /api/v1/links/{id}/revoke", s.requireRole(model.RoleMarketer, s.apiRevokeLink))
	m.Handle("GET /api/v1/imports", s.requireRole(model.RoleMarketer, s.apiImports))
	m.Handle("POST /api/v1/imports/costs", s.requireRole(model.RoleMarketer, s.apiImport("costs")))
	m.Handle("POST /api/v1/imports/events", s.requireRole(model.RoleMarketer, s.apiImport("events")))
	return s.sdkRoutes(m)
}

// requireRole is requireAPI plus a minimum role, of the API key or of the
// logged-in user (sessions are accepted for GET only, as by requireAPI).
func (s *Server) requireRole(min model.Role, next http.HandlerFunc) http.Handler {
	return s.requireAPI(func(w http.ResponseWriter, r *http.Request) {
		var role model.Role
		if key, ok := bearer(r.Header.Get("Authorization")); ok && key != "" {
			k, err := s.auth.CheckAPIKey(r.Context(), key)
			if err != nil {
				s.apiInternal(w, r, err)
				return
			}
			role = k.Role
		} else if c, err := r.Cookie(sessionCookie); err == nil {
			u, err := s.auth.SessionUser(r.Context(), c.Value)
			if err != nil {
				s.apiInternal(w, r, err)
				return
			}
			role = u.Role
		}
		if !auth.Allows(role, min) {
			writeJSONError(w, http.StatusForbidden, fmt.Sprintf("this needs the %s role or above; yours is %s", min, role))
			return
		}
		next(w, r)
	})
}

// liveLink finds a link that may be followed: unknown, malformed and
// revoked codes are all ErrNotFound.
func (s *Server) liveLink(ctx context.Context, code string) (model.TrackedLink, error) {
	if !links.ValidCode(code) {
		return model.TrackedLink{}, store.ErrNotFound
	}
	l, err := s.store.TrackedLinkByCode(ctx, code)
	if err == nil && l.RevokedAt != nil {
		return l, store.ErrNotFound
	}
	return l, err
}

// anonCookie is the first-party cookie that holds a link visitor's
// anonymous id on revloop's own host.
const anonCookie = "rl_aid"

// linkRedirect answers GET /r/{code}: a 302 to the link's landing URL with
// UTM appended, after the click is stored. Only a stored link's own target
// is ever redirected to: nothing in the request chooses where.
func (s *Server) linkRedirect(w http.ResponseWriter, r *http.Request, lm *linkMetrics) {
	l, err := s.liveLink(r.Context(), r.PathValue("code"))
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err != nil {
		s.pageInternal(w, r, "tracked link", err)
		return
	}
	target, err := links.ParseTarget(l.TargetURL)
	if err != nil { // stored links were checked; a changed rule must not open a redirect
		s.log.Error("tracked link has a bad target", "code", l.Code, "err", err)
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	aid := ""
	if c, err := r.Cookie(anonCookie); err == nil && links.ValidAnonymousID(c.Value) {
		aid = c.Value
	} else {
		aid = links.NewAnonymousID()
	}
	utm := links.UTM{Source: l.UTMSource, Medium: l.UTMMedium, Campaign: l.UTMCampaign, Term: l.UTMTerm, Content: l.UTMContent}
	landing := links.Landing(target, utm, aid)
	var rej *collect.Rejection
	switch err := s.collector.RecordClick(r, collect.Click{Link: l, Landing: landing, AnonymousID: aid}); {
	case errors.As(err, &rej):
		// The visitor still gets where they were going; the refused touch is counted.
		lm.clickRejected.WithLabelValues(rej.Reason).Inc()
	case err != nil:
		s.log.Error("record tracked link click", "code", l.Code, "err", err)
		lm.clickRejected.WithLabelValues("error").Inc()
	default:
		lm.clicks.Inc()
	}
	http.SetCookie(w, &http.Cookie{Name: anonCookie, Value: aid, Path: "/", MaxAge: 2 * 365 * 24 * 3600,
		HttpOnly: true, Secure: s.overTLS(r), SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer-when-downgrade")
	http.Redirect(w, r, landing, http.StatusFound)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// linkQR answers /r/{code}/qr.png and qr.svg: the short URL as a QR code.
// They are public like the link itself (it is what gets printed on event
// badges and posters); a revoked or unknown code is 404.
func (s *Server) linkQR(w http.ResponseWriter, r *http.Request) {
	l, err := s.liveLink(r.Context(), r.PathValue("code"))
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err != nil {
		s.pageInternal(w, r, "tracked link QR", err)
		return
	}
	short := s.publicBase(r) + "/r/" + l.Code
	var body []byte
	ctype := "image/svg+xml"
	if strings.HasSuffix(r.URL.Path, ".png") {
		scale, _ := strconv.Atoi(r.URL.Query().Get("scale"))
		if scale == 0 {
			scale = 8
		}
		body, err = links.QRPNG(short, scale)
		ctype = "image/png"
	} else {
		body, err = links.QRSVG(short)
	}
	if err != nil {
		s.log.Error("render QR code", "code", l.Code, "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Content-Disposition", fmt.Sprintf(`inline; filename="revloop-%s%s"`, l.Code, r.URL.Path[strings.LastIndex(r.URL.Path, "."):]))
	w.Write(body)
}

// gif1x1 is a transparent 1×1 GIF.
var gif1x1 = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\x21\xf9\x04\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b")

// pixel answers GET /p.gif with a 1×1 GIF whatever happens: an email client
// must never show a broken image. Bad input is counted by reason and not
// stored.
func (s *Server) pixel(w http.ResponseWriter, r *http.Request, lm *linkMetrics) {
	defer func() {
		h := w.Header()
		h.Set("Content-Type", "image/gif")
		h.Set("Cache-Control", "no-cache, no-store, must-revalidate, private")
		h.Set("Pragma", "no-cache")
		h.Set("Expires", "0")
		w.Write(gif1x1)
	}()
	reject := func(reason string) { lm.pixelRejected.WithLabelValues(reason).Inc() }
	if len(r.URL.RawQuery) > 4096 {
		reject("too_long")
		return
	}
	p, err := links.ParsePixel(r.URL.Query())
	var pe *links.PixelError
	if errors.As(err, &pe) {
		reject(pe.Reason)
		return
	}
	var rej *collect.Rejection
	switch err := s.collector.RecordPixel(r, p); {
	case errors.As(err, &rej) && rej.Status < 500:
		reject(rej.Reason)
	case err != nil:
		s.log.Error("store pixel event", "err", err)
		reject("error")
	}
}

// linkJSON is a tracked link in the API.
type linkJSON struct {
	ID         int64      `json:"id"`
	Code       string     `json:"code"`
	ShortURL   string     `json:"short_url"`
	QRPNG      string     `json:"qr_png"`
	QRSVG      string     `json:"qr_svg"`
	Campaign   string     `json:"campaign"`
	TargetURL  string     `json:"target_url"`
	UTMSource  string     `json:"utm_source,omitempty"`
	UTMMedium  string     `json:"utm_medium,omitempty"`
	UTMCamp    string     `json:"utm_campaign,omitempty"`
	UTMTerm    string     `json:"utm_term,omitempty"`
	UTMContent string     `json:"utm_content,omitempty"`
	Promoter   string     `json:"promoter,omitempty"`
	PromoterID int64      `json:"promoter_id,omitempty"`
	CardID     string     `json:"card_id,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

func linkView(base string, l model.TrackedLink) linkJSON {
	short := base + "/r/" + l.Code
	return linkJSON{ID: l.ID, Code: l.Code, ShortURL: short, QRPNG: short + "/qr.png", QRSVG: short + "/qr.svg", Campaign: l.CampaignCode,
		TargetURL: l.TargetURL, UTMSource: l.UTMSource, UTMMedium: l.UTMMedium, UTMCamp: l.UTMCampaign, UTMTerm: l.UTMTerm, UTMContent: l.UTMContent,
		Promoter: l.PromoterEmail, PromoterID: l.PromoterID, CardID: l.CardID, CreatedAt: l.CreatedAt, RevokedAt: l.RevokedAt}
}

func (s *Server) apiCreateLink(w http.ResponseWriter, r *http.Request) {
	var req links.Request
	if !decodeBody(w, r, &req, "with campaign, url, promoter, card_id, utm_*") {
		return
	}
	l, err := links.Create(r.Context(), s.store, req, s.app.Now())
	var ie *links.InputError
	if errors.As(err, &ie) {
		writeJSONError(w, http.StatusBadRequest, ie.Msg)
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, linkView(s.publicBase(r), l))
}

// apiLinkCampaign finds the campaign a link API names by its code; when
// it fails it has answered (404 naming the code, 500).
func (s *Server) apiLinkCampaign(w http.ResponseWriter, r *http.Request, code string) (model.LinkCampaign, bool) {
	c, err := s.store.LinkCampaignByCode(r.Context(), code)
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("campaign %q does not exist", clip(code, 100)))
		return c, false
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return c, false
	}
	return c, true
}

func (s *Server) apiLinks(w http.ResponseWriter, r *http.Request) {
	var campaignID int64
	if code := r.URL.Query().Get("campaign"); code != "" {
		c, ok := s.apiLinkCampaign(w, r, code)
		if !ok {
			return
		}
		campaignID = c.ID
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeJSONError(w, http.StatusBadRequest, "limit must be a number from 1 to 1000")
			return
		}
		limit = n
	}
	list, err := s.store.TrackedLinks(r.Context(), campaignID, limit)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	base := s.publicBase(r)
	out := make([]linkJSON, 0, len(list))
	for _, l := range list {
		out = append(out, linkView(base, l))
	}
	writeJSON(w, http.StatusOK, map[string]any{"links": out})
}

func (s *Server) apiRevokeLink(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeJSONError(w, http.StatusBadRequest, "link id must be a positive number")
		return
	}
	if err := s.store.RevokeTrackedLink(r.Context(), id, s.app.Now()); errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no tracked link %d", id))
		return
	} else if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	l, err := s.store.TrackedLinkByID(r.Context(), id)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, linkView(s.publicBase(r), l))
}

func (s *Server) apiImports(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.Imports(r.Context(), 100)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	if list == nil {
		list = []model.Import{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"imports": list})
}
