package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The advertising dashboard: the paid campaigns (paid search, paid
// social, display) by platform, then one platform's campaigns, one
// campaign's ad groups, one ad group's keywords — spend and delivery,
// the leads their touches made and how far those got, the pipeline and
// revenue credited to them under the chosen model — with a trend and
// the best and worst keywords of the scope.

// AdChannels are the channels whose campaigns are advertising.
var AdChannels = []string{string(model.ChannelPaidSearch), string(model.ChannelPaidSocial), string(model.ChannelDisplay)}

// Ads levels, from the top.
const (
	LevelPlatform = "platform"
	LevelCampaign = "campaign"
	LevelAdGroup  = "ad_group"
	LevelKeyword  = "keyword"
)

// Trend grains.
const (
	GrainDay   = "day"
	GrainWeek  = "week"
	GrainMonth = "month"
)

// Keyword rankings.
const (
	RankCPL        = "cpl"
	RankCostPerMQL = "cost_per_mql"
)

// DefaultMinSpend is the spend a keyword needs in the range to be ranked
// best or worst: ¥1,000.
const DefaultMinSpend model.Money = 100000

// RankedKeywords is how many keywords each of the best and worst lists
// holds at most.
const RankedKeywords = 10

// MaxTrendDays bounds a daily trend.
const MaxTrendDays = 400

// AdsQuery is what the advertising dashboard shows: a dashboard range and
// model, the scope (nothing: every platform; a platform; a campaign; an
// ad group), the trend's grain and the keyword ranking.
type AdsQuery struct {
	DashQuery
	Platform   string
	CampaignID int64
	AdGroupID  int64
	Grain      string // "" picks by the range's length
	MinSpend   model.Money
	RankBy     string // cpl (default) or cost_per_mql
}

// PlatformName is a platform's name in Chinese and in English.
type PlatformName struct{ ZH, EN string }

// platformNames names the platforms revloop knows; others show their key.
var platformNames = map[string]PlatformName{
	"baidu":        {"百度营销", "Baidu"},
	"oceanengine":  {"巨量引擎", "Ocean Engine"},
	"tencent_ads":  {"腾讯广告", "Tencent Ads"},
	"google_ads":   {"谷歌广告", "Google Ads"},
	"linkedin_ads": {"领英广告", "LinkedIn Ads"},
	"bing_ads":     {"微软必应广告", "Microsoft Bing Ads"},
	"sogou":        {"搜狗推广", "Sogou"},
	"360":          {"360 推广", "360 Search"},
	"so360":        {"360 推广", "360 Search"},
	"shenma":       {"神马搜索", "Shenma"},
	"weibo":        {"微博广告", "Weibo Ads"},
	"xiaohongshu":  {"小红书", "Xiaohongshu"},
	"zhihu":        {"知乎", "Zhihu"},
	"bilibili":     {"哔哩哔哩", "Bilibili"},
	"wechat":       {"微信广告", "WeChat Ads"},
	"facebook_ads": {"Facebook 广告", "Facebook Ads"},
	"36kr":         {"36氪", "36Kr"},
	"huxiu":        {"虎嗅", "Huxiu"},
	"":             {"未指定平台", "No platform"},
}

// NoPlatform is the platform key (?platform=none) of the advertising
// campaigns that name no platform.
const NoPlatform = "none"

// PlatformKey is how a URL names a campaign's platform: its key, or
// NoPlatform for none.
func PlatformKey(p string) string {
	if p == "" {
		return NoPlatform
	}
	return p
}

// NameOfPlatform names a platform in both languages.
func NameOfPlatform(p string) PlatformName {
	if n, ok := platformNames[p]; ok {
		return n
	}
	return PlatformName{p, p}
}

// Ads is the advertising dashboard, page and API alike.
type Ads struct {
	From     string `json:"from"`
	To       string `json:"to"`
	TimeZone string `json:"time_zone"`
	Model    string `json:"model"`
	Currency string `json:"currency"`
	// Level is what the rows are: platform, campaign, ad_group or keyword;
	// Path the scope above them, from the platform down.
	Level string    `json:"level"`
	Path  []AdCrumb `json:"path"`
	Rows  []AdsRow  `json:"rows"`
	// Total is the scope's figures: the rows summed.
	Total AdsRow `json:"total"`

	Grain string      `json:"grain"`
	Trend []AdsPeriod `json:"trend"`

	RankBy   string      `json:"rank_by"`
	MinSpend model.Money `json:"min_spend"`
	Best     []AdsRow    `json:"best_keywords"`
	Worst    []AdsRow    `json:"worst_keywords"`
}

// AdCrumb is one step of the scope.
type AdCrumb struct {
	Level  string `json:"level"`
	Key    string `json:"key"` // the platform, or the id
	Name   string `json:"name"`
	NameEN string `json:"name_en"`
}

// AdsRow is the figures of one platform, campaign, ad group or keyword.
type AdsRow struct {
	Level  string `json:"level,omitempty"`
	Key    string `json:"key"` // the platform, or the id; "0" for spend without an ad group or keyword
	Name   string `json:"name"`
	NameEN string `json:"name_en"`
	// Platform and CampaignID place a campaign, ad group or keyword.
	Platform   string `json:"platform,omitempty"`
	CampaignID int64  `json:"campaign_id,omitempty"`

	Spend       model.Money  `json:"spend"`
	Impressions int64        `json:"impressions"`
	Clicks      int64        `json:"clicks"`
	CTR         *float64     `json:"ctr"`
	CPC         *model.Money `json:"cpc"`
	Leads       int64        `json:"leads"`
	CPL         *model.Money `json:"cpl"`
	MQLs        int64        `json:"mqls"`
	CostPerMQL  *model.Money `json:"cost_per_mql"`
	SQLs        int64        `json:"sqls"`
	CostPerSQL  *model.Money `json:"cost_per_sql"`
	// Credited under the model: opportunities created and won deals
	// closed in the range.
	CreditedOpportunities float64     `json:"credited_opportunities"`
	CreditedPipeline      model.Money `json:"credited_pipeline"`
	CreditedWonRevenue    model.Money `json:"credited_won_revenue"`
	ROAS                  *float64    `json:"roas"`
	ROI                   *float64    `json:"roi"`

	pipelineFen, wonFen float64
}

// AdsPeriod is one day, week or month of the trend.
type AdsPeriod struct {
	Start       string       `json:"start"` // YYYY-MM-DD, the period's first day
	Spend       model.Money  `json:"spend"`
	Impressions int64        `json:"impressions"`
	Clicks      int64        `json:"clicks"`
	Leads       int64        `json:"leads"`
	MQLs        int64        `json:"mqls"`
	CPL         *model.Money `json:"cpl"`
}

// AdsError is a scope or parameter the caller must fix.
type AdsError struct {
	Param, Msg string
	NotFound   bool // the platform, campaign or ad group does not exist
}

func (e *AdsError) Error() string { return e.Param + ": " + e.Msg }

// GrainFor is the default trend grain of a range of n days.
func GrainFor(days int) string {
	switch {
	case days > 0 && days <= 31:
		return GrainDay
	case days > 0 && days <= 182:
		return GrainWeek
	}
	return GrainMonth
}

// adScope is what the query selects: the campaigns in scope, and within
// one ad group its keywords.
type adScope struct {
	campaigns map[int64]store.CampaignFact
	ids       []int64 // campaigns in scope, sorted
	groups    map[int64]store.AdGroupFact
	keywords  map[int64]store.KeywordFact
	adGroup   *store.AdGroupFact
	groupKWs  []int64 // the ad group's keywords
}

// LoadAds computes the advertising dashboard.
func LoadAds(ctx context.Context, s *store.Store, q AdsQuery) (Ads, error) {
	col, err := ModelColumn(q.Model)
	if err != nil {
		return Ads{}, err
	}
	if q.RankBy == "" {
		q.RankBy = RankCPL
	}
	if q.MinSpend <= 0 {
		q.MinSpend = DefaultMinSpend
	}
	from, to := q.days()
	a := Ads{Model: string(q.Model), Currency: "CNY", TimeZone: q.Period.Cal.Loc.String(), RankBy: q.RankBy, MinSpend: q.MinSpend, To: to.Format(time.DateOnly)}
	if !from.IsZero() {
		a.From = from.Format(time.DateOnly)
	}
	a.Grain = q.Grain
	if a.Grain == "" {
		a.Grain = GrainFor(model.Period{From: from, To: to}.Days())
	}
	if a.Grain == GrainDay && (from.IsZero() || model.Period{From: from, To: to}.Days() > MaxTrendDays) {
		return a, &AdsError{Param: "grain", Msg: fmt.Sprintf("a daily trend covers at most %d days: narrow the range or use week or month", MaxTrendDays)}
	}
	sc, err := loadScope(ctx, s, q, &a)
	if err != nil {
		return a, err
	}
	rq := store.RollupQuery{From: from, To: to}

	// Every figure of the scope at the finest grain (campaign, ad group,
	// keyword), then folded into the rows of the level shown.
	costs, leads, credited, err := scopeSums(ctx, s, sc, rq, col)
	if err != nil {
		return a, err
	}
	kwRows := map[int64]*AdsRow{} // by keyword, for the rankings
	rows := map[string]*AdsRow{}
	get := func(key string) *AdsRow {
		r, ok := rows[key]
		if !ok {
			r = &AdsRow{Level: a.Level, Key: key}
			rows[key] = r
		}
		return r
	}
	kw := func(id int64) *AdsRow {
		if id == 0 {
			return nil
		}
		r, ok := kwRows[id]
		if !ok {
			r = &AdsRow{Level: LevelKeyword, Key: strconv.FormatInt(id, 10)}
			kwRows[id] = r
		}
		return r
	}
	keyOf := func(campaign, adGroup, keyword int64) string {
		switch a.Level {
		case LevelPlatform:
			return sc.campaigns[campaign].Platform
		case LevelCampaign:
			return strconv.FormatInt(campaign, 10)
		case LevelAdGroup:
			if adGroup == 0 && keyword != 0 {
				adGroup = sc.keywords[keyword].AdGroupID
			}
			return strconv.FormatInt(adGroup, 10)
		}
		return strconv.FormatInt(keyword, 10)
	}
	for _, c := range costs {
		for _, r := range []*AdsRow{get(keyOf(c.CampaignID, c.AdGroupID, c.KeywordID)), kw(c.KeywordID)} {
			if r != nil {
				r.Spend = store.AddTotal(r.Spend, c.Cost)
				r.Impressions += c.Impressions
				r.Clicks += c.Clicks
			}
		}
	}
	for _, l := range leads {
		for _, r := range []*AdsRow{get(keyOf(l.CampaignID, 0, l.KeywordID)), kw(l.KeywordID)} {
			if r != nil {
				r.Leads += l.Leads
				r.MQLs += l.MQLs
				r.SQLs += l.SQLs
			}
		}
	}
	for _, c := range credited {
		for _, r := range []*AdsRow{get(keyOf(c.CampaignID, 0, c.KeywordID)), kw(c.KeywordID)} {
			if r == nil {
				continue
			}
			if c.Kind == model.ConvOpportunity {
				r.pipelineFen += c.Fen
				r.CreditedOpportunities += c.Conversions
			} else {
				r.wonFen += c.Fen
			}
		}
	}
	a.Rows = make([]AdsRow, 0, len(rows))
	a.Total = AdsRow{Level: "total", Key: "total"}
	for _, r := range rows {
		sc.name(r, a.Level)
		finishAds(r)
		a.Rows = append(a.Rows, *r)
		a.Total.add(r)
	}
	a.Total.ratios()
	slices.SortFunc(a.Rows, func(x, y AdsRow) int {
		return cmp.Or(cmp.Compare(y.Spend, x.Spend), cmp.Compare(y.Leads, x.Leads), cmp.Compare(x.Key, y.Key))
	})

	// The best and worst keywords of the scope.
	var ranked []AdsRow
	for _, r := range kwRows {
		if r.Spend < q.MinSpend {
			continue
		}
		sc.name(r, LevelKeyword)
		finishAds(r)
		ranked = append(ranked, *r)
	}
	a.Best, a.Worst = rankKeywords(ranked, q.RankBy)

	// The trend.
	if a.Trend, err = adsTrend(ctx, s, sc, rq, a.Grain, from, to); err != nil {
		return a, err
	}
	return a, nil
}

// loadScope reads the campaigns, checks the scope asked for, sets the
// level and path of a, and reads the ad groups and keywords in scope.
func loadScope(ctx context.Context, s *store.Store, q AdsQuery, a *Ads) (*adScope, error) {
	all, err := s.CampaignFacts(ctx)
	if err != nil {
		return nil, fmt.Errorf("advertising dashboard: campaigns: %w", err)
	}
	sc := &adScope{campaigns: map[int64]store.CampaignFact{}, groups: map[int64]store.AdGroupFact{}, keywords: map[int64]store.KeywordFact{}}
	for _, c := range all {
		if slices.Contains(AdChannels, c.Channel) {
			sc.campaigns[c.ID] = c
		}
	}
	platform, scoped := q.Platform, q.Platform != ""
	if platform == NoPlatform {
		platform = "" // the campaigns without a platform
	}
	var campaign *store.CampaignFact
	if q.CampaignID != 0 {
		c, ok := sc.campaigns[q.CampaignID]
		if !ok {
			return nil, &AdsError{Param: "campaign", Msg: fmt.Sprintf("no advertising campaign has id %d", q.CampaignID), NotFound: true}
		}
		if scoped && platform != c.Platform {
			return nil, &AdsError{Param: "platform", Msg: fmt.Sprintf("campaign %d is on platform %q, not %q", c.ID, c.Platform, clipText(platform)), NotFound: true}
		}
		platform, campaign = c.Platform, &c
	} else if q.AdGroupID != 0 {
		return nil, &AdsError{Param: "ad_group", Msg: "an ad group needs its campaign (campaign=ID)"}
	}
	if scoped && campaign == nil {
		found := false
		for _, c := range sc.campaigns {
			if c.Platform == platform {
				found = true
				break
			}
		}
		if !found {
			return nil, &AdsError{Param: "platform", Msg: fmt.Sprintf("no advertising campaign is on platform %q", clipText(platform)), NotFound: true}
		}
	}
	a.Level = LevelPlatform
	a.Path = []AdCrumb{}
	if scoped || campaign != nil {
		n := NameOfPlatform(platform)
		a.Level = LevelCampaign
		a.Path = append(a.Path, AdCrumb{Level: LevelPlatform, Key: PlatformKey(platform), Name: n.ZH, NameEN: n.EN})
	}
	for id, c := range sc.campaigns {
		if a.Level == LevelPlatform || c.Platform == platform && (campaign == nil || id == campaign.ID) {
			sc.ids = append(sc.ids, id)
		}
	}
	slices.Sort(sc.ids)
	if campaign != nil {
		a.Level = LevelAdGroup
		a.Path = append(a.Path, AdCrumb{Level: LevelCampaign, Key: strconv.FormatInt(campaign.ID, 10), Name: campaign.Name, NameEN: orName(campaign.NameEN, campaign.Name)})
	}
	// Ad groups and keywords name the rows below a campaign and the
	// ranked keywords at every level.
	groups, keywords, err := s.AdStructure(ctx, sc.ids)
	if err != nil {
		return nil, fmt.Errorf("advertising dashboard: ad groups and keywords: %w", err)
	}
	for _, g := range groups {
		sc.groups[g.ID] = g
	}
	for _, k := range keywords {
		sc.keywords[k.ID] = k
	}
	if q.AdGroupID != 0 {
		g, ok := sc.groups[q.AdGroupID]
		if !ok {
			return nil, &AdsError{Param: "ad_group", Msg: fmt.Sprintf("campaign %d has no ad group %d", q.CampaignID, q.AdGroupID), NotFound: true}
		}
		sc.adGroup = &g
		for _, k := range sc.keywords {
			if k.AdGroupID == g.ID {
				sc.groupKWs = append(sc.groupKWs, k.ID)
			}
		}
		slices.Sort(sc.groupKWs)
		a.Level = LevelKeyword
		a.Path = append(a.Path, AdCrumb{Level: LevelAdGroup, Key: strconv.FormatInt(g.ID, 10), Name: g.Name, NameEN: g.Name})
	}
	return sc, nil
}

func orName(en, zh string) string {
	if en == "" {
		return zh
	}
	return en
}

// name fills a row's names at a level.
func (sc *adScope) name(r *AdsRow, level string) {
	id, _ := strconv.ParseInt(r.Key, 10, 64)
	switch level {
	case LevelPlatform:
		n := NameOfPlatform(r.Key)
		r.Name, r.NameEN, r.Platform = n.ZH, n.EN, r.Key
	case LevelCampaign:
		c := sc.campaigns[id]
		r.Name, r.NameEN, r.Platform, r.CampaignID = c.Name, orName(c.NameEN, c.Name), c.Platform, c.ID
	case LevelAdGroup:
		if g, ok := sc.groups[id]; ok {
			r.Name, r.NameEN, r.CampaignID = g.Name, g.Name, g.CampaignID
			r.Platform = sc.campaigns[g.CampaignID].Platform
		} else {
			r.Name, r.NameEN = "（无广告组）", "(no ad group)"
		}
	case LevelKeyword:
		if k, ok := sc.keywords[id]; ok {
			r.Name, r.NameEN, r.CampaignID = k.Text, k.Text, k.CampaignID
			r.Platform = sc.campaigns[k.CampaignID].Platform
		} else {
			r.Name, r.NameEN = "（无关键词）", "(no keyword)"
		}
	}
}

// scopeSums reads the costs, leads and credits of the scope, by campaign,
// ad group (costs) and keyword.
func scopeSums(ctx context.Context, s *store.Store, sc *adScope, rq store.RollupQuery, col string) ([]store.CostSum, []store.LeadSum, []store.CreditedSum, error) {
	if len(sc.ids) == 0 {
		return nil, nil, nil, nil
	}
	cq := withBy(rq, store.DimCampaign, store.DimAdGroup, store.DimKeyword)
	cq.Campaigns = sc.ids
	if sc.adGroup != nil {
		cq.AdGroups = []int64{sc.adGroup.ID}
	}
	costs, err := s.SumCosts(ctx, cq)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("advertising dashboard: costs: %w", err)
	}
	if sc.adGroup != nil && len(sc.groupKWs) == 0 {
		return costs, nil, nil, nil // no keyword: no lead or credit can be the ad group's
	}
	lq := withBy(rq, store.DimCampaign, store.DimKeyword)
	lq.Campaigns = sc.ids
	if sc.adGroup != nil {
		lq.Keywords = sc.groupKWs
	}
	leads, err := s.SumLeads(ctx, lq)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("advertising dashboard: leads: %w", err)
	}
	kq := withBy(lq, store.DimKind, store.DimCampaign, store.DimKeyword)
	kq.Kinds = []model.ConversionKind{model.ConvOpportunity, model.ConvWon}
	credited, err := s.SumCredits(ctx, kq, col)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("advertising dashboard: credits: %w", err)
	}
	return costs, leads, credited, nil
}

func (r *AdsRow) add(x *AdsRow) {
	r.Spend = store.AddTotal(r.Spend, x.Spend)
	r.Impressions += x.Impressions
	r.Clicks += x.Clicks
	r.Leads += x.Leads
	r.MQLs += x.MQLs
	r.SQLs += x.SQLs
	r.CreditedOpportunities = round2(r.CreditedOpportunities + x.CreditedOpportunities)
	// Rounded rows add up to the total.
	r.CreditedPipeline = store.AddTotal(r.CreditedPipeline, x.CreditedPipeline)
	r.CreditedWonRevenue = store.AddTotal(r.CreditedWonRevenue, x.CreditedWonRevenue)
}

// finishAds rounds a row's credited figures and computes its ratios.
func finishAds(r *AdsRow) {
	r.CreditedOpportunities = round2(r.CreditedOpportunities)
	r.CreditedPipeline, r.CreditedWonRevenue = fenMoney(r.pipelineFen), fenMoney(r.wonFen)
	r.ratios()
}

// ratios computes a row's rates and costs per result from its sums.
func (r *AdsRow) ratios() {
	r.CTR = ratio(r.Clicks, r.Impressions)
	r.ROAS = roasOf(r.CreditedWonRevenue, r.Spend)
	r.ROI = moneyROI(r.CreditedWonRevenue, r.Spend)
	if store.Saturated(r.Spend) {
		return
	}
	r.CPC, r.CPL = perUnit(r.Spend, r.Clicks), perUnit(r.Spend, r.Leads)
	r.CostPerMQL, r.CostPerSQL = perUnit(r.Spend, r.MQLs), perUnit(r.Spend, r.SQLs)
}

// rankKeywords orders the keywords that spent enough by what a result
// cost them (CPL or cost per MQL; none is worst, then by spend) and
// returns the cheapest as the best and the dearest as the worst, at most
// RankedKeywords each and never the same keyword in both.
func rankKeywords(rows []AdsRow, by string) ([]AdsRow, []AdsRow) {
	cost := func(r AdsRow) *model.Money {
		if by == RankCostPerMQL {
			return r.CostPerMQL
		}
		return r.CPL
	}
	slices.SortFunc(rows, func(x, y AdsRow) int {
		cx, cy := cost(x), cost(y)
		switch {
		case cx == nil && cy == nil:
			return cmp.Or(cmp.Compare(x.Spend, y.Spend), cmp.Compare(x.Key, y.Key))
		case cx == nil:
			return 1
		case cy == nil:
			return -1
		}
		return cmp.Or(cmp.Compare(*cx, *cy), cmp.Compare(y.Spend, x.Spend), cmp.Compare(x.Key, y.Key))
	})
	n := min(RankedKeywords, len(rows)/2)
	best := slices.Clone(rows[:n])
	worst := slices.Clone(rows[len(rows)-n:])
	slices.Reverse(worst)
	return orNone(best), orNone(worst)
}

func orNone(r []AdsRow) []AdsRow {
	if r == nil {
		return []AdsRow{}
	}
	return r
}

// adsTrend is the scope's spend, delivery and leads per day, week or
// month of the range.
func adsTrend(ctx context.Context, s *store.Store, sc *adScope, rq store.RollupQuery, grain string, from, to time.Time) ([]AdsPeriod, error) {
	dim := store.DimDay
	if grain == GrainMonth {
		dim = store.DimMonth
	}
	byStart := map[time.Time]*AdsPeriod{}
	start := func(day time.Time) time.Time {
		switch grain {
		case GrainWeek:
			return model.WeekOf(day)
		case GrainMonth:
			return model.MonthOf(day)
		}
		return day
	}
	get := func(day time.Time) *AdsPeriod {
		d := start(day)
		p, ok := byStart[d]
		if !ok {
			p = &AdsPeriod{Start: d.Format(time.DateOnly)}
			byStart[d] = p
		}
		return p
	}
	if len(sc.ids) > 0 {
		cq := withBy(rq, dim)
		cq.Campaigns = sc.ids
		if sc.adGroup != nil {
			cq.AdGroups = []int64{sc.adGroup.ID}
		}
		costs, err := s.SumCosts(ctx, cq)
		if err != nil {
			return nil, fmt.Errorf("advertising dashboard: cost trend: %w", err)
		}
		for _, c := range costs {
			p := get(c.Day)
			p.Spend = store.AddTotal(p.Spend, c.Cost)
			p.Impressions += c.Impressions
			p.Clicks += c.Clicks
		}
		if sc.adGroup == nil || len(sc.groupKWs) > 0 {
			lq := withBy(rq, dim)
			lq.Campaigns = sc.ids
			if sc.adGroup != nil {
				lq.Keywords = sc.groupKWs
			}
			leads, err := s.SumLeads(ctx, lq)
			if err != nil {
				return nil, fmt.Errorf("advertising dashboard: lead trend: %w", err)
			}
			for _, l := range leads {
				p := get(l.Day)
				p.Leads += l.Leads
				p.MQLs += l.MQLs
			}
		}
	}
	first := from
	if first.IsZero() {
		for d := range byStart {
			if first.IsZero() || d.Before(first) {
				first = d
			}
		}
		if first.IsZero() {
			first = to
		}
	}
	out := []AdsPeriod{}
	for d := start(first); !d.After(to); {
		p := get(d)
		if !store.Saturated(p.Spend) {
			p.CPL = perUnit(p.Spend, p.Leads)
		}
		out = append(out, *p)
		switch grain {
		case GrainWeek:
			d = d.AddDate(0, 0, 7)
		case GrainMonth:
			d = d.AddDate(0, 1, 0)
		default:
			d = d.AddDate(0, 0, 1)
		}
	}
	return out, nil
}
