package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/campaigns"
	"github.com/revloop/revloop/internal/links"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
)

// The campaigns pages: the list with every campaign's figures over the
// range (grouped by programme, with subtotals), one campaign against its
// targets, and the forms that create and edit campaigns; each page's data
// is also JSON under /api/v1/campaigns.

func (s *Server) campaignRoutes(m *http.ServeMux) error {
	m.Handle("GET /campaigns", s.page("campaigns", s.campaignsPage))
	m.Handle("GET /campaigns/new", s.page("campaigns", s.editorsOnly(s.campaignNewPage)))
	m.Handle("POST /campaigns", s.page("campaigns", s.editorsOnly(s.campaignCreateSubmit)))
	m.Handle("GET /campaigns/{id}", s.page("campaigns", s.campaignPage))
	m.Handle("GET /campaigns/{id}/edit", s.page("campaigns", s.editorsOnly(s.campaignEditPage)))
	m.Handle("POST /campaigns/{id}", s.page("campaigns", s.editorsOnly(s.campaignEditSubmit)))
	m.Handle("POST /campaigns/{id}/archive", s.page("campaigns", s.editorsOnly(s.campaignArchiveSubmit)))
	m.Handle("POST /campaigns/{id}/links", s.page("campaigns", s.editorsOnly(s.campaignLinkSubmit)))

	m.Handle("GET /api/v1/campaigns", s.pageAPI("campaigns", s.apiCampaigns))
	m.Handle("GET /api/v1/campaigns/{id}", s.pageAPI("campaigns", s.apiCampaign))
	m.Handle("GET /api/v1/campaigns/{id}/members", s.pageAPI("campaigns", s.apiCampaignMembers))
	m.Handle("POST /api/v1/campaigns", s.requireRole(model.RoleMarketer, s.apiCreateCampaign))
	m.Handle("PUT /api/v1/campaigns/{id}", s.requireRole(model.RoleMarketer, s.apiUpdateCampaign(false)))
	m.Handle("PATCH /api/v1/campaigns/{id}", s.requireRole(model.RoleMarketer, s.apiUpdateCampaign(true)))
	return nil
}

// editorsOnly lets admins and marketers through; sales and viewers read
// campaigns only.
func (s *Server) editorsOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, _ := userFrom(r.Context())
		if !canEditCampaigns(u.Role) {
			s.renderError(w, r, http.StatusForbidden, "campaigns.error.forbidden")
			return
		}
		next(w, r)
	}
}

func canEditCampaigns(role model.Role) bool {
	return role == model.RoleAdmin || role == model.RoleMarketer
}

func (s *Server) campaignService() campaigns.Service {
	return campaigns.Service{Store: s.store, Now: s.app.Now}
}

// ---- the list ----

type campaignsView struct {
	Filter   viewFilter
	Models   []string
	Channel  string
	Q        string
	Archived bool
	Channels []model.Channel
	CanEdit  bool
	Data     *report.CampaignTable
	Table    *dataTable
	Progs    *dataTable
	KPIs     []kpi
	Error    string
}

func (campaignsView) NavKey() string { return "campaigns" }

// campaignsQuery reads the list's filters; a bad one is a *filterError.
func (s *Server) campaignsQuery(r *http.Request) (viewFilter, report.CampaignFilter, error) {
	f, err := s.filterOf(r, creditModels(), string(report.DefaultModel))
	if err != nil {
		return f, report.CampaignFilter{}, err
	}
	q := r.URL.Query()
	cf := report.CampaignFilter{Q: strings.TrimSpace(q.Get("q")), Archived: q.Get("archived") == "1"}
	if ch := strings.TrimSpace(q.Get("channel")); ch != "" {
		if !slices.Contains(model.Channels, model.Channel(ch)) {
			return f, cf, &filterError{Param: "channel", Key: "campaigns.error.bad_channel", Msg: fmt.Sprintf("channel %q: want one of the channels (docs/channels.md)", clip(ch, 40))}
		}
		cf.Channel = model.Channel(ch)
	}
	if len(cf.Q) > 200 {
		return f, cf, &filterError{Param: "q", Key: "campaigns.error.bad_q", Msg: "q: at most 200 bytes"}
	}
	return f, cf, nil
}

// campaignsData builds the list, for the page and the API alike.
func (s *Server) campaignsData(r *http.Request, loc Locale) (campaignsView, error) {
	f, cf, err := s.campaignsQuery(r)
	v := campaignsView{Filter: f, Models: creditModels(), Channel: string(cf.Channel), Q: cf.Q, Archived: cf.Archived, Channels: model.Channels}
	if err != nil {
		return v, err
	}
	v.Data, err = s.reports.Campaigns(r.Context(), attribution.Model(f.Model), f.Period.From, f.Period.To, cf)
	if err != nil {
		return v, err
	}
	cal := f.Period.Cal
	v.Table = campaignTable(loc, "campaigns", v.Data.Rows, &v.Data.Total, cal)
	v.Progs = campaignTable(loc, "programmes", v.Data.Programmes, nil, cal)
	v.Table.Title, v.Progs.Title = loc.T("campaigns.list_title"), loc.T("campaigns.programmes_title")
	tot := v.Data.Total
	v.KPIs = []kpi{
		{ID: "cost", Label: loc.T("campaigns.col.cost"), Tip: loc.T("campaigns.tip.cost"), Value: formatMoney(tot.Cost), Raw: tot.Cost.String()},
		{ID: "leads", Label: loc.T("campaigns.col.leads"), Tip: loc.T("campaigns.tip.leads"), Value: formatInt(tot.Leads), Raw: strconv.FormatInt(tot.Leads, 10)},
		{ID: "credited_pipeline", Label: loc.T("campaigns.col.credited_pipeline"), Tip: loc.T("campaigns.tip.credited_pipeline"), Value: formatMoney(tot.CreditedPipeline), Raw: tot.CreditedPipeline.String(), Accent: true},
		{ID: "credited_revenue", Label: loc.T("campaigns.col.credited_revenue"), Tip: loc.T("campaigns.tip.credited_revenue"), Value: formatMoney(tot.CreditedRevenue), Raw: tot.CreditedRevenue.String()},
		{ID: "roas", Label: loc.T("campaigns.col.roas"), Tip: loc.T("campaigns.tip.roas"), Value: formatROI(tot.ROAS), Raw: rawFloat(tot.ROAS)},
		{ID: "cpl", Label: loc.T("campaigns.col.cpl"), Tip: loc.T("campaigns.tip.cpl"), Value: formatMoneyPtr(tot.CPL), Raw: rawMoney(tot.CPL)},
	}
	return v, nil
}

func rawMoney(m *model.Money) string {
	if m == nil {
		return ""
	}
	return m.String()
}

// campaignName is a campaign's name in the page's language.
func campaignName(loc Locale, name, nameEN string) string {
	if loc.Lang == LangEN && nameEN != "" {
		return nameEN
	}
	return name
}

// campaignTable is a table of campaign rows (the list, the programmes,
// a campaign's children).
func campaignTable(loc Locale, id string, rows []report.CampaignRow, total *report.CampaignFigures, cal model.Calendar) *dataTable {
	col := func(key string, kind cellKind) column {
		c := column{Key: key, Label: loc.T("campaigns.col." + key), Kind: kind}
		if tip := "campaigns.tip." + key; loc.T(tip) != tip {
			c.Tip = loc.T(tip)
		}
		return c
	}
	t := &dataTable{ID: id, Loc: cal.Loc, Empty: loc.T("campaigns.empty"), Columns: []column{
		col("name", kindText), col("code", kindText), col("channel", kindText), col("kind", kindText), col("start", kindDate), col("end", kindDate),
		col("owner", kindText), col("parent", kindText), col("budget", kindMoney), col("cost", kindMoney), col("leads", kindInt),
		col("mqls", kindInt), col("sqls", kindInt), col("credited_pipeline", kindMoney), col("credited_revenue", kindMoney),
		col("influenced_pipeline", kindMoney), col("roas", kindRatio), col("roi", kindRatio), col("cpl", kindMoney),
	}}
	day := func(s *string) any {
		if s == nil {
			return nil
		}
		d, _ := time.Parse(dateLayout, *s)
		return d
	}
	for _, rw := range rows {
		name := campaignName(loc, rw.Name, rw.NameEN)
		nameCell := cell{V: name, Href: fmt.Sprintf("/campaigns/%d", rw.ID)}
		if rw.ID == 0 {
			nameCell = cell{V: loc.T("campaigns.none")}
		} else if rw.Depth > 0 && id == "campaigns" {
			nameCell.Text = strings.Repeat("　", rw.Depth) + "└ " + name
		}
		if rw.Archived {
			nameCell.Text = cmpOr(nameCell.Text, name) + " " + loc.T("campaigns.archived_mark")
		}
		kind := campaignKindText(loc, rw.Kind)
		if rw.Platform != "" {
			kind = strings.TrimSpace(kind + " · " + rw.Platform)
		}
		var channel cell
		if rw.Channel != "" {
			channel = cell{V: string(rw.Channel), Text: loc.Channel(rw.Channel)}
		}
		var infl any
		if rw.InfluencedPipeline != nil {
			infl = *rw.InfluencedPipeline
		}
		var parent cell
		if rw.ParentID != 0 {
			parent = cell{V: rw.Parent, Href: fmt.Sprintf("/campaigns/%d", rw.ParentID)}
		}
		t.Rows = append(t.Rows, []cell{nameCell, {V: rw.Code}, channel, {V: kind}, {V: day(rw.StartDate)}, {V: day(rw.EndDate)},
			{V: rw.Owner}, parent, {V: rw.Budget}, {V: rw.Cost}, {V: rw.Leads}, {V: rw.MQLs}, {V: rw.SQLs},
			{V: rw.CreditedPipeline}, {V: rw.CreditedRevenue}, {V: infl}, {V: rw.ROAS}, {V: rw.ROI}, {V: rw.CPL}})
	}
	if total != nil && len(rows) > 0 {
		var budget model.Money
		for _, rw := range rows {
			budget += rw.Budget
		}
		t.Total = []cell{{V: loc.T("campaigns.total")}, {}, {}, {}, {}, {}, {}, {}, {V: budget}, {V: total.Cost}, {V: total.Leads},
			{V: total.MQLs}, {V: total.SQLs}, {V: total.CreditedPipeline}, {V: total.CreditedRevenue}, {}, {V: total.ROAS}, {V: total.ROI}, {V: total.CPL}}
	}
	return t
}

// campaignKindText names a kind of campaign; one outside the catalogue shows
// itself.
func campaignKindText(loc Locale, kind string) string {
	if k := "campaigns.kind." + kind; kind != "" && loc.T(k) != k {
		return loc.T(k)
	}
	return kind
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Server) campaignsPage(w http.ResponseWriter, r *http.Request) {
	loc := s.catalog.locale(langOnly(r))
	v, err := s.campaignsData(r, loc)
	if s.pageFailed(w, r, err, "error.not_found", "campaigns page", func(text string) {
		v.Error = text
		s.render(w, r, http.StatusBadRequest, "campaigns", "campaigns.title", v)
	}) {
		return
	}
	u, _ := userFrom(r.Context())
	v.CanEdit = canEditCampaigns(u.Role)
	v.Table.prepare(r, "", false)
	v.Progs.prepare(r, "", false)
	if s.exportTable(w, r, "campaigns", v.Filter, v.Table, v.Progs) {
		return
	}
	s.render(w, r, http.StatusOK, "campaigns", "campaigns.title", v)
}

func (s *Server) apiCampaigns(w http.ResponseWriter, r *http.Request) {
	format, err := apiFormat(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	v, err := s.campaignsData(r, s.fileLocale(r, format))
	if s.apiFailed(w, r, err, "") {
		return
	}
	if format != formatJSON {
		v.Table.prepare(r, "", false)
		v.Progs.prepare(r, "", false)
		s.apiTables(w, r, format, "campaigns", v.Filter, v.Table, v.Progs)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"model": v.Data.Model, "from": v.Data.From, "to": v.Data.To, "currency": "CNY",
		"campaigns": orEmptyRows(v.Data.Rows), "total": v.Data.Total, "programmes": orEmptyRows(v.Data.Programmes)})
}

func orEmptyRows(rows []report.CampaignRow) []report.CampaignRow {
	if rows == nil {
		return []report.CampaignRow{}
	}
	return rows
}

// ---- one campaign ----

type campaignView struct {
	Filter    viewFilter
	Models    []string
	Grain     string
	CanEdit   bool
	Campaign  model.Campaign
	Data      *report.CampaignDetail
	KPIs      []kpi
	Trend     *chart
	CostChart *chart
	Children  *dataTable
	Spend     *dataTable
	Assets    *dataTable
	Links     *dataTable
	Members   *dataTable
	MemberN   int64
	Notice    string
	Error     string
	LinkForm  campaignLinkForm
	ShortBase string
	KindText  string
	GrainHref string // the same view by the other grain
}

func (campaignView) NavKey() string { return "campaigns" }

// campaignLinkForm is the tracked-link form of a campaign, prefilled with its UTM.
type campaignLinkForm struct {
	URL, Source, Medium, Content, Promoter string
	Error                                  string
}

const membersPerPage = 50

// campaignData builds one campaign's page over the range in the URL, or
// without one from the campaign's start to today.
func (s *Server) campaignData(r *http.Request, loc Locale, id int64) (campaignView, error) {
	v := campaignView{Models: creditModels()}
	c, err := s.store.CampaignByID(r.Context(), id)
	if err != nil {
		return v, err
	}
	v.Campaign = c
	f, err := s.filterOf(r, v.Models, string(report.DefaultModel))
	cal := f.Period.Cal
	v.Filter = f
	if err != nil {
		return v, err
	}
	if f.Default && !c.StartDate.IsZero() && !c.StartDate.After(f.Today) {
		f.Period.From = c.StartDate
		f.From = c.StartDate.Format(dateLayout)
		v.Filter = f
	}
	grain := r.URL.Query().Get("grain")
	if grain != "" && grain != "week" && grain != "month" {
		return v, &filterError{Param: "grain", Key: "campaigns.error.bad_grain", Msg: "grain: week or month"}
	}
	v.Data, err = s.reports.Campaign(r.Context(), id, attribution.Model(f.Model), f.Period.From, f.Period.To, grain)
	if err != nil {
		return v, err
	}
	v.Grain = v.Data.Grain
	other := "month"
	if v.Grain == "month" {
		other = "week"
	}
	gq := cloneQuery(r.URL.Query(), "export", "members_cursor")
	gq.Set("grain", other)
	v.GrainHref = r.URL.Path + "?" + gq.Encode()
	v.KindText = campaignKindText(loc, c.Kind)
	d := v.Data
	row := d.Row
	target := func(key string) float64 {
		for _, t := range d.Targets {
			if t.Key == key {
				return t.Target
			}
		}
		return 0
	}
	k := func(id, label string, value, raw string, actual, tgt float64, accent bool) kpi {
		x := kpi{ID: id, Label: loc.T("campaigns.col." + label), Tip: loc.T("campaigns.tip." + label), Value: value, Raw: raw, Accent: accent}
		if tgt > 0 {
			x.Meter = newMeter(loc, actual, tgt)
			x.Sub = loc.T("campaigns.target_of", "target", formatTarget(id, tgt))
		}
		return x
	}
	v.KPIs = []kpi{
		k("cost", "cost", formatMoney(row.Cost), row.Cost.String(), float64(row.Cost), target("budget"), false),
		k("leads", "leads", formatInt(row.Leads), strconv.FormatInt(row.Leads, 10), float64(row.Leads), target("leads"), false),
		k("mqls", "mqls", formatInt(row.MQLs), strconv.FormatInt(row.MQLs, 10), float64(row.MQLs), target("mqls"), false),
		k("sqls", "sqls", formatInt(row.SQLs), strconv.FormatInt(row.SQLs, 10), float64(row.SQLs), 0, false),
		k("opportunities", "opportunities", formatInt(row.Opportunities), strconv.FormatInt(row.Opportunities, 10), float64(row.Opportunities), target("opportunities"), false),
		k("credited_pipeline", "credited_pipeline", formatMoney(row.CreditedPipeline), row.CreditedPipeline.String(), float64(row.CreditedPipeline), target("pipeline"), true),
		k("credited_revenue", "credited_revenue", formatMoney(row.CreditedRevenue), row.CreditedRevenue.String(), float64(row.CreditedRevenue), target("revenue"), true),
		k("influenced_pipeline", "influenced_pipeline", formatMoneyPtr(row.InfluencedPipeline), rawMoney(row.InfluencedPipeline), 0, 0, false),
		k("roas", "roas", formatROI(row.ROAS), rawFloat(row.ROAS), 0, 0, false),
		k("roi", "roi", formatROI(row.ROI), rawFloat(row.ROI), 0, 0, false),
		k("cpl", "cpl", formatMoneyPtr(row.CPL), rawMoney(row.CPL), 0, 0, false),
	}

	trend := &chart{ID: "trend", Kind: "bar", Format: "int", Right: "money"}
	leads := chartSeries{Name: loc.T("campaigns.col.leads"), Kind: "bar"}
	mqls := chartSeries{Name: loc.T("campaigns.col.mqls"), Kind: "bar"}
	pipe := chartSeries{Name: loc.T("campaigns.col.credited_pipeline"), Kind: "line", Axis: 1}
	cost := chartSeries{Name: loc.T("campaigns.col.cost"), Kind: "line", Axis: 1}
	for _, p := range d.Trend {
		trend.X = append(trend.X, p.Period)
		leads.Data = append(leads.Data, point(float64(p.Leads)))
		mqls.Data = append(mqls.Data, point(float64(p.MQLs)))
		pipe.Data = append(pipe.Data, yuan(p.CreditedPipeline))
		cost.Data = append(cost.Data, yuan(p.Cost))
	}
	trend.Series = []chartSeries{leads, mqls, pipe, cost}
	v.Trend = trend
	if len(d.CostDays) > 0 {
		cc := &chart{ID: "cost-days", Kind: "bar", Format: "money"}
		cs := chartSeries{Name: loc.T("campaigns.col.cost")}
		for _, x := range d.CostDays {
			cc.X = append(cc.X, x.Day)
			cs.Data = append(cs.Data, yuan(x.Cost))
		}
		cc.Series = []chartSeries{cs}
		v.CostChart = cc
	}

	v.Children = campaignTable(loc, "children", d.Children, nil, cal)
	v.Children.Title = loc.T("campaigns.children_title")
	sp := &dataTable{ID: "spend", Loc: cal.Loc, Empty: loc.T("campaigns.spend_empty"), Columns: []column{
		{Key: "ad_group", Label: loc.T("campaigns.col.ad_group"), Kind: kindText},
		{Key: "keyword", Label: loc.T("campaigns.col.keyword"), Kind: kindText},
		{Key: "match", Label: loc.T("campaigns.col.match"), Kind: kindText},
		{Key: "cost", Label: loc.T("campaigns.col.cost"), Tip: loc.T("campaigns.tip.cost"), Kind: kindMoney},
		{Key: "impressions", Label: loc.T("campaigns.col.impressions"), Kind: kindInt},
		{Key: "clicks", Label: loc.T("campaigns.col.clicks"), Kind: kindInt},
		{Key: "ctr", Label: loc.T("campaigns.col.ctr"), Tip: loc.T("campaigns.tip.ctr"), Kind: kindPercent},
		{Key: "cpc", Label: loc.T("campaigns.col.cpc"), Tip: loc.T("campaigns.tip.cpc"), Kind: kindMoney},
	}}
	for _, l := range d.Spend {
		sp.Rows = append(sp.Rows, []cell{{V: l.AdGroup}, {V: l.Keyword}, {V: l.MatchType}, {V: l.Cost}, {V: l.Impressions}, {V: l.Clicks}, {V: l.CTR}, {V: l.CPC}})
	}
	v.Spend = sp
	sp.Title = loc.T("campaigns.spend_title")
	as := &dataTable{ID: "assets", Loc: cal.Loc, Empty: loc.T("campaigns.assets_empty"), Columns: []column{
		{Key: "title", Label: loc.T("campaigns.col.title"), Kind: kindText},
		{Key: "asset_kind", Label: loc.T("campaigns.col.kind"), Kind: kindText},
		{Key: "url", Label: loc.T("campaigns.col.url"), Kind: kindText},
	}}
	for _, a := range d.Assets {
		as.Rows = append(as.Rows, []cell{{V: campaignName(loc, a.Title, a.TitleEN)}, {V: a.Kind}, {V: a.URL}})
	}
	v.Assets = as
	as.Title = loc.T("campaigns.assets_title")

	base := s.publicBase(r)
	v.ShortBase = base
	ls, err := s.store.TrackedLinks(r.Context(), id, 200)
	if err != nil {
		return v, err
	}
	lt := &dataTable{ID: "links", Loc: cal.Loc, Empty: loc.T("campaigns.links_empty"), Columns: []column{
		{Key: "short_url", Label: loc.T("campaigns.col.short_url"), Kind: kindText},
		{Key: "target", Label: loc.T("campaigns.col.target"), Kind: kindText},
		{Key: "utm", Label: loc.T("campaigns.col.utm"), Kind: kindText},
		{Key: "promoter", Label: loc.T("campaigns.col.promoter"), Kind: kindText},
		{Key: "qr", Label: loc.T("campaigns.col.qr"), Kind: kindText},
		{Key: "created", Label: loc.T("campaigns.col.created"), Kind: kindTime},
		{Key: "state", Label: loc.T("campaigns.col.state"), Kind: kindText},
	}}
	for _, l := range ls {
		short := base + "/r/" + l.Code
		state := loc.T("campaigns.link_live")
		if l.RevokedAt != nil {
			state = loc.T("campaigns.link_revoked")
		}
		utm := "utm_source=" + l.UTMSource + " · utm_medium=" + l.UTMMedium + " · utm_campaign=" + l.UTMCampaign
		if l.UTMContent != "" {
			utm += " · utm_content=" + l.UTMContent
		}
		lt.Rows = append(lt.Rows, []cell{{V: short, Href: "/r/" + l.Code + "/qr.svg"}, {V: l.TargetURL}, {V: utm}, {V: l.PromoterEmail},
			{V: "PNG", Text: "PNG · SVG", Href: "/r/" + l.Code + "/qr.png"}, {V: l.CreatedAt}, {V: state}})
	}
	v.Links = lt
	lt.Title = loc.T("campaigns.links_title")
	v.LinkForm = campaignLinkForm{URL: c.LandingURL, Source: "revloop_link", Medium: "tracked_link"}

	after, _ := strconv.ParseInt(r.URL.Query().Get("members_cursor"), 10, 64)
	win := f.Period.Window()
	mp, err := s.store.CampaignMembers(r.Context(), id, win.From, win.To, after, membersPerPage)
	if err != nil {
		return v, err
	}
	v.MemberN = mp.Total
	mt := membersTable(loc, cal)
	for _, m := range mp.Members {
		mt.Rows = append(mt.Rows, memberCells(loc, m))
	}
	if mp.Next != 0 {
		q := cloneQuery(r.URL.Query(), "export")
		q.Set("members_cursor", strconv.FormatInt(mp.Next, 10))
		mt.Next = r.URL.Path + "?" + q.Encode() + "#members"
	}
	v.Members = mt
	return v, nil
}

// formatTarget prints a target: money for the money ones.
func formatTarget(id string, x float64) string {
	switch id {
	case "cost", "credited_pipeline", "credited_revenue":
		return formatMoney(model.Money(x))
	}
	return formatInt(int64(x))
}

// touchTypesText says how a person touched a campaign: "registered ×1 ·
// attended ×1", the types in a stable order.
func touchTypesText(loc Locale, types map[string]int64) string {
	keys := make([]string, 0, len(types))
	for k := range types {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		name := k
		if t := "campaigns.touch." + k; loc.T(t) != t {
			name = loc.T(t)
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", name, types[k]))
	}
	return strings.Join(parts, " · ")
}

func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	loc := s.catalog.locale(langOnly(r))
	v, err := s.campaignData(r, loc, id)
	if s.pageFailed(w, r, err, "campaigns.error.not_found", "campaign page", func(text string) {
		v.Error = text
		s.render(w, r, http.StatusBadRequest, "campaign", "campaigns.detail_title", v)
	}) {
		return
	}
	u, _ := userFrom(r.Context())
	v.CanEdit = canEditCampaigns(u.Role)
	if n := r.URL.Query().Get("done"); n == "created" || n == "saved" || n == "link" || n == "archived" || n == "restored" {
		v.Notice = loc.T("campaigns.done." + n)
	}
	for _, t := range []*dataTable{v.Children, v.Spend, v.Assets, v.Links, v.Members} {
		t.prepare(r, "", false)
	}
	if s.exportList(w, r, "members", exportName("campaign-"+v.Campaign.Code, "members", v.Filter), func() (listExport, error) {
		return s.membersExport(r, loc, id, v.Filter)
	}) || s.exportTable(w, r, "campaign-"+v.Campaign.Code, v.Filter, v.Children, v.Spend, v.Assets, v.Links, v.Members) {
		return
	}
	s.render(w, r, http.StatusOK, "campaign", "campaigns.detail_title", v)
}

func (s *Server) apiCampaign(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "id: want a campaign id")
		return
	}
	format, err := apiFormat(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	v, err := s.campaignData(r, s.fileLocale(r, format), id)
	if s.apiFailed(w, r, err, fmt.Sprintf("no campaign %d", id)) {
		return
	}
	if format != formatJSON {
		s.campaignFiles(w, r, format, id, v)
		return
	}
	var ls []linkJSON
	ts, err := s.store.TrackedLinks(r.Context(), id, 200)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	for _, l := range ts {
		ls = append(ls, linkView(v.ShortBase, l))
	}
	d := v.Data
	writeJSON(w, http.StatusOK, map[string]any{"model": v.Filter.Model, "from": v.Filter.From, "to": v.Filter.To, "currency": "CNY",
		"campaign": d.Row, "version": d.Version, "targets": orEmpty(d.Targets), "grain": d.Grain, "trend": orEmpty(d.Trend),
		"cost_by_day": orEmpty(d.CostDays), "children": orEmptyRows(d.Children), "ad_groups_keywords": orEmpty(d.Spend),
		"content_assets": orEmpty(d.Assets), "tracked_links": orEmpty(ls), "members": v.MemberN})
}

func orEmpty[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// memberJSON is a member of a campaign in the API.
type memberJSON struct {
	PersonID int64            `json:"person_id"`
	Name     string           `json:"name"`
	Email    string           `json:"email"`
	Account  string           `json:"account"`
	Stage    model.Stage      `json:"stage"`
	Grade    string           `json:"grade"`
	Touches  int64            `json:"touches"`
	Types    map[string]int64 `json:"how"`
	First    time.Time        `json:"first_touch_at"`
	Last     time.Time        `json:"last_touch_at"`
}

func (s *Server) apiCampaignMembers(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "id: want a campaign id")
		return
	}
	format, err := apiFormat(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	if _, err := s.store.CampaignByID(r.Context(), id); errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no campaign %d", id))
		return
	} else if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	f, err := s.filterOf(r, nil, "")
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	if format != formatJSON {
		s.campaignMemberFiles(w, r, format, id, f)
		return
	}
	q := r.URL.Query()
	limit := membersPerPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeJSONError(w, http.StatusBadRequest, "limit: a whole number from 1 to 500")
			return
		}
		limit = n
	}
	var after int64
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeJSONError(w, http.StatusBadRequest, "cursor: the next_cursor of the previous page")
			return
		}
		after = n
	}
	win := f.Period.Window()
	mp, err := s.store.CampaignMembers(r.Context(), id, win.From, win.To, after, limit)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	out := []memberJSON{}
	for _, m := range mp.Members {
		out = append(out, memberJSON{PersonID: m.PersonID, Name: m.Name, Email: m.Email, Account: m.Account, Stage: m.Stage, Grade: m.Grade,
			Touches: m.Touches, Types: m.Types, First: m.First, Last: m.Last})
	}
	var next any
	if mp.Next != 0 {
		next = strconv.FormatInt(mp.Next, 10)
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": f.From, "to": f.To, "total": mp.Total, "members": out, "next_cursor": next})
}

// ---- create and edit ----

// campaignFormView is the create/edit form.
type campaignFormView struct {
	New       bool
	ID        int64
	Version   int64
	F         map[string]string // field values as typed
	Errors    map[string]string // field → translated message
	Error     string            // the form as a whole
	Warning   string            // the code change that needs confirming
	Confirm   bool
	Kinds     []string
	Channels  []model.Channel
	Platforms []string
	Users     []model.User
	Parents   []model.Campaign
	// The form's money and count fields, in order.
	MoneyFields, CountFields []string
}

func (campaignFormView) NavKey() string { return "campaigns" }

var campaignFields = []string{"code", "name", "name_en", "kind", "channel", "platform", "start_date", "end_date", "budget",
	"owner_id", "parent_id", "landing_url", "target_leads", "target_mqls", "target_opportunities", "target_pipeline", "target_revenue"}

func campaignFormValues(c model.Campaign) map[string]string {
	day := func(d time.Time) string {
		if d.IsZero() {
			return ""
		}
		return d.Format(dateLayout)
	}
	money := func(m model.Money) string {
		if m == 0 {
			return ""
		}
		return m.String()
	}
	count := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	id := func(n int64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	return map[string]string{"code": c.Code, "name": c.Name, "name_en": c.NameEN, "kind": c.Kind, "channel": string(c.Channel),
		"platform": c.Platform, "start_date": day(c.StartDate), "end_date": day(c.EndDate), "budget": money(c.Budget),
		"owner_id": id(c.OwnerID), "parent_id": id(c.ParentID), "landing_url": c.LandingURL, "target_leads": count(c.TargetLeads),
		"target_mqls": count(c.TargetMQLs), "target_opportunities": count(c.TargetOpportunities),
		"target_pipeline": money(c.TargetPipeline), "target_revenue": money(c.TargetRevenue)}
}

func (s *Server) renderCampaignForm(w http.ResponseWriter, r *http.Request, code int, v campaignFormView) {
	users, err := s.store.Users(r.Context(), "")
	if err != nil {
		s.pageInternal(w, r, "campaign form", err)
		return
	}
	all, err := s.store.AllCampaigns(r.Context())
	if err != nil {
		s.pageInternal(w, r, "campaign form", err)
		return
	}
	for _, u := range users {
		if u.DisabledAt == nil || strconv.FormatInt(u.ID, 10) == v.F["owner_id"] {
			v.Users = append(v.Users, u)
		}
	}
	for _, c := range all {
		if c.ID != v.ID && (c.ArchivedAt == nil || strconv.FormatInt(c.ID, 10) == v.F["parent_id"]) {
			v.Parents = append(v.Parents, c)
		}
	}
	v.Kinds, v.Channels, v.Platforms = campaigns.Kinds, model.Channels, campaigns.Platforms
	v.MoneyFields = []string{"budget", "target_pipeline", "target_revenue"}
	v.CountFields = []string{"target_leads", "target_mqls", "target_opportunities"}
	if k := v.F["kind"]; k != "" && !slices.Contains(v.Kinds, k) {
		v.Kinds = append(slices.Clone(v.Kinds), k)
	}
	title := "campaigns.edit_title"
	if v.New {
		title = "campaigns.new_title"
	}
	s.render(w, r, code, "campaign_form", title, v)
}

func (s *Server) campaignNewPage(w http.ResponseWriter, r *http.Request) {
	v := campaignFormView{New: true, F: map[string]string{"channel": string(model.ChannelWebinar), "kind": "webinar"}, Errors: map[string]string{}}
	// A new campaign inside a programme: /campaigns/new?parent=ID.
	if p := r.URL.Query().Get("parent"); p != "" {
		if id, err := strconv.ParseInt(p, 10, 64); err == nil {
			if pc, err := s.store.CampaignByID(r.Context(), id); err == nil {
				v.F["parent_id"] = p
				v.F["channel"], v.F["kind"] = string(pc.Channel), pc.Kind
			}
		}
	}
	s.renderCampaignForm(w, r, http.StatusOK, v)
}

func (s *Server) campaignEditPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	c, err := s.store.CampaignByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound, "campaigns.error.not_found")
		return
	}
	if err != nil {
		s.pageInternal(w, r, "campaign form", err)
		return
	}
	s.renderCampaignForm(w, r, http.StatusOK, campaignFormView{ID: id, Version: c.Version, F: campaignFormValues(c), Errors: map[string]string{}})
}

// formInput reads the campaign form into an Input, with the errors of
// what does not parse (numbers, money) by field.
func formInput(loc Locale, form url.Values) (campaigns.Input, map[string]string, map[string]string) {
	f := map[string]string{}
	for _, k := range campaignFields {
		f[k] = strings.TrimSpace(form.Get(k))
	}
	errs := map[string]string{}
	str := func(k string) *string { v := f[k]; return &v }
	in := campaigns.Input{Code: str("code"), Name: str("name"), NameEN: str("name_en"), Kind: str("kind"), Channel: str("channel"),
		Platform: str("platform"), StartDate: str("start_date"), EndDate: str("end_date"), LandingURL: str("landing_url")}
	money := func(k string) *model.Money {
		var m model.Money
		if f[k] == "" {
			return &m
		}
		m, err := model.ParseMoney(strings.TrimPrefix(strings.TrimPrefix(f[k], "¥"), "￥"))
		if err != nil {
			errs[k] = loc.T("campaigns.error.money")
			return nil
		}
		return &m
	}
	count := func(k string) *int {
		var n int
		if f[k] == "" {
			return &n
		}
		n, err := strconv.Atoi(strings.ReplaceAll(f[k], ",", ""))
		if err != nil {
			errs[k] = loc.T("campaigns.error.count")
			return nil
		}
		return &n
	}
	id := func(k string) *int64 {
		var n int64
		if f[k] == "" {
			return &n
		}
		n, err := strconv.ParseInt(f[k], 10, 64)
		if err != nil || n < 0 {
			errs[k] = loc.T("campaigns.error." + strings.TrimSuffix(k, "_id"))
			return nil
		}
		return &n
	}
	in.Budget, in.TargetPipeline, in.TargetRevenue = money("budget"), money("target_pipeline"), money("target_revenue")
	in.TargetLeads, in.TargetMQLs, in.TargetOpportunities = count("target_leads"), count("target_mqls"), count("target_opportunities")
	in.OwnerID, in.ParentID = id("owner_id"), id("parent_id")
	// The form always carries the version it was read at.
	if n, err := strconv.ParseInt(form.Get("version"), 10, 64); err == nil {
		in.Version = &n
	}
	return in, f, errs
}

// fieldErrors translates what the campaign rules refused, by field.
func fieldErrors(loc Locale, err error, into map[string]string) bool {
	var ie *campaigns.InvalidError
	if !errors.As(err, &ie) {
		return false
	}
	for _, fe := range ie.Fields {
		if _, ok := into[fe.Field]; !ok {
			into[fe.Field] = loc.T(fe.Key, fe.Args...)
		}
	}
	return true
}

func (s *Server) campaignCreateSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "campaigns.error.bad_form")
		return
	}
	loc := s.catalog.locale(langOnly(r))
	in, f, errs := formInput(loc, r.PostForm)
	v := campaignFormView{New: true, F: f, Errors: errs}
	if len(errs) > 0 {
		v.Error = loc.T("campaigns.error.form")
		s.renderCampaignForm(w, r, http.StatusBadRequest, v)
		return
	}
	c, err := s.campaignService().Create(r.Context(), in)
	if fieldErrors(loc, err, v.Errors) {
		v.Error = loc.T("campaigns.error.form")
		s.renderCampaignForm(w, r, http.StatusBadRequest, v)
		return
	}
	if err != nil {
		s.pageInternal(w, r, "create campaign", err)
		return
	}
	s.log.Info("campaign created", "campaign_id", c.ID, "code", c.Code, "by", s.actor(r))
	http.Redirect(w, r, fmt.Sprintf("/campaigns/%d?done=created", c.ID), http.StatusSeeOther)
}

func (s *Server) campaignEditSubmit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.campaignPost(w, r, 64<<10)
	if !ok {
		return
	}
	loc := s.catalog.locale(langOnly(r))
	cur, err := s.store.CampaignByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound, "campaigns.error.not_found")
		return
	}
	if err != nil {
		s.pageInternal(w, r, "edit campaign", err)
		return
	}
	in, f, errs := formInput(loc, r.PostForm)
	v := campaignFormView{ID: id, Version: cur.Version, F: f, Errors: errs}
	if in.Version != nil {
		v.Version = *in.Version
	}
	if len(errs) > 0 {
		v.Error = loc.T("campaigns.error.form")
		s.renderCampaignForm(w, r, http.StatusBadRequest, v)
		return
	}
	// A new code on a campaign that links and touches carry needs a
	// second, confirmed submit.
	if in.Code != nil && *in.Code != cur.Code && r.PostForm.Get("confirm_code") != "1" {
		n, care, err := s.campaignService().CodeChangeNeedsCare(r.Context(), id)
		if err != nil {
			s.pageInternal(w, r, "edit campaign", err)
			return
		}
		if care {
			v.Warning = loc.T("campaigns.warn.code_changed", "old", cur.Code, "new", *in.Code, "n", formatInt(n))
			v.Confirm = true
			s.renderCampaignForm(w, r, http.StatusConflict, v)
			return
		}
	}
	c, _, err := s.campaignService().Update(r.Context(), id, in)
	switch {
	case errors.Is(err, campaigns.ErrStale):
		v.Error = loc.T("campaigns.error.stale")
		v.Version = cur.Version
		s.renderCampaignForm(w, r, http.StatusConflict, v)
		return
	case fieldErrors(loc, err, v.Errors):
		v.Error = loc.T("campaigns.error.form")
		s.renderCampaignForm(w, r, http.StatusBadRequest, v)
		return
	case err != nil:
		s.pageInternal(w, r, "edit campaign", err)
		return
	}
	s.log.Info("campaign changed", "campaign_id", c.ID, "code", c.Code, "version", c.Version, "by", s.actor(r))
	http.Redirect(w, r, fmt.Sprintf("/campaigns/%d?done=saved", c.ID), http.StatusSeeOther)
}

func (s *Server) campaignArchiveSubmit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.campaignPost(w, r, 16<<10)
	if !ok {
		return
	}
	archive := r.PostForm.Get("archive") != "0"
	err := s.store.ArchiveCampaign(r.Context(), id, archive, s.app.Now())
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound, "campaigns.error.not_found")
		return
	}
	if err != nil {
		s.pageInternal(w, r, "archive campaign", err)
		return
	}
	done := "archived"
	if !archive {
		done = "restored"
	}
	s.log.Info("campaign "+done, "campaign_id", id, "by", s.actor(r))
	http.Redirect(w, r, fmt.Sprintf("/campaigns/%d?done=%s", id, done), http.StatusSeeOther)
}

// campaignLinkSubmit creates a tracked link of the campaign from its
// page, with the campaign's code as utm_campaign.
func (s *Server) campaignLinkSubmit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.campaignPost(w, r, 16<<10)
	if !ok {
		return
	}
	c, err := s.store.CampaignByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound, "campaigns.error.not_found")
		return
	}
	if err != nil {
		s.pageInternal(w, r, "campaign link", err)
		return
	}
	pf := r.PostForm
	lf := campaignLinkForm{URL: strings.TrimSpace(pf.Get("url")), Source: strings.TrimSpace(pf.Get("utm_source")), Medium: strings.TrimSpace(pf.Get("utm_medium")),
		Content: strings.TrimSpace(pf.Get("utm_content")), Promoter: strings.TrimSpace(pf.Get("promoter"))}
	l, err := links.Create(r.Context(), s.store, links.Request{Campaign: c.Code, URL: lf.URL, Promoter: lf.Promoter, UTMSource: lf.Source,
		UTMMedium: lf.Medium, UTMContent: lf.Content}, s.app.Now())
	var ie *links.InputError
	if errors.As(err, &ie) {
		loc := s.catalog.locale(langOnly(r))
		v, derr := s.campaignData(r, loc, id)
		if derr != nil {
			s.pageInternal(w, r, "campaign link", derr)
			return
		}
		v.CanEdit = true
		lf.Error = loc.T("campaigns.error.link", "reason", ie.Msg)
		v.LinkForm = lf
		for _, t := range []*dataTable{v.Children, v.Spend, v.Assets, v.Links, v.Members} {
			t.prepare(r, "", false)
		}
		s.render(w, r, http.StatusBadRequest, "campaign", "campaigns.detail_title", v)
		return
	}
	if err != nil {
		s.pageInternal(w, r, "campaign link", err)
		return
	}
	s.log.Info("tracked link created", "link_id", l.ID, "campaign_id", id, "by", s.actor(r))
	http.Redirect(w, r, fmt.Sprintf("/campaigns/%d?done=link#links", id), http.StatusSeeOther)
}

// campaignJSON is a campaign as the write API answers it.
type campaignJSON struct {
	ID                  int64         `json:"id"`
	Code                string        `json:"code"`
	Name                string        `json:"name"`
	NameEN              string        `json:"name_en"`
	Kind                string        `json:"kind"`
	Channel             model.Channel `json:"channel"`
	Platform            string        `json:"platform"`
	StartDate           *string       `json:"start_date"`
	EndDate             *string       `json:"end_date"`
	Budget              model.Money   `json:"budget"`
	OwnerID             *int64        `json:"owner_id"`
	ParentID            *int64        `json:"parent_id"`
	LandingURL          string        `json:"landing_url"`
	TargetLeads         int           `json:"target_leads"`
	TargetMQLs          int           `json:"target_mqls"`
	TargetOpportunities int           `json:"target_opportunities"`
	TargetPipeline      model.Money   `json:"target_pipeline"`
	TargetRevenue       model.Money   `json:"target_revenue"`
	CreatedAt           time.Time     `json:"created_at"`
	UpdatedAt           *time.Time    `json:"updated_at"`
	Version             int64         `json:"version"`
	ArchivedAt          *time.Time    `json:"archived_at"`
}

func newCampaignJSON(c model.Campaign) campaignJSON {
	day := func(d time.Time) *string {
		if d.IsZero() {
			return nil
		}
		s := d.Format(dateLayout)
		return &s
	}
	id := func(n int64) *int64 {
		if n == 0 {
			return nil
		}
		return &n
	}
	return campaignJSON{ID: c.ID, Code: c.Code, Name: c.Name, NameEN: c.NameEN, Kind: c.Kind, Channel: c.Channel, Platform: c.Platform,
		StartDate: day(c.StartDate), EndDate: day(c.EndDate), Budget: c.Budget, OwnerID: id(c.OwnerID), ParentID: id(c.ParentID),
		LandingURL: c.LandingURL, TargetLeads: c.TargetLeads, TargetMQLs: c.TargetMQLs, TargetOpportunities: c.TargetOpportunities,
		TargetPipeline: c.TargetPipeline, TargetRevenue: c.TargetRevenue, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		Version: c.Version, ArchivedAt: c.ArchivedAt}
}

// campaignAPIError answers what the campaign rules refused: 400 with every
// field, 409 for a stale version.
func campaignAPIError(w http.ResponseWriter, err error) bool {
	var ie *campaigns.InvalidError
	switch {
	case errors.As(err, &ie):
		fields := map[string]string{}
		for _, f := range ie.Fields {
			fields[f.Field] = f.Msg
		}
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": ie.Error(), "fields": fields})
		return true
	case errors.Is(err, campaigns.ErrStale):
		writeJSONError(w, http.StatusConflict, "version: the campaign was changed since you read it; read it again (GET) and send its version")
		return true
	}
	return false
}

const campaignBodyWant = `with code, name, name_en, kind, channel, platform, start_date, end_date, budget, owner_id, parent_id, landing_url, target_* and version`

func (s *Server) apiCreateCampaign(w http.ResponseWriter, r *http.Request) {
	var in campaigns.Input
	if !decodeBody(w, r, &in, campaignBodyWant) {
		return
	}
	c, err := s.campaignService().Create(r.Context(), in)
	if campaignAPIError(w, err) {
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	s.log.Info("campaign created", "campaign_id", c.ID, "code", c.Code, "by", s.actor(r))
	writeJSON(w, http.StatusCreated, map[string]any{"campaign": newCampaignJSON(c)})
}

// apiUpdateCampaign answers PUT (every field; an absent one is cleared to
// its default) and PATCH (only the fields sent).
func (s *Server) apiUpdateCampaign(partial bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := pageID(r)
		if !ok {
			writeJSONError(w, http.StatusBadRequest, "id: want a campaign id")
			return
		}
		var in campaigns.Input
		if !decodeBody(w, r, &in, campaignBodyWant) {
			return
		}
		if !partial {
			in = fullInput(in)
		}
		c, warnings, err := s.campaignService().Update(r.Context(), id, in)
		if errors.Is(err, store.ErrNotFound) {
			writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no campaign %d", id))
			return
		}
		if campaignAPIError(w, err) {
			return
		}
		if err != nil {
			s.apiInternal(w, r, err)
			return
		}
		msgs := []string{}
		for _, wn := range warnings {
			msgs = append(msgs, wn.Msg)
		}
		s.log.Info("campaign changed", "campaign_id", c.ID, "code", c.Code, "version", c.Version, "by", s.actor(r))
		writeJSON(w, http.StatusOK, map[string]any{"campaign": newCampaignJSON(c), "warnings": msgs})
	}
}

// fullInput is a PUT body: the fields it leaves out are cleared.
func fullInput(in campaigns.Input) campaigns.Input {
	empty := ""
	var zeroM model.Money
	var zeroN int
	var zeroID int64
	for _, p := range []**string{&in.NameEN, &in.Kind, &in.Platform, &in.StartDate, &in.EndDate, &in.LandingURL} {
		if *p == nil {
			*p = &empty
		}
	}
	for _, p := range []**model.Money{&in.Budget, &in.TargetPipeline, &in.TargetRevenue} {
		if *p == nil {
			*p = &zeroM
		}
	}
	for _, p := range []**int{&in.TargetLeads, &in.TargetMQLs, &in.TargetOpportunities} {
		if *p == nil {
			*p = &zeroN
		}
	}
	for _, p := range []**int64{&in.OwnerID, &in.ParentID} {
		if *p == nil {
			*p = &zeroID
		}
	}
	return in
}

// campaignPost reads the campaign id of a form posted to one campaign's
// page and the form itself (at most limit bytes), answering the error
// page (404, 400) when either is bad.
func (s *Server) campaignPost(w http.ResponseWriter, r *http.Request, limit int64) (int64, bool) {
	id, ok := pageID(r)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return 0, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "campaigns.error.bad_form")
		return 0, false
	}
	return id, true
}
