package importer

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
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
	// The generic layout, in English or Chinese (the sample files revloop
	// hands out). A platform's own export has no platform column, so it
	// never reads as this one.
	{Name: "generic", Aliases: map[string][]string{
		"date": {"date", "day", "日期"}, "platform": {"platform", "平台", "媒体"}, "account": {"account", "账户"},
		"campaign": {"campaign", "推广计划", "广告系列"}, "ad_group": {"ad_group", "adgroup", "推广单元", "广告组"},
		"keyword": {"keyword", "关键词"}, "impressions": {"impressions", "展现", "展现量", "曝光量"},
		"clicks": {"clicks", "点击", "点击量"}, "cost": {"cost", "消费", "花费"}, "currency": {"currency", "币种"},
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

// Compiled on first use: its counted repetition makes it costly to compile,
// and most commands never need it.
var platformRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,39}$`) })

// ParsePlatform names a platform as revloop stores it.
func ParsePlatform(s string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if p, ok := platformAliases[v]; ok {
		return p, nil
	}
	if platformRE().MatchString(v) {
		return v, nil
	}
	return "", badCell("platform", "bad_platform", s, "platform %q is not a platform name (letters, digits and _; e.g. baidu, google_ads)", s)
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

// MaxCostPerRow is the most one stored cost row (a day of one campaign,
// ad group and keyword) may cost: ¥100,000,000. More is a typing or export
// error, and it would distort every report that adds costs up.
const MaxCostPerRow = model.Money(100_000_000_00)

// ParseCosts reads a cost report, finding its layout from the header (up
// to 20 title lines above it are skipped). It returns *BadRowsError when
// any row is bad. Rows of the same day, campaign, ad group and keyword are
// added together.
func ParseCosts(data []byte) (*CostFile, error) {
	_, enc, err := sniff(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	p, err := planCosts(bytes.NewReader(data), enc, true)
	if err != nil {
		return nil, err
	}
	return &CostFile{Layout: p.layout.Name, Encoding: p.enc, Rows: p.rows, Read: p.read, Skipped: p.skipped, Notes: p.notes.all()}, nil
}

// costKey identifies a stored cost row (day, platform, account, campaign,
// ad group, keyword) in 16 bytes, so that a file's keys take little memory.
type costKey [16]byte

func keyOf(r *store.CostRow) costKey {
	h := sha256.New()
	for _, p := range []string{r.Day.Format("2006-01-02"), r.Platform, r.Account, r.Campaign, r.AdGroup, r.Keyword} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var k costKey
	copy(k[:], h.Sum(nil))
	return k
}

// costSum is a key's first row and the totals of all its rows.
type costSum struct {
	line, n             int
	impressions, clicks int64
	cost                model.Money
}

// costPlan is what a first reading of a cost file found: its layout, every
// bad row, and each key's totals, so that the second reading can store the
// rows in chunks with duplicates merged into their first row, holding
// neither the file nor its rows.
type costPlan struct {
	layout  *CostLayout
	cols    columns
	enc     string
	read    int // data rows, totals rows included
	skipped int
	stored  int // rows to store (keys)
	keys    map[costKey]*costSum
	notes   notes
	rows    []store.CostRow // kept only when asked (ParseCosts)
	index   map[costKey]int
}

// costHeader reads up to the header and finds the layout: of the layouts
// that the first matching line fits, the one that names most fields.
func costHeader(in *csvStream) (*CostLayout, columns, error) {
	idx := make([]aliasIndex, len(CostLayouts))
	for j := range CostLayouts {
		idx[j] = newAliasIndex(CostLayouts[j].Aliases)
	}
	for i := 0; i <= maxPreamble; i++ {
		rec, err := in.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, columns{}, err
		}
		var layout *CostLayout
		var cols columns
		best := 0
		for j := range CostLayouts {
			c, ok := matchHeader(rec.fields, idx[j], CostLayouts[j].Required)
			if ok && c.n() > best {
				layout, cols, best = &CostLayouts[j], c, c.n()
			}
		}
		if layout != nil {
			return layout, cols, nil
		}
	}
	return nil, columns{}, errors.New("no known header found in the first lines: expected a Baidu, Ocean Engine, Tencent Ads, Google Ads or LinkedIn report, " +
		"or the generic layout date,platform,account,campaign,ad_group,keyword,impressions,clicks,cost")
}

// eachCostRow reads the data rows after the header: fn gets every row that
// is not blank, a totals row with totals set, a bad one with its error.
func eachCostRow(in *csvStream, layout *CostLayout, cols columns, fn func(row store.CostRow, totals bool, rowErr error) error) error {
	rows := 0
	for {
		rec, err := in.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if blank(rec.fields) {
			continue
		}
		if rows++; rows > MaxRows {
			return fmt.Errorf("line %d: the file has more than %d rows: split it", rec.line, MaxRows)
		}
		day, derr := parseDay(cols.get(rec.fields, "date"))
		if derr != nil && totalsRow(rec.fields) {
			if err := fn(store.CostRow{Line: rec.line}, true, nil); err != nil {
				return err
			}
			continue
		}
		row, rerr := costRow(layout, cols, rec, day, derr)
		if err := fn(row, false, rerr); err != nil {
			return err
		}
	}
}

// planCosts reads a cost file once (from its start): *BadRowsError lists
// its bad rows. With keep, it also keeps the merged rows.
func planCosts(r io.Reader, enc string, keep bool) (*costPlan, error) {
	in, err := newCSVStream(r, enc)
	if err != nil {
		return nil, err
	}
	p := &costPlan{enc: in.enc, keys: map[costKey]*costSum{}}
	if keep {
		p.index = map[costKey]int{}
	}
	if p.layout, p.cols, err = costHeader(in); err != nil {
		return nil, err
	}
	var bad rowErrors
	err = eachCostRow(in, p.layout, p.cols, func(row store.CostRow, totals bool, rowErr error) error {
		p.read++
		switch {
		case totals:
			p.skipped++
			p.notes.add("line %d: totals row skipped", row.Line)
			return nil
		case rowErr != nil:
			bad.addErr(row.Line, p.cols, rowErr)
			return nil
		}
		k := keyOf(&row)
		sum, dup := p.keys[k]
		if !dup {
			p.keys[k] = &costSum{line: row.Line, n: 1, impressions: row.Impressions, clicks: row.Clicks, cost: row.Cost}
			p.stored++
			if keep {
				p.index[k] = len(p.rows)
				p.rows = append(p.rows, row)
			}
			return nil
		}
		if sum.cost+row.Cost > MaxCostPerRow || sum.impressions+row.Impressions > 1<<60 || sum.clicks+row.Clicks > 1<<60 {
			bad.addErr(row.Line, p.cols, badCell("cost", "sum_too_high", "",
				"the rows of this day, campaign, ad group and keyword add up to more than ¥%s, the most one day of a keyword may cost, or more than revloop can count",
				MaxCostPerRow))
			return nil
		}
		sum.n++
		sum.impressions += row.Impressions
		sum.clicks += row.Clicks
		sum.cost += row.Cost
		if keep {
			prev := &p.rows[p.index[k]]
			prev.Impressions, prev.Clicks, prev.Cost = sum.impressions, sum.clicks, sum.cost
		}
		p.notes.add("line %d: same day, campaign, ad group and keyword as line %d; added together", row.Line, sum.line)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	if p.stored == 0 {
		return nil, errors.New("the file has a header but no data rows")
	}
	return p, nil
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
		return row, badCell("campaign", "empty", "", "campaign name is empty")
	}
	for _, c := range []struct{ field, v, what string }{{"account", row.Account, "account"}, {"campaign", row.Campaign, "campaign name"},
		{"ad_group", row.AdGroup, "ad group name"}, {"keyword", row.Keyword, "keyword"}} {
		if err := checkCell(c.field, c.v, c.what); err != nil {
			return row, err
		}
	}
	if cur := strings.ToUpper(get("currency")); cur != "" && cur != "CNY" && cur != "RMB" && cur != "--" {
		return row, badCell("currency", "bad_currency", get("currency"), "currency %s: revloop keeps costs in CNY; convert the report to CNY first", get("currency"))
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
	if row.Cost > MaxCostPerRow {
		return row, badCell("cost", "cost_too_high", get("cost"), "cost %s is over ¥%s, the most one row may cost: check the report's unit (yuan, not fen)", get("cost"), MaxCostPerRow)
	}
	return row, nil
}
