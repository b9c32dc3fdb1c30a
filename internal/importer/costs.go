package importer

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// CostLayout is the column layout of one ad platform's report export.
type CostLayout struct {
	Name     string // baidu, oceanengine, tencent_ads, google_ads, linkedin_ads, generic
	Platform string // empty for the generic layout, which has a platform column
	// Aliases are the header names of each field, compared after normHeader.
	Aliases  map[string][]string
	Required []string
}

// CostLayouts are the layouts ParseCosts recognises, most specific first.
var CostLayouts = []CostLayout{
	{Name: "baidu", Platform: "baidu", Aliases: map[string][]string{
		"date": {"日期", "时间"}, "account": {"账户", "账户名称", "账户名"}, "campaign": {"推广计划", "推广计划名称", "计划名称"},
		"ad_group": {"推广单元", "推广单元名称", "单元名称"}, "keyword": {"关键词", "关键词名称"},
		"impressions": {"展现", "展现量"}, "clicks": {"点击", "点击量"}, "cost": {"消费", "消费金额"},
	}, Required: []string{"date", "campaign", "impressions", "clicks", "cost"}},
	{Name: "oceanengine", Platform: "oceanengine", Aliases: map[string][]string{
		"date": {"日期", "时间"}, "account": {"账户名称", "账户", "账户ID", "广告主名称"},
		"campaign": {"广告组/项目", "广告组", "项目", "项目名称", "广告组名称"},
		"ad_group": {"计划/广告", "计划", "广告计划", "计划名称", "广告名称"}, "keyword": {"关键词", "搜索词"},
		"impressions": {"展示数", "展示次数"}, "clicks": {"点击数"}, "cost": {"消耗"},
	}, Required: []string{"date", "campaign", "impressions", "clicks", "cost"}},
	{Name: "tencent_ads", Platform: "tencent_ads", Aliases: map[string][]string{
		"date": {"日期", "时间"}, "account": {"账户ID", "账户id", "账户", "账户名称"}, "campaign": {"推广计划", "推广计划名称"},
		"ad_group": {"广告", "广告名称", "广告组"}, "keyword": {"关键词"},
		"impressions": {"曝光次数", "曝光量"}, "clicks": {"点击次数", "点击量"}, "cost": {"花费"},
	}, Required: []string{"date", "campaign", "impressions", "clicks", "cost"}},
	{Name: "google_ads", Platform: "google_ads", Aliases: map[string][]string{
		"date": {"Day"}, "account": {"Account", "Account name", "Customer name"}, "campaign": {"Campaign"},
		"ad_group": {"Ad group"}, "keyword": {"Keyword", "Search keyword"},
		"impressions": {"Impr.", "Impressions"}, "clicks": {"Clicks"}, "cost": {"Cost"}, "currency": {"Currency", "Currency code"},
	}, Required: []string{"date", "campaign", "impressions", "clicks", "cost"}},
	{Name: "linkedin_ads", Platform: "linkedin_ads", Aliases: map[string][]string{
		"date": {"Start Date (in UTC)", "Start Date"}, "account": {"Account Name", "Account"}, "campaign": {"Campaign Group Name"},
		"ad_group": {"Campaign Name"}, "impressions": {"Impressions"}, "clicks": {"Clicks"},
		"cost": {"Total Spent", "Amount Spent"}, "currency": {"Currency"},
	}, Required: []string{"date", "campaign", "impressions", "clicks", "cost"}},
	{Name: "generic", Aliases: map[string][]string{
		"date": {"date", "day"}, "platform": {"platform"}, "account": {"account"}, "campaign": {"campaign"},
		"ad_group": {"ad_group", "adgroup"}, "keyword": {"keyword"},
		"impressions": {"impressions"}, "clicks": {"clicks"}, "cost": {"cost"}, "currency": {"currency"},
	}, Required: []string{"date", "platform", "campaign", "impressions", "clicks", "cost"}},
}

// platformChannels gives the channel of a campaign an import creates.
var platformChannels = map[string]model.Channel{
	"baidu": model.ChannelPaidSearch, "sogou": model.ChannelPaidSearch, "360": model.ChannelPaidSearch, "so360": model.ChannelPaidSearch,
	"shenma": model.ChannelPaidSearch, "google_ads": model.ChannelPaidSearch, "bing_ads": model.ChannelPaidSearch,
	"oceanengine": model.ChannelPaidSocial, "tencent_ads": model.ChannelPaidSocial, "linkedin_ads": model.ChannelPaidSocial,
	"weibo": model.ChannelPaidSocial, "xiaohongshu": model.ChannelPaidSocial, "zhihu": model.ChannelPaidSocial,
	"bilibili": model.ChannelPaidSocial, "wechat": model.ChannelPaidSocial, "facebook_ads": model.ChannelPaidSocial,
}

// platformAliases reads the platform column of the generic layout.
var platformAliases = map[string]string{
	"百度": "baidu", "百度营销": "baidu", "baidu": "baidu", "巨量引擎": "oceanengine", "oceanengine": "oceanengine", "ocean engine": "oceanengine",
	"巨量": "oceanengine", "抖音": "oceanengine", "头条": "oceanengine", "腾讯广告": "tencent_ads", "tencent": "tencent_ads", "tencent ads": "tencent_ads",
	"tencent_ads": "tencent_ads", "广点通": "tencent_ads", "google": "google_ads", "google ads": "google_ads", "google_ads": "google_ads",
	"linkedin": "linkedin_ads", "linkedin ads": "linkedin_ads", "linkedin_ads": "linkedin_ads", "bing": "bing_ads", "bing ads": "bing_ads",
	"bing_ads": "bing_ads", "搜狗": "sogou", "360": "360", "神马": "shenma", "微博": "weibo", "小红书": "xiaohongshu", "知乎": "zhihu",
	"哔哩哔哩": "bilibili", "b站": "bilibili", "微信": "wechat",
}

var platformRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,39}$`)

// ParsePlatform names a platform as revloop stores it.
func ParsePlatform(s string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if p, ok := platformAliases[v]; ok {
		return p, nil
	}
	if platformRE.MatchString(v) {
		return v, nil
	}
	return "", fmt.Errorf("platform %q is not a platform name (letters, digits and _; e.g. baidu, google_ads)", s)
}

// KnownPlatform says whether revloop knows the channel of a platform's
// campaigns (else PlatformChannel guesses display).
func KnownPlatform(platform string) bool {
	_, ok := platformChannels[platform]
	return ok
}

// PlatformChannel is the channel of a platform's ad campaigns: search
// engines are paid search, feeds and social networks paid social, anything
// else display.
func PlatformChannel(platform string) model.Channel {
	if c, ok := platformChannels[platform]; ok {
		return c
	}
	return model.ChannelDisplay
}

// CostFile is a parsed cost report.
type CostFile struct {
	Layout   string
	Encoding string
	Rows     []store.CostRow
	Read     int      // data rows read, totals rows included
	Skipped  int      // totals rows
	Notes    []string // what was skipped or merged, and why
}

// ParseCosts reads a cost report, finding its layout from the header (up
// to 20 title lines above it are skipped). It returns *BadRowsError when
// any row is bad.
func ParseCosts(data []byte) (*CostFile, error) {
	recs, enc, err := readCSV(data)
	if err != nil {
		return nil, err
	}
	f := &CostFile{Encoding: enc}
	var layout *CostLayout
	var cols columns
	start := -1
	for i := 0; i < len(recs) && i < maxPreamble+1 && start < 0; i++ {
		best := 0
		for j := range CostLayouts {
			c, ok := matchHeader(recs[i].fields, CostLayouts[j].Aliases, CostLayouts[j].Required)
			if ok && len(c) > best {
				layout, cols, best, start = &CostLayouts[j], c, len(c), i+1
			}
		}
	}
	if layout == nil {
		return nil, errors.New("no known header found in the first lines: expected a Baidu, Ocean Engine, Tencent Ads, Google Ads or LinkedIn report, " +
			"or the generic layout date,platform,account,campaign,ad_group,keyword,impressions,clicks,cost")
	}
	f.Layout = layout.Name
	var bad rowErrors
	type key struct {
		day                     time.Time
		platform, account, camp string
		adGroup, keyword        string
	}
	seen := map[key]int{}
	for _, rec := range recs[start:] {
		if blank(rec.fields) {
			continue
		}
		f.Read++
		dateCell := cols.get(rec.fields, "date")
		day, derr := parseDay(dateCell)
		if derr != nil && totalsRow(rec.fields) {
			f.Skipped++
			f.Notes = append(f.Notes, fmt.Sprintf("line %d: totals row skipped", rec.line))
			continue
		}
		row, err := costRow(layout, cols, rec, day, derr)
		if err != nil {
			bad.add(rec.line, "%v", err)
			continue
		}
		k := key{row.Day, row.Platform, row.Account, row.Campaign, row.AdGroup, row.Keyword}
		if i, dup := seen[k]; dup {
			prev := &f.Rows[i]
			if prev.Cost+row.Cost > 1<<60 || prev.Impressions+row.Impressions > 1<<60 || prev.Clicks+row.Clicks > 1<<60 {
				bad.add(rec.line, "the rows of this day, campaign, ad group and keyword add up to more than revloop can count")
				continue
			}
			prev.Impressions += row.Impressions
			prev.Clicks += row.Clicks
			prev.Cost += row.Cost
			f.Notes = append(f.Notes, fmt.Sprintf("line %d: same day, campaign, ad group and keyword as line %d; added together", rec.line, prev.Line))
			continue
		}
		seen[k] = len(f.Rows)
		f.Rows = append(f.Rows, row)
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	if len(f.Rows) == 0 {
		return nil, errors.New("the file has a header but no data rows")
	}
	return f, nil
}

// totalsRow says whether a row is a report's totals line (合计, 总计,
// "Total: Account", ...): its first non-empty cell says so.
func totalsRow(fields []string) bool {
	for _, v := range fields {
		if v == "" {
			continue
		}
		v = strings.ToLower(v)
		for _, p := range []string{"合计", "总计", "汇总", "total", "summary"} {
			if strings.HasPrefix(v, p) {
				return true
			}
		}
		return false
	}
	return false
}

func costRow(layout *CostLayout, cols columns, rec record, day time.Time, derr error) (store.CostRow, error) {
	get := func(f string) string { return cols.get(rec.fields, f) }
	row := store.CostRow{Line: rec.line, Day: day, Account: get("account"), Campaign: get("campaign"), AdGroup: get("ad_group"), Keyword: get("keyword")}
	if derr != nil {
		return row, derr
	}
	row.Platform = layout.Platform
	if layout.Platform == "" {
		p, err := ParsePlatform(get("platform"))
		if err != nil {
			return row, err
		}
		row.Platform = p
	}
	row.Channel = PlatformChannel(row.Platform)
	if row.Campaign == "" {
		return row, errors.New("campaign name is empty")
	}
	for _, c := range []struct{ v, what string }{{row.Account, "account"}, {row.Campaign, "campaign name"}, {row.AdGroup, "ad group name"}, {row.Keyword, "keyword"}} {
		if err := checkCell(c.v, c.what); err != nil {
			return row, err
		}
	}
	if cur := strings.ToUpper(get("currency")); cur != "" && cur != "CNY" && cur != "RMB" && cur != "--" {
		return row, fmt.Errorf("currency %s: revloop keeps costs in CNY; convert the report to CNY first", get("currency"))
	}
	var err error
	if row.Impressions, err = parseCount(get("impressions"), "impressions"); err != nil {
		return row, err
	}
	if row.Clicks, err = parseCount(get("clicks"), "clicks"); err != nil {
		return row, err
	}
	if row.Cost, err = parseCost(get("cost")); err != nil {
		return row, err
	}
	return row, nil
}
