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

	"github.com/revloop/revloop/internal/links"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
)

// The employee promotion (全员营销) leaderboard (/reviews/promotion) and
// its JSON twin, and every employee's own share links (/my/links): any
// logged-in user gets their share link and QR poster of a campaign in two
// clicks — "my share link" on the campaign page or the leaderboard, then
// the poster. The figures come from report.Promotion; docs/promotion.md
// describes the whole.

func (s *Server) promotionRoutes(m *http.ServeMux) error {
	m.Handle("GET /reviews/promotion", s.page("promotion", s.promotionPage))
	m.Handle("GET /api/v1/reviews/promotion", s.pageAPI("promotion", s.apiPromotion))

	m.Handle("GET /my/links", s.page("my_links", s.myLinksPage))
	m.Handle("POST /my/links", s.page("my_links", s.myLinksShare))
	m.Handle("GET /my/links/{id}/poster", s.page("my_links", s.myLinkPoster))
	m.Handle("GET /api/v1/my/links", s.requireAPI(s.apiMyLinks))
	m.Handle("POST /api/v1/my/links", s.requireAPI(s.apiMyLinkShare))
	return nil
}

// promotionRequest reads the leaderboard's range, model, campaign (an id)
// and grouping; each bad value is a *filterError naming its parameter.
func (s *Server) promotionRequest(r *http.Request) (viewFilter, report.PromotionQuery, string, error) {
	f, dq, err := s.dashRequest(r)
	q := report.PromotionQuery{Period: dq.Period, Model: string(dq.Model)}
	if err != nil {
		return f, q, "", err
	}
	v := r.URL.Query()
	if raw := strings.TrimSpace(v.Get("campaign")); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return f, q, "", &filterError{Param: "campaign", Key: "promotion.error.bad_campaign",
				Msg: fmt.Sprintf("campaign: %q is not a campaign id (a positive whole number)", clip(raw, 40))}
		}
		q.CampaignID = id
	}
	by := strings.ToLower(strings.TrimSpace(v.Get("by")))
	switch by {
	case "":
		by = report.ByEmployee
	case report.ByEmployee, report.ByTeam:
	default:
		return f, q, "", &filterError{Param: "by", Key: "promotion.error.bad_by", Msg: fmt.Sprintf("by: %q: use employee or team", clip(by, 40))}
	}
	return f, q, by, nil
}

// promotionJSON is the body of GET /api/v1/reviews/promotion.
type promotionJSON struct {
	From     string                    `json:"from"`
	To       string                    `json:"to"`
	Model    string                    `json:"model"`
	Currency string                    `json:"currency"`
	Campaign *report.PromotionCampaign `json:"campaign"`
	By       string                    `json:"by"`
	Rows     any                       `json:"rows"` // []report.PromoterRow or []report.TeamRow
	Total    report.PromotionFigures   `json:"total"`
}

func (s *Server) apiPromotion(w http.ResponseWriter, r *http.Request) {
	format, err := apiFormat(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	f, q, by, err := s.promotionRequest(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	p, err := s.reports.Promotion(r.Context(), q)
	if s.apiFailed(w, r, err, fmt.Sprintf("campaign %d does not exist", q.CampaignID)) {
		return
	}
	if format != formatJSON {
		// The page's table, in the caller's language.
		t := promotionTable(s.catalog.locale(langOnly(r)), p, by, f.Period.Cal.Loc)
		t.prepare(r, "rank", false)
		s.apiTables(w, r, format, "promotion", f, t)
		return
	}
	out := promotionJSON{From: p.From, To: p.To, Model: p.Model, Currency: p.Currency, Campaign: p.Campaign, By: by, Rows: p.Employees, Total: p.Total}
	if by == report.ByTeam {
		out.Rows = p.Teams
	}
	writeJSON(w, http.StatusOK, out)
}

// promotionView is the leaderboard's page.
type promotionView struct {
	Filter    viewFilter
	Models    []string
	Error     string
	Data      *report.Promotion
	By        string
	Bys       []segLink
	Campaign  string // the campaign filter as the URL has it
	Campaigns []store.CampaignChoice
	KPIs      []kpi
	Table     *dataTable
}

func (promotionView) NavKey() string { return "promotion" }

// shareCampaigns bounds the campaigns the pickers offer.
const shareCampaigns = 5000

func (s *Server) promotionPage(w http.ResponseWriter, r *http.Request) {
	loc := s.catalog.locale(langOnly(r))
	f, q, by, err := s.promotionRequest(r)
	v := promotionView{Filter: f, Models: creditModels(), By: by, Campaign: strings.TrimSpace(r.URL.Query().Get("campaign"))}
	camps, cerr := s.store.CampaignChoices(r.Context(), shareCampaigns)
	if cerr != nil {
		s.pageInternal(w, r, "promotion leaderboard", cerr)
		return
	}
	v.Campaigns = camps
	if err == nil {
		var p report.Promotion
		p, err = s.reports.Promotion(r.Context(), q)
		v.Data = &p
	}
	if errors.Is(err, store.ErrNotFound) {
		v.Data, v.Error = nil, loc.T("promotion.error.no_campaign")
		s.render(w, r, http.StatusNotFound, "promotion", "promotion.title", v)
		return
	}
	if s.pageFailed(w, r, err, "error.not_found", "promotion leaderboard", func(text string) {
		v.Error = text
		s.render(w, r, http.StatusBadRequest, "promotion", "promotion.title", v)
	}) {
		return
	}
	v.Bys = segLinks(r, "by", by, []string{report.ByEmployee, report.ByTeam}, func(k string) string { return loc.T("promotion.by." + k) })
	v.KPIs = promotionKPIs(loc, v.Data.Total)
	v.Table = promotionTable(loc, *v.Data, by, f.Period.Cal.Loc)
	v.Table.prepare(r, "rank", false)
	if s.exportTable(w, r, "promotion", f, v.Table) {
		return
	}
	s.render(w, r, http.StatusOK, "promotion", "promotion.title", v)
}

// promotionTable is the leaderboard's table: by employee or by team.
func promotionTable(l Locale, p report.Promotion, by string, tz *time.Location) *dataTable {
	t := promotionEmployeesTable(l, p)
	if by == report.ByTeam {
		t = promotionTeamsTable(l, p)
	}
	t.Loc = tz
	return t
}

func promotionKPIs(l Locale, t report.PromotionFigures) []kpi {
	count := func(id string, n int64) kpi {
		return kpi{ID: id, Label: l.T("promotion." + id), Tip: l.T("promotion.tip." + id), Value: formatInt(n), Raw: strconv.FormatInt(n, 10)}
	}
	money := func(id string, m model.Money, accent bool) kpi {
		return kpi{ID: id, Label: l.T("promotion." + id), Tip: l.T("promotion.tip." + id), Value: formatMoney(m), Raw: rawMoneyText(m), Accent: accent}
	}
	return []kpi{count("links", t.Links), count("visits", t.Visits), count("visitors", t.Visitors), count("leads", t.Leads), count("mqls", t.MQLs),
		money("credited_pipeline", t.CreditedPipeline, true), money("credited_revenue", t.CreditedRevenue, false)}
}

// promotionColumns are the figures' columns, after the row's names.
func promotionColumns(l Locale) []column {
	col := func(key string, kind cellKind) column {
		return column{Key: key, Label: l.T("promotion." + key), Tip: l.T("promotion.tip." + key), Kind: kind}
	}
	return []column{col("links", kindInt), col("visits", kindInt), col("visitors", kindInt), col("leads", kindInt), col("mqls", kindInt),
		col("credited_pipeline", kindMoney), col("credited_revenue", kindMoney)}
}

func promotionCells(f report.PromotionFigures) []cell {
	return []cell{{V: f.Links}, {V: f.Visits}, {V: f.Visitors}, {V: f.Leads}, {V: f.MQLs}, {V: f.CreditedPipeline}, {V: f.CreditedRevenue}}
}

// teamText names a team; the employees of no team are a row of their own.
func teamText(l Locale, team string) string {
	if team == "" {
		return l.T("promotion.no_team")
	}
	return team
}

func promotionEmployeesTable(l Locale, p report.Promotion) *dataTable {
	t := &dataTable{ID: "employees", Empty: l.T("promotion.empty"), Columns: append([]column{
		{Key: "rank", Label: l.T("promotion.rank"), Tip: l.T("promotion.tip.rank"), Kind: kindInt},
		{Key: "name", Label: l.T("promotion.employee"), Kind: kindText},
		{Key: "email", Label: l.T("promotion.email"), Kind: kindText},
		{Key: "team", Label: l.T("promotion.team"), Kind: kindText},
		{Key: "role", Label: l.T("promotion.role"), Kind: kindText},
	}, promotionColumns(l)...)}
	for _, e := range p.Employees {
		name := e.Name
		if name == "" {
			name = e.Email
		}
		if e.Disabled {
			name += " (" + l.T("promotion.disabled") + ")"
		}
		t.Rows = append(t.Rows, append([]cell{{V: int64(e.Rank)}, {V: name}, {V: e.Email}, {V: e.Team, Text: teamText(l, e.Team)},
			{V: string(e.Role), Text: l.T("role." + string(e.Role))}}, promotionCells(e.PromotionFigures)...))
	}
	if len(p.Employees) > 0 {
		blank := cell{Text: " "}
		t.Total = append([]cell{blank, {V: l.T("promotion.total")}, blank, blank, blank}, promotionCells(p.Total)...)
	}
	return t
}

func promotionTeamsTable(l Locale, p report.Promotion) *dataTable {
	t := &dataTable{ID: "teams", Empty: l.T("promotion.empty"), Columns: append([]column{
		{Key: "rank", Label: l.T("promotion.rank"), Tip: l.T("promotion.tip.rank"), Kind: kindInt},
		{Key: "team", Label: l.T("promotion.team"), Kind: kindText},
		{Key: "employees", Label: l.T("promotion.employees"), Tip: l.T("promotion.tip.employees"), Kind: kindInt},
		{Key: "sharing", Label: l.T("promotion.sharing"), Tip: l.T("promotion.tip.sharing"), Kind: kindInt},
	}, promotionColumns(l)...)}
	var employees, sharing int64
	for _, x := range p.Teams {
		t.Rows = append(t.Rows, append([]cell{{V: int64(x.Rank)}, {V: x.Team, Text: teamText(l, x.Team)}, {V: int64(x.Employees)}, {V: int64(x.Sharing)}},
			promotionCells(x.PromotionFigures)...))
		employees += int64(x.Employees)
		sharing += int64(x.Sharing)
	}
	if len(p.Teams) > 0 {
		t.Total = append([]cell{{Text: " "}, {V: l.T("promotion.total")}, {V: employees}, {V: sharing}}, promotionCells(p.Total)...)
	}
	return t
}

// ---- my share links ----

// myLinksView is the page of the caller's own share links.
type myLinksView struct {
	Filter    viewFilter
	Error     string
	Campaigns []store.CampaignChoice
	Campaign  int64       // preselected in the picker
	Shown     *linkReport // the link asked for (?link=ID), with its QR code
	Created   bool        // Shown was just created
	Table     *dataTable
}

func (myLinksView) NavKey() string { return "my_links" }

// myLinkReports are the caller's promoter links with their clicks and
// leads in the range.
func (s *Server) myLinkReports(ctx context.Context, r *http.Request, userID int64, f viewFilter) ([]linkReport, error) {
	list, err := s.store.PromoterLinks(ctx, userID, store.MaxShareLinks)
	if err != nil {
		return nil, err
	}
	figs, _, err := s.store.LinkFigures(ctx, f.Period.Window().From, f.Period.Window().To)
	if err != nil {
		return nil, err
	}
	camps, err := s.store.CampaignChoices(ctx, 1_000_000)
	if err != nil {
		return nil, err
	}
	rs, err := process.ChannelRules(ctx, s.store)
	if err != nil {
		return nil, err
	}
	byID := map[int64]store.CampaignChoice{}
	for _, c := range camps {
		byID[c.ID] = c
	}
	base := s.publicBase(r)
	out := make([]linkReport, 0, len(list))
	for _, l := range list {
		fg, c := figs[l.ID], byID[l.CampaignID]
		out = append(out, linkReport{linkJSON: linkView(base, l), CampaignName: c.Name, Channel: links.ClickChannel(rs, l, c.Channel),
			Clicks: fg.Clicks, Leads: fg.Leads, PosterURL: fmt.Sprintf("/my/links/%d/poster", l.ID)})
	}
	return out, nil
}

func myLinksTable(l Locale, list []linkReport, loc *time.Location) *dataTable {
	t := &dataTable{ID: "my_links", Loc: loc, Empty: l.T("promotion.my_links_empty"), Columns: linkColumns(l, "short", "campaign", "created", "clicks", "leads", "state")}
	for _, k := range list {
		t.Rows = append(t.Rows, []cell{
			{V: k.ShortURL, Href: fmt.Sprintf("/my/links?link=%d#shown", k.ID)},
			{V: k.Campaign, Text: linkCampaignText(k.Campaign, k.CampaignName)},
			{V: k.CreatedAt.In(loc)},
			{V: k.Clicks}, {V: k.Leads},
			linkStateCell(l, k),
		})
	}
	return t
}

func (s *Server) myLinksPage(w http.ResponseWriter, r *http.Request) {
	s.renderMyLinks(w, r, http.StatusOK, myLinksView{})
}

// renderMyLinks fills the page around v (an error, the campaign picked)
// and renders it with code.
func (s *Server) renderMyLinks(w http.ResponseWriter, r *http.Request, code int, v myLinksView) {
	ctx := r.Context()
	u, _ := userFrom(ctx)
	cal, err := s.store.Calendar(ctx)
	if err != nil {
		s.pageInternal(w, r, "my links", err)
		return
	}
	f, ok := s.toolFilter(w, r, cal, &v.Error, &code)
	if !ok {
		return
	}
	v.Filter = f
	if v.Campaigns, err = s.store.CampaignChoices(ctx, shareCampaigns); err != nil {
		s.pageInternal(w, r, "my links", err)
		return
	}
	if v.Campaign == 0 {
		v.Campaign, _ = strconv.ParseInt(r.URL.Query().Get("campaign"), 10, 64)
	}
	list, err := s.myLinkReports(ctx, r, u.ID, f)
	if err != nil {
		s.pageInternal(w, r, "my links", err)
		return
	}
	shown, _ := strconv.ParseInt(r.URL.Query().Get("link"), 10, 64)
	for i := range list {
		if shown > 0 && list[i].ID == shown && list[i].RevokedAt == nil {
			v.Shown = &list[i]
		}
	}
	v.Created = v.Shown != nil && r.URL.Query().Get("created") == "1"
	v.Table = myLinksTable(s.catalog.locale(langOnly(r)), list, cal.Loc)
	v.Table.prepare(r, "created", true)
	if s.exportTable(w, r, "my-links", f, v.Table) {
		return
	}
	s.render(w, r, code, "my_links", "promotion.my_links_title", v)
}

// myLinksShare answers POST /my/links (campaign: an id): the caller's
// share link of the campaign, made on first use, shown with its QR code.
func (s *Server) myLinksShare(w http.ResponseWriter, r *http.Request) {
	l := s.catalog.locale(langOnly(r))
	u, _ := userFrom(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.renderMyLinks(w, r, http.StatusBadRequest, myLinksView{Error: l.T("promotion.error.form")})
		return
	}
	id, err := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get("campaign")), 10, 64)
	if err != nil || id <= 0 {
		s.renderMyLinks(w, r, http.StatusBadRequest, myLinksView{Error: l.T("promotion.error.pick_campaign")})
		return
	}
	link, created, err := links.ShareLink(r.Context(), s.store, id, u, s.app.Now())
	var ie *links.InputError
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.renderMyLinks(w, r, http.StatusBadRequest, myLinksView{Error: l.T("promotion.error.no_campaign")})
		return
	case errors.As(err, &ie):
		s.renderMyLinks(w, r, http.StatusBadRequest, myLinksView{Campaign: id, Error: l.T("promotion.error.refused", "reason", ie.Msg)})
		return
	case err != nil:
		s.pageInternal(w, r, "share link", err)
		return
	}
	q := url.Values{"link": {strconv.FormatInt(link.ID, 10)}}
	if created {
		q.Set("created", "1")
	}
	http.Redirect(w, r, "/my/links?"+q.Encode()+"#shown", http.StatusSeeOther)
}

// myLinkPoster answers GET /my/links/{id}/poster: the links page's poster,
// for the employee the link names (and administrators and marketers, who
// manage every link). Anyone else is told it does not exist.
func (s *Server) myLinkPoster(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	id, ok := pageID(r)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	link, err := s.store.TrackedLinkByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && link.PromoterID != u.ID && u.Role != model.RoleAdmin && u.Role != model.RoleMarketer) {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err != nil {
		s.pageInternal(w, r, "share link poster", err)
		return
	}
	s.linkPoster(w, r)
}

// sharingUser is the user behind an API request: the key's owner or the
// session's user. A key that belongs to no user is refused (403); ok is
// false when the answer is written.
func (s *Server) sharingUser(w http.ResponseWriter, r *http.Request) (model.User, bool) {
	id, err := s.requestUserID(r)
	if err != nil {
		s.apiInternal(w, r, err)
		return model.User{}, false
	}
	if id == 0 {
		writeJSONError(w, http.StatusForbidden, "this API key belongs to no user: share links are a user's own; create a key as that user")
		return model.User{}, false
	}
	u, err := s.store.UserByID(r.Context(), id)
	if err != nil {
		s.apiInternal(w, r, err)
		return u, false
	}
	return u, true
}

// apiMyLinks answers GET /api/v1/my/links?from=&to=: the caller's share
// links with their clicks and leads in the range.
func (s *Server) apiMyLinks(w http.ResponseWriter, r *http.Request) {
	u, ok := s.sharingUser(w, r)
	if !ok {
		return
	}
	f, err := s.filterOf(r, nil, "")
	if s.apiFailed(w, r, err, "") {
		return
	}
	list, err := s.myLinkReports(r.Context(), r, u.ID, f)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": f.From, "to": f.To, "links": list})
}

// shareLinkJSON is the answer of POST /api/v1/my/links: the link, its
// campaign's name, the channel its clicks count under, its poster.
type shareLinkJSON struct {
	linkJSON
	CampaignName string        `json:"campaign_name"`
	Channel      model.Channel `json:"channel"`
	PosterURL    string        `json:"poster_url"`
}

// shareRequest is the body of POST /api/v1/my/links.
type shareRequest struct {
	Campaign string `json:"campaign"` // the campaign's code
}

// apiMyLinkShare answers POST /api/v1/my/links {"campaign": "CODE"}: the
// caller's share link of the campaign, 201 when it was created now, 200
// when they had it already.
func (s *Server) apiMyLinkShare(w http.ResponseWriter, r *http.Request) {
	u, ok := s.sharingUser(w, r)
	if !ok {
		return
	}
	var req shareRequest
	if !decodeBody(w, r, &req, `{"campaign": "CODE"}`) {
		return
	}
	code := strings.TrimSpace(req.Campaign)
	if code == "" {
		writeJSONError(w, http.StatusBadRequest, "campaign is required (a campaign code)")
		return
	}
	if len(code) > 200 {
		writeJSONError(w, http.StatusBadRequest, "campaign is longer than 200 bytes: it is a campaign code")
		return
	}
	c, ok := s.apiLinkCampaign(w, r, code)
	if !ok {
		return
	}
	link, created, err := links.ShareLink(r.Context(), s.store, c.ID, u, s.app.Now())
	var ie *links.InputError
	if errors.As(err, &ie) {
		writeJSONError(w, http.StatusBadRequest, ie.Msg)
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	rs, err := process.ChannelRules(r.Context(), s.store)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	out := shareLinkJSON{linkJSON: linkView(s.publicBase(r), link), CampaignName: c.Name, Channel: links.ClickChannel(rs, link, string(c.Channel)),
		PosterURL: fmt.Sprintf("/my/links/%d/poster", link.ID)}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, out)
}
