package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/revloop/revloop/internal/links"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
)

// The links page (/links): create tracked links — campaign, landing URL,
// UTM, channel preset, the employee who shares it (全员营销) — and list
// them with their clicks and leads in the date range; download each QR
// code (PNG, SVG), print a poster of it for an exhibition or a salon,
// revoke it. Its JSON twin is GET /api/v1/links/report.

// linksPage is the page's content.
type linksPage struct {
	Filter    viewFilter
	Form      linkForm
	Campaigns []store.CampaignChoice
	Promoters []model.User
	Presets   []presetChoice
	Error     string
	Notice    string
	Created   *linkReport // the link just created (?created=ID)
	Table     *dataTable
	Links     map[string]linkReport // by code, for the row actions
	Base      string                // where short links point
}

func (linksPage) NavKey() string { return "links" }

// presetChoice is a channel preset as the form offers it.
type presetChoice struct{ Key, Label string }

// linkForm is the create form as sent, to show again after an error.
type linkForm struct {
	Campaign, URL, Preset, Promoter, CardID    string
	Source, Medium, UTMCampaign, Content, Term string
}

// linkReport is a tracked link with its figures in a range, as the page
// and its JSON twin show it.
type linkReport struct {
	linkJSON
	CampaignName string        `json:"campaign_name"`
	Channel      model.Channel `json:"channel"`
	Clicks       int64         `json:"clicks"`
	Leads        int64         `json:"leads"`
	PosterURL    string        `json:"poster_url"`
}

// linkReports is every link created before the range ends with its
// clicks and leads in the range: the page's table and its JSON twin.
func (s *Server) linkReports(ctx context.Context, r *http.Request, f viewFilter) ([]linkReport, links.Totals, error) {
	rs, err := process.ChannelRules(ctx, s.store)
	if err != nil {
		return nil, links.Totals{}, err
	}
	rows, total, err := links.Report(ctx, s.store, rs, f.Period.Window())
	if err != nil {
		return nil, total, err
	}
	base := s.publicBase(r)
	out := make([]linkReport, 0, len(rows))
	for _, row := range rows {
		out = append(out, linkReport{linkJSON: linkView(base, row.Link), CampaignName: row.CampaignName, Channel: row.Channel,
			Clicks: row.Clicks, Leads: row.Leads, PosterURL: fmt.Sprintf("/links/%d/poster", row.Link.ID)})
	}
	return out, total, nil
}

// linkColumns are columns of the link tables (the links page's, an
// employee's own), by key, in the order given.
func linkColumns(l Locale, keys ...string) []column {
	tips := map[string]string{"channel": "tip.link_channel", "clicks": "tip.link_clicks", "leads": "tip.link_leads"}
	kinds := map[string]cellKind{"created": kindDate, "clicks": kindInt, "leads": kindInt}
	cols := make([]column, len(keys))
	for i, k := range keys {
		c := column{Key: k, Label: l.T("links.col." + k), Kind: kindText}
		if kind, ok := kinds[k]; ok {
			c.Kind = kind
		}
		if tip, ok := tips[k]; ok {
			c.Tip = l.T(tip)
		}
		cols[i] = c
	}
	return cols
}

// linkStateCell is a link's state: live or revoked.
func linkStateCell(l Locale, k linkReport) cell {
	state := "live"
	if k.RevokedAt != nil {
		state = "revoked"
	}
	return cell{V: state, Text: l.T("links.state." + state)}
}

// linksTable is the links as the page's table.
func linksTable(l Locale, list []linkReport, total links.Totals, loc *time.Location) *dataTable {
	t := &dataTable{ID: "links", Title: l.T("links.list_title"), Loc: loc, Empty: l.T("links.empty"), Columns: linkColumns(l,
		"short", "campaign", "channel", "target", "utm", "promoter", "created", "clicks", "leads", "state")}
	for _, k := range list {
		promoter := k.Promoter
		if k.CardID != "" {
			promoter = strings.TrimPrefix(promoter+" · "+k.CardID, " · ")
		}
		utm := []string{k.UTMSource, k.UTMMedium}
		if k.UTMContent != "" {
			utm = append(utm, k.UTMContent)
		}
		if k.UTMTerm != "" {
			utm = append(utm, k.UTMTerm)
		}
		t.Rows = append(t.Rows, []cell{
			{V: k.ShortURL, Href: k.ShortURL},
			{V: k.Campaign, Text: linkCampaignText(k.Campaign, k.CampaignName)},
			{V: string(k.Channel), Text: l.Channel(k.Channel)},
			{V: k.TargetURL},
			{V: strings.Join(utm, " / ")},
			{V: promoter},
			{V: k.CreatedAt.In(loc)},
			{V: k.Clicks}, {V: k.Leads},
			linkStateCell(l, k),
		})
	}
	if len(list) > 0 {
		// Leads do not add up across links: the total counts each once.
		blank := cell{Text: " "}
		t.Total = []cell{{V: l.T("links.total")}, blank, blank, blank, blank, blank, blank, {V: total.Clicks}, {V: total.Leads}, blank}
	}
	return t
}

func linkCampaignText(code, name string) string {
	if name == "" || name == code {
		return code
	}
	return name + " (" + code + ")"
}

// LinkOf is the link of a table row, for its actions.
func (p linksPage) LinkOf(row []cell) linkReport {
	if len(row) == 0 {
		return linkReport{}
	}
	code, _ := row[0].V.(string)
	return p.Links[code[strings.LastIndex(code, "/")+1:]]
}

func (s *Server) linksPage(w http.ResponseWriter, r *http.Request) {
	p := linksPage{Form: linkForm{Preset: ""}}
	l := s.catalog.locale(langOnly(r))
	q := r.URL.Query()
	if _, err := strconv.ParseInt(q.Get("revoked"), 10, 64); err == nil {
		p.Notice = l.T("links.revoked_notice")
	}
	s.renderLinks(w, r, http.StatusOK, p)
}

// renderLinks fills the page around p (the form as sent, an error) and
// renders it with code.
func (s *Server) renderLinks(w http.ResponseWriter, r *http.Request, code int, p linksPage) {
	ctx := r.Context()
	l := s.catalog.locale(langOnly(r))
	cal, err := s.store.Calendar(ctx)
	if err != nil {
		s.pageInternal(w, r, "links page", err)
		return
	}
	f, ok := s.toolFilter(w, r, cal, &p.Error, &code)
	if !ok {
		return
	}
	p.Filter, p.Base = f, s.publicBase(r)
	for _, ps := range links.Presets {
		p.Presets = append(p.Presets, presetChoice{Key: ps.Key, Label: l.Channel(model.Channel(ps.Key)) + " · " + ps.Source + " / " + ps.Medium})
	}
	if p.Campaigns, err = s.store.CampaignChoices(ctx, 5000); err != nil {
		s.pageInternal(w, r, "links page", err)
		return
	}
	users, err := s.store.Users(ctx, "")
	if err != nil {
		s.pageInternal(w, r, "links page", err)
		return
	}
	for _, u := range users {
		if u.DisabledAt == nil {
			p.Promoters = append(p.Promoters, u)
		}
	}
	list, total, err := s.linkReports(ctx, r, f)
	if err != nil {
		s.pageInternal(w, r, "links page", err)
		return
	}
	p.Links = map[string]linkReport{}
	created, _ := strconv.ParseInt(r.URL.Query().Get("created"), 10, 64)
	for i := range list {
		p.Links[list[i].Code] = list[i]
		if created > 0 && list[i].ID == created {
			p.Created = &list[i]
		}
	}
	p.Table = linksTable(l, list, total, cal.Loc)
	p.Table.prepare(r, "created", true)
	if s.exportTable(w, r, "links", p.Filter, p.Table) {
		return
	}
	s.render(w, r, code, "links", "links.title", p)
}

// linksCreate answers POST /links: the form creates a link (as the API
// does) and the page shows it with its QR code; a refused form comes back
// with the reason and what was typed.
func (s *Server) linksCreate(w http.ResponseWriter, r *http.Request) {
	l := s.catalog.locale(langOnly(r))
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.renderLinks(w, r, http.StatusBadRequest, linksPage{Error: l.T("links.error.form")})
		return
	}
	v := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	form := linkForm{Campaign: v("campaign"), URL: v("url"), Preset: v("preset"), Promoter: v("promoter"), CardID: v("card_id"),
		Source: v("utm_source"), Medium: v("utm_medium"), UTMCampaign: v("utm_campaign"), Content: v("utm_content"), Term: v("utm_term")}
	req := links.Request{Campaign: form.Campaign, URL: form.URL, Promoter: form.Promoter, CardID: form.CardID,
		UTMSource: form.Source, UTMMedium: form.Medium, UTMCamp: form.UTMCampaign, UTMTerm: form.Term, UTMContent: form.Content}
	if !links.ApplyPreset(&req, form.Preset) {
		s.renderLinks(w, r, http.StatusBadRequest, linksPage{Form: form, Error: l.T("links.error.preset")})
		return
	}
	link, err := links.Create(r.Context(), s.store, req, s.app.Now())
	var ie *links.InputError
	if errors.As(err, &ie) {
		s.renderLinks(w, r, http.StatusBadRequest, linksPage{Form: form, Error: l.T("links.error.refused", "reason", ie.Msg)})
		return
	}
	if err != nil {
		s.pageInternal(w, r, "create link", err)
		return
	}
	q := url.Values{"created": {strconv.FormatInt(link.ID, 10)}}
	http.Redirect(w, r, "/links?"+q.Encode()+"#created", http.StatusSeeOther)
}

// linksRevoke answers POST /links/{id}/revoke.
func (s *Server) linksRevoke(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	err := s.store.RevokeTrackedLink(r.Context(), id, s.app.Now())
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err != nil {
		s.pageInternal(w, r, "revoke link", err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/links?revoked=%d", id), http.StatusSeeOther)
}

// posterPage is a printable poster of a link.
type posterPage struct {
	Link     linkReport
	Size     string // a4 or a5
	Caption  string
	Title    string // the campaign's name, or what the form says
	Sizes    []string
	Footnote string
}

func (posterPage) NavKey() string { return "links" }

// maxPosterText bounds the poster's title and caption (characters).
const maxPosterText = 120

// linkPoster answers GET /links/{id}/poster?size=a4|a5&title=&caption=:
// the campaign name, the QR code, the short URL and a caption on an A4 or
// A5 page that the browser prints (its print stylesheet drops everything
// else). A revoked link has no poster: its code answers 404.
func (s *Server) linkPoster(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	link, err := s.store.TrackedLinkByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && link.RevokedAt != nil) {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err != nil {
		s.pageInternal(w, r, "link poster", err)
		return
	}
	camp, err := s.store.LinkCampaignByCode(r.Context(), link.CampaignCode)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.pageInternal(w, r, "link poster", err)
		return
	}
	l := s.catalog.locale(langOnly(r))
	q := r.URL.Query()
	p := posterPage{Link: linkReport{linkJSON: linkView(s.publicBase(r), link), CampaignName: camp.Name}, Size: "a4", Sizes: []string{"a4", "a5"},
		Title: posterText(q.Get("title")), Caption: posterText(q.Get("caption"))}
	if q.Get("size") == "a5" {
		p.Size = "a5"
	}
	if p.Title == "" {
		p.Title = camp.Name
		if p.Title == "" {
			p.Title = link.CampaignCode
		}
	}
	if p.Caption == "" {
		p.Caption = l.T("poster.default_caption")
	}
	p.Footnote = l.T("poster.footnote")
	s.render(w, r, http.StatusOK, "link_poster", "poster.title", p)
}

// posterText is a poster's text as typed, without control characters, at
// most maxPosterText characters.
func posterText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if utf8.RuneCountInString(s) > maxPosterText {
		s = string([]rune(s)[:maxPosterText])
	}
	return s
}

// apiLinkReport answers GET /api/v1/links/report?from=&to=: the links
// page's table as JSON.
func (s *Server) apiLinkReport(w http.ResponseWriter, r *http.Request) {
	format, err := apiFormat(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	f, err := s.filterOf(r, nil, "")
	if s.apiFailed(w, r, err, "") {
		return
	}
	list, total, err := s.linkReports(r.Context(), r, f)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	if format != formatJSON {
		t := linksTable(s.fileLocale(r, format), list, total, f.Period.Cal.Loc)
		t.prepare(r, "created", true)
		s.apiTables(w, r, format, "links", f, t)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": f.From, "to": f.To, "links": list,
		"total": map[string]int64{"clicks": total.Clicks, "leads": total.Leads}})
}
