package demo

import "github.com/revloop/revloop/internal/model"

// campaignDef describes one campaign of the demo company. Dates are
// fractions of the data year so that any End gives the same shape.
type campaignDef struct {
	code, name, nameEN string
	ch                 model.Channel
	platform, kind     string
	source, medium     string
	path               string  // landing page path
	from, to           float64 // active part of the year, 0..1
	event              float64 // for webinars and offline events: the day, 0..1; 0 = none
	eventDays          int     // how long the event lasts
	region             string  // for offline events: the sales region it draws from; "" = national
	weight             float64 // share among the campaigns of its channel
	quality            float64 // how much better or worse its people are than its channel's
	cpcMin, cpcMax     int64   // fen per click, for paid media
	ctr                float64 // click-through rate, for impressions
	untracked          float64 // clicks per day (at scale 1) that never became a known visitor
	yearInName         bool    // the name carries the event's year
	adGroups           []adGroupDef
	assets             []assetDef
}

type adGroupDef struct {
	name     string
	keywords []keywordDef
}

type keywordDef struct {
	text, match string
	quality     float64
	weight      float64
}

type assetDef struct {
	kind, title, titleEN, path string
}

func kw(text, match string, quality, weight float64) keywordDef {
	return keywordDef{text, match, quality, weight}
}

// campaignDefs is the demo company's marketing plan for the year: sixty
// campaigns across paid media, owned media, events, content, nurture,
// employee sharing and outbound.
var campaignDefs = []campaignDef{
	// Paid search: Baidu and Google, with ad groups and keywords.
	{code: "bd-brand", name: "百度搜索-品牌词", nameEN: "Baidu Search - Brand", ch: model.ChannelPaidSearch, platform: "baidu", kind: "search_ads",
		source: "baidu", medium: "cpc", path: "/", from: 0, to: 1, weight: 5, quality: 0.6, cpcMin: 250, cpcMax: 700, ctr: 0.12, untracked: 2,
		adGroups: []adGroupDef{
			{"品牌核心词", []keywordDef{kw("云启数据", "exact", 0.3, 3), kw("云启CDP", "exact", 0.4, 2), kw("云启营销云", "exact", 0.3, 1.5), kw("yunqi数据", "phrase", 0.1, 0.5)}},
			{"品牌+产品", []keywordDef{kw("云启CDP价格", "phrase", 0.6, 1), kw("云启数据怎么样", "phrase", 0.2, 1), kw("云启营销自动化", "phrase", 0.3, 1), kw("云启SCRM", "phrase", 0.2, 0.6)}},
		}},
	{code: "bd-cdp", name: "百度搜索-CDP通用词", nameEN: "Baidu Search - CDP Generic", ch: model.ChannelPaidSearch, platform: "baidu", kind: "search_ads",
		source: "baidu", medium: "cpc", path: "/product/cdp", from: 0, to: 1, weight: 9, quality: -0.1, cpcMin: 1800, cpcMax: 5200, ctr: 0.03, untracked: 5,
		adGroups: []adGroupDef{
			{"CDP产品", []keywordDef{kw("CDP系统", "phrase", 0.1, 2), kw("客户数据平台", "phrase", 0.1, 2), kw("CDP是什么", "broad", -0.6, 2), kw("CDP厂商", "phrase", 0.2, 1), kw("CDP软件", "phrase", 0, 1)}},
			{"数据中台", []keywordDef{kw("数据中台解决方案", "phrase", -0.1, 1.5), kw("用户数据中台", "broad", -0.2, 1), kw("OneID 用户识别", "broad", 0, 0.6)}},
			{"用户画像", []keywordDef{kw("用户画像系统", "broad", -0.3, 1.2), kw("客户标签管理", "broad", -0.3, 0.8)}},
		}},
	{code: "bd-ma", name: "百度搜索-营销自动化与私域", nameEN: "Baidu Search - Marketing Automation & SCRM", ch: model.ChannelPaidSearch, platform: "baidu", kind: "search_ads",
		source: "baidu", medium: "cpc", path: "/product/marketing-automation", from: 0, to: 1, weight: 8, quality: -0.2, cpcMin: 1500, cpcMax: 4500, ctr: 0.028, untracked: 5,
		adGroups: []adGroupDef{
			{"营销自动化", []keywordDef{kw("营销自动化软件", "phrase", 0.1, 2), kw("营销自动化系统", "phrase", 0.1, 1.5), kw("B2B营销自动化", "phrase", 0.3, 1), kw("线索培育工具", "broad", 0, 0.8)}},
			{"私域SCRM", []keywordDef{kw("SCRM系统", "phrase", -0.2, 2), kw("企业微信SCRM", "phrase", -0.2, 2), kw("私域运营工具", "broad", -0.5, 1.5), kw("私域流量平台", "broad", -0.6, 1)}},
		}},
	{code: "bd-compete", name: "百度搜索-竞品对比词", nameEN: "Baidu Search - Competitive Terms", ch: model.ChannelPaidSearch, platform: "baidu", kind: "search_ads",
		source: "baidu", medium: "cpc", path: "/compare", from: 0.1, to: 1, weight: 3, quality: 0.2, cpcMin: 2500, cpcMax: 6500, ctr: 0.025, untracked: 2,
		adGroups: []adGroupDef{
			{"选型对比", []keywordDef{kw("CDP哪家好", "phrase", 0.3, 1.5), kw("营销云对比", "phrase", 0.2, 1), kw("CDP厂商排名", "phrase", 0.1, 1)}},
			{"国外产品替代", []keywordDef{kw("Marketo替代", "phrase", 0.4, 0.8), kw("国外营销云替代方案", "broad", 0.2, 0.6), kw("营销自动化国产化", "broad", 0.1, 0.6)}},
		}},
	{code: "bd-industry", name: "百度搜索-行业解决方案", nameEN: "Baidu Search - Industry Solutions", ch: model.ChannelPaidSearch, platform: "baidu", kind: "search_ads",
		source: "baidu", medium: "cpc", path: "/solutions", from: 0.2, to: 1, weight: 4, quality: 0, cpcMin: 1200, cpcMax: 3800, ctr: 0.03, untracked: 3,
		adGroups: []adGroupDef{
			{"零售快消", []keywordDef{kw("零售CDP", "phrase", 0.2, 1), kw("会员数据平台", "phrase", 0, 1), kw("快消品数字化营销", "broad", -0.2, 1)}},
			{"制造业", []keywordDef{kw("制造业获客", "broad", -0.2, 1.2), kw("工业品B2B营销", "broad", 0, 0.8)}},
			{"汽车金融", []keywordDef{kw("汽车行业数字营销", "broad", 0, 0.8), kw("金融客户数据平台", "phrase", 0.2, 0.6)}},
		}},
	{code: "gg-brand", name: "Google Ads-品牌词", nameEN: "Google Ads - Brand", ch: model.ChannelPaidSearch, platform: "google_ads", kind: "search_ads",
		source: "google", medium: "cpc", path: "/en/", from: 0, to: 1, weight: 0.8, quality: 0.5, cpcMin: 600, cpcMax: 1500, ctr: 0.1, untracked: 0.5,
		adGroups: []adGroupDef{
			{"Brand", []keywordDef{kw("yunqi data", "exact", 0.3, 1), kw("yunqi cdp", "exact", 0.4, 1)}},
		}},
	{code: "gg-global", name: "Google Ads-出海营销", nameEN: "Google Ads - Going Global", ch: model.ChannelPaidSearch, platform: "google_ads", kind: "search_ads",
		source: "google", medium: "cpc", path: "/en/solutions/global", from: 0.35, to: 1, weight: 1.2, quality: -0.1, cpcMin: 1200, cpcMax: 3200, ctr: 0.025, untracked: 1,
		adGroups: []adGroupDef{
			{"CDP China", []keywordDef{kw("customer data platform china", "phrase", 0.1, 1), kw("china martech", "broad", -0.3, 1)}},
			{"WeChat marketing", []keywordDef{kw("wechat marketing platform", "phrase", 0, 1), kw("wecom crm", "phrase", 0, 0.7), kw("b2b marketing automation china", "phrase", 0.2, 0.7)}},
		}},

	// Paid social and feed ads.
	{code: "oe-feed", name: "巨量引擎-信息流线索", nameEN: "Ocean Engine - Feed Lead Ads", ch: model.ChannelPaidSocial, platform: "oceanengine", kind: "feed_ads",
		source: "oceanengine", medium: "feed", path: "/lp/free-trial", from: 0, to: 1, weight: 6, quality: -0.3, cpcMin: 250, cpcMax: 700, ctr: 0.012, untracked: 25,
		adGroups: []adGroupDef{{"信息流-免费试用-通投", nil}, {"信息流-行业定向-零售快消", nil}, {"信息流-行业定向-制造业", nil}}},
	{code: "oe-douyin", name: "巨量引擎-抖音短视频", nameEN: "Ocean Engine - Douyin Short Video", ch: model.ChannelPaidSocial, platform: "oceanengine", kind: "video_ads",
		source: "douyin", medium: "feed", path: "/lp/video", from: 0.3, to: 1, weight: 3, quality: -0.5, cpcMin: 200, cpcMax: 500, ctr: 0.009, untracked: 20,
		adGroups: []adGroupDef{{"抖音-产品讲解短视频", nil}, {"抖音-客户案例短视频", nil}}},
	{code: "tx-moments", name: "腾讯广告-朋友圈", nameEN: "Tencent Ads - WeChat Moments", ch: model.ChannelPaidSocial, platform: "tencent_ads", kind: "feed_ads",
		source: "tencent", medium: "feed", path: "/lp/whitepaper", from: 0, to: 1, weight: 4, quality: -0.2, cpcMin: 300, cpcMax: 800, ctr: 0.011, untracked: 15,
		adGroups: []adGroupDef{{"朋友圈-白皮书下载-一线城市", nil}, {"朋友圈-白皮书下载-新一线城市", nil}}},
	{code: "tx-mp", name: "腾讯广告-公众号文中广告", nameEN: "Tencent Ads - Official Account Placements", ch: model.ChannelPaidSocial, platform: "tencent_ads", kind: "feed_ads",
		source: "tencent", medium: "feed", path: "/lp/webinar", from: 0.1, to: 0.9, weight: 2, quality: -0.1, cpcMin: 300, cpcMax: 900, ctr: 0.008, untracked: 8,
		adGroups: []adGroupDef{{"公众号文中-直播报名", nil}, {"公众号文中-客户案例", nil}}},
	{code: "tx-channels", name: "腾讯广告-视频号信息流", nameEN: "Tencent Ads - Channels Feed", ch: model.ChannelPaidSocial, platform: "tencent_ads", kind: "video_ads",
		source: "tencent", medium: "feed", path: "/lp/video", from: 0.5, to: 1, weight: 1.5, quality: -0.4, cpcMin: 250, cpcMax: 600, ctr: 0.01, untracked: 8,
		adGroups: []adGroupDef{{"视频号-产品演示", nil}}},
	{code: "bd-feed", name: "百度信息流-行业人群", nameEN: "Baidu Feed - Industry Audiences", ch: model.ChannelPaidSocial, platform: "baidu", kind: "feed_ads",
		source: "baidu", medium: "feed", path: "/lp/free-trial", from: 0, to: 0.7, weight: 2, quality: -0.4, cpcMin: 250, cpcMax: 600, ctr: 0.01, untracked: 10,
		adGroups: []adGroupDef{{"百度信息流-零售人群", nil}, {"百度信息流-制造业人群", nil}}},
	{code: "li-abm", name: "LinkedIn Ads-目标客户定向", nameEN: "LinkedIn Ads - ABM Targeting", ch: model.ChannelPaidSocial, platform: "linkedin_ads", kind: "sponsored_content",
		source: "linkedin", medium: "paid_social", path: "/en/abm", from: 0, to: 1, weight: 1.2, quality: 0.6, cpcMin: 3500, cpcMax: 7500, ctr: 0.006, untracked: 1,
		adGroups: []adGroupDef{{"ABM - Tier A Accounts (CMO/CIO)", nil}, {"ABM - Retail & FMCG Decision Makers", nil}}},
	{code: "li-leadgen", name: "LinkedIn Ads-白皮书表单", nameEN: "LinkedIn Ads - Whitepaper Lead Gen Forms", ch: model.ChannelPaidSocial, platform: "linkedin_ads", kind: "lead_gen_forms",
		source: "linkedin", medium: "paid_social", path: "/en/whitepaper", from: 0.2, to: 0.8, weight: 0.8, quality: 0.4, cpcMin: 4000, cpcMax: 8000, ctr: 0.005, untracked: 0.8,
		adGroups: []adGroupDef{{"Lead Gen - CDP Whitepaper", nil}, {"Lead Gen - Attribution Guide", nil}}},

	// Display on tech media.
	{code: "dsp-36kr", name: "36氪-品牌展示广告", nameEN: "36Kr - Display", ch: model.ChannelDisplay, platform: "36kr", kind: "display_ads",
		source: "36kr", medium: "display", path: "/", from: 0.1, to: 0.6, weight: 1, cpcMin: 400, cpcMax: 900, ctr: 0.004, untracked: 6,
		adGroups: []adGroupDef{{"首页通栏", nil}, {"文章页信息流", nil}}},
	{code: "dsp-huxiu", name: "虎嗅-专题合作", nameEN: "Huxiu - Sponsored Feature", ch: model.ChannelDisplay, platform: "huxiu", kind: "display_ads",
		source: "huxiu", medium: "display", path: "/blog/b2b-attribution", from: 0.5, to: 0.9, weight: 1, cpcMin: 400, cpcMax: 1000, ctr: 0.005, untracked: 4,
		adGroups: []adGroupDef{{"B2B增长专题页", nil}}},

	// WeChat official account and WeCom.
	{code: "mp-weekly", name: "公众号-每周干货", nameEN: "WeChat Official Account - Weekly Insights", ch: model.ChannelWeChat, platform: "wechat_mp", kind: "article",
		source: "wechat", medium: "mp_article", path: "/blog", from: 0, to: 1, weight: 3,
		assets: []assetDef{{"article", "B2B营销归因的五个误区", "Five Myths of B2B Attribution", "/blog/attribution-myths"}, {"article", "从线索到现金：L2C全链路拆解", "Lead to Cash, Step by Step", "/blog/lead-to-cash"}}},
	{code: "mp-cases", name: "公众号-客户案例连载", nameEN: "WeChat Official Account - Customer Stories", ch: model.ChannelWeChat, platform: "wechat_mp", kind: "article",
		source: "wechat", medium: "mp_article", path: "/cases", from: 0.15, to: 1, weight: 1.5, quality: 0.2},
	{code: "wecom-advisor", name: "企业微信-顾问一对一", nameEN: "WeCom - Advisor 1:1", ch: model.ChannelWeCom, platform: "wecom", kind: "private_domain",
		source: "wecom", medium: "im", path: "/lp/advisor", from: 0, to: 1, weight: 2, quality: 0.2},
	{code: "wecom-community", name: "企业微信-行业社群", nameEN: "WeCom - Industry Communities", ch: model.ChannelWeCom, platform: "wecom", kind: "community",
		source: "wecom", medium: "community", path: "/lp/community", from: 0.1, to: 1, weight: 1},

	// Organic social.
	{code: "zhihu-column", name: "知乎-机构号专栏", nameEN: "Zhihu - Brand Column", ch: model.ChannelOrganicSocial, platform: "zhihu", kind: "social_content",
		source: "zhihu", medium: "social", path: "/blog", from: 0, to: 1, weight: 2},
	{code: "channels-video", name: "视频号-产品讲解", nameEN: "WeChat Channels - Product Videos", ch: model.ChannelOrganicSocial, platform: "wechat_channels", kind: "social_video",
		source: "wechat_channels", medium: "social", path: "/product/cdp", from: 0.2, to: 1, weight: 1},

	// Referral partners.
	{code: "partner-isv", name: "渠道伙伴-华东ISV联盟", nameEN: "Partners - East China ISV Alliance", ch: model.ChannelReferral, platform: "partner", kind: "partner_referral",
		source: "isv-alliance.cn", medium: "referral", path: "/partners/isv", from: 0, to: 1, weight: 2, quality: 0.1},
	{code: "partner-aliyun", name: "渠道伙伴-阿里云市场", nameEN: "Partners - Alibaba Cloud Marketplace", ch: model.ChannelReferral, platform: "aliyun_market", kind: "marketplace",
		source: "market.aliyun.com", medium: "referral", path: "/partners/aliyun", from: 0, to: 1, weight: 1.5, quality: -0.3},
	{code: "partner-consult", name: "渠道伙伴-咨询公司推荐", nameEN: "Partners - Consultancy Referrals", ch: model.ChannelReferral, platform: "partner", kind: "partner_referral",
		source: "consulting-partner.cn", medium: "referral", path: "/partners/consulting", from: 0, to: 1, weight: 1, quality: 0.4},
	{code: "customer-referral", name: "老客户转介绍计划", nameEN: "Customer Referral Program", ch: model.ChannelReferral, platform: "referral_program", kind: "customer_referral",
		source: "customer-referral", medium: "referral", path: "/referral", from: 0, to: 1, weight: 1.2, quality: 0.5},

	// Webinars (线上直播).
	{code: "web-cdp-guide", name: "直播：CDP选型指南", nameEN: "Webinar: A CDP Buyer's Guide", ch: model.ChannelWebinar, platform: "polyv", kind: "webinar",
		source: "polyv", medium: "webinar", path: "/webinar/cdp-guide", event: 0.06, eventDays: 1, weight: 1.2,
		assets: []assetDef{{"video", "直播回放：CDP选型指南", "Replay: A CDP Buyer's Guide", "/webinar/cdp-guide/replay"}}},
	{code: "web-private-domain", name: "直播：私域运营增长实战", nameEN: "Webinar: Private-Domain Growth in Practice", ch: model.ChannelWebinar, platform: "polyv", kind: "webinar",
		source: "polyv", medium: "webinar", path: "/webinar/private-domain", event: 0.17, eventDays: 1, weight: 1.4, quality: -0.2},
	{code: "web-ma-best", name: "直播：B2B营销自动化最佳实践", nameEN: "Webinar: B2B Marketing Automation Best Practices", ch: model.ChannelWebinar, platform: "polyv", kind: "webinar",
		source: "polyv", medium: "webinar", path: "/webinar/ma-best-practices", event: 0.28, eventDays: 1, weight: 1,
		assets: []assetDef{{"video", "直播回放：B2B营销自动化最佳实践", "Replay: B2B Marketing Automation Best Practices", "/webinar/ma-best-practices/replay"}}},
	{code: "web-retail", name: "直播：零售数字化——会员数据驱动增长", nameEN: "Webinar: Retail Growth Driven by Member Data", ch: model.ChannelWebinar, platform: "polyv", kind: "webinar",
		source: "polyv", medium: "webinar", path: "/webinar/retail-members", event: 0.39, eventDays: 1, weight: 1, quality: 0.1},
	{code: "web-manufacturing", name: "直播：制造业B2B获客新路径", nameEN: "Webinar: New Demand Paths for Manufacturers", ch: model.ChannelWebinar, platform: "wecom_live", kind: "webinar",
		source: "wecom_live", medium: "webinar", path: "/webinar/manufacturing", event: 0.51, eventDays: 1, weight: 0.9},
	{code: "web-abm", name: "直播：ABM目标客户营销实战", nameEN: "Webinar: ABM in Practice", ch: model.ChannelWebinar, platform: "polyv", kind: "webinar",
		source: "polyv", medium: "webinar", path: "/webinar/abm", event: 0.63, eventDays: 1, weight: 0.9, quality: 0.2},
	{code: "web-attribution", name: "直播：营销归因与ROI闭环", nameEN: "Webinar: Attribution and Closed-Loop ROI", ch: model.ChannelWebinar, platform: "polyv", kind: "webinar",
		source: "polyv", medium: "webinar", path: "/webinar/attribution", event: 0.75, eventDays: 1, weight: 1.1, quality: 0.1,
		assets: []assetDef{{"video", "直播回放：营销归因与ROI闭环", "Replay: Attribution and Closed-Loop ROI", "/webinar/attribution/replay"}}},
	{code: "web-ai", name: "直播：AI驱动的营销新范式", nameEN: "Webinar: AI-Driven Marketing", ch: model.ChannelWebinar, platform: "polyv", kind: "webinar",
		source: "polyv", medium: "webinar", path: "/webinar/ai-marketing", event: 0.87, eventDays: 1, weight: 1.5, quality: -0.2},

	// Offline exhibitions, conferences and salons.
	{code: "evt-dm-summit", name: "中国数字营销峰会（展位）", nameEN: "China Digital Marketing Summit (Booth)", ch: model.ChannelOfflineEvent, platform: "offline", kind: "exhibition",
		source: "dm-summit", medium: "offline", path: "/events/dm-summit", event: 0.12, eventDays: 2, weight: 2, quality: -0.2, yearInName: true},
	{code: "evt-retail-expo", name: "上海零售数字化博览会", nameEN: "Shanghai Retail Digitalization Expo", ch: model.ChannelOfflineEvent, platform: "offline", kind: "exhibition",
		source: "retail-expo", medium: "offline", path: "/events/retail-expo", event: 0.33, eventDays: 3, region: "east", weight: 1.5, quality: -0.1, yearInName: true},
	{code: "evt-salon-bj", name: "城市沙龙·北京站", nameEN: "City Salon - Beijing", ch: model.ChannelOfflineEvent, platform: "offline", kind: "salon",
		source: "salon-bj", medium: "offline", path: "/events/salon-beijing", event: 0.22, eventDays: 1, region: "north", weight: 0.6, quality: 0.3},
	{code: "evt-salon-sz", name: "城市沙龙·深圳站", nameEN: "City Salon - Shenzhen", ch: model.ChannelOfflineEvent, platform: "offline", kind: "salon",
		source: "salon-sz", medium: "offline", path: "/events/salon-shenzhen", event: 0.45, eventDays: 1, region: "south", weight: 0.6, quality: 0.3},
	{code: "evt-salon-hz", name: "城市沙龙·杭州站", nameEN: "City Salon - Hangzhou", ch: model.ChannelOfflineEvent, platform: "offline", kind: "salon",
		source: "salon-hz", medium: "offline", path: "/events/salon-hangzhou", event: 0.68, eventDays: 1, region: "east", weight: 0.6, quality: 0.3},
	{code: "evt-user-conf", name: "云启年度用户大会", nameEN: "YunQi Annual Customer Conference", ch: model.ChannelOfflineEvent, platform: "offline", kind: "conference",
		source: "user-conference", medium: "offline", path: "/events/customer-conference", event: 0.56, eventDays: 1, weight: 1.5, quality: 0.4, yearInName: true},
	{code: "evt-mfg-cxo", name: "制造业数字化CXO闭门会", nameEN: "Manufacturing CXO Roundtable", ch: model.ChannelOfflineEvent, platform: "offline", kind: "roundtable",
		source: "cxo-roundtable", medium: "offline", path: "/events/cxo-roundtable", event: 0.8, eventDays: 1, region: "east", weight: 0.4, quality: 0.6},
	{code: "evt-waic", name: "世界人工智能大会（展位）", nameEN: "World AI Conference (Booth)", ch: model.ChannelOfflineEvent, platform: "offline", kind: "exhibition",
		source: "waic", medium: "offline", path: "/events/waic", event: 0.5, eventDays: 3, weight: 1.6, quality: -0.4, yearInName: true},

	// Content: whitepapers, reports, case studies.
	{code: "wp-b2b-digital", name: "白皮书：B2B营销数字化趋势", nameEN: "Whitepaper: B2B Marketing Digitalization Trends", ch: model.ChannelContent, platform: "website", kind: "whitepaper",
		source: "website", medium: "content", path: "/resources/b2b-digital", from: 0, to: 1, weight: 3,
		assets: []assetDef{{"whitepaper", "B2B营销数字化趋势白皮书", "B2B Marketing Digitalization Trends", "/resources/b2b-digital.pdf"}}},
	{code: "wp-cdp-build", name: "白皮书：企业CDP建设指南", nameEN: "Whitepaper: Building an Enterprise CDP", ch: model.ChannelContent, platform: "website", kind: "whitepaper",
		source: "website", medium: "content", path: "/resources/cdp-guide", from: 0.15, to: 1, weight: 3, quality: 0.2,
		assets: []assetDef{{"whitepaper", "企业CDP建设指南", "Building an Enterprise CDP", "/resources/cdp-guide.pdf"}, {"checklist", "CDP选型评估清单", "CDP Evaluation Checklist", "/resources/cdp-checklist.xlsx"}}},
	{code: "rpt-private-domain", name: "报告：私域运营基准报告", nameEN: "Report: Private-Domain Benchmark", ch: model.ChannelContent, platform: "website", kind: "report",
		source: "website", medium: "content", path: "/resources/private-domain-benchmark", from: 0.3, to: 1, weight: 2, quality: -0.2,
		assets: []assetDef{{"report", "私域运营基准报告", "Private-Domain Benchmark Report", "/resources/private-domain-benchmark.pdf"}}},
	{code: "case-retail", name: "客户案例集：零售与快消", nameEN: "Case Studies: Retail & FMCG", ch: model.ChannelContent, platform: "website", kind: "case_study",
		source: "website", medium: "content", path: "/cases/retail", from: 0, to: 1, weight: 2, quality: 0.4,
		assets: []assetDef{{"case_study", "零售与快消客户案例集", "Retail & FMCG Case Studies", "/cases/retail.pdf"}}},
	{code: "case-mfg", name: "客户案例集：制造业", nameEN: "Case Studies: Manufacturing", ch: model.ChannelContent, platform: "website", kind: "case_study",
		source: "website", medium: "content", path: "/cases/manufacturing", from: 0.4, to: 1, weight: 1.5, quality: 0.4,
		assets: []assetDef{{"case_study", "制造业客户案例集", "Manufacturing Case Studies", "/cases/manufacturing.pdf"}}},
	{code: "kit-roi", name: "工具包：营销ROI计算器", nameEN: "Toolkit: Marketing ROI Calculator", ch: model.ChannelContent, platform: "website", kind: "toolkit",
		source: "website", medium: "content", path: "/resources/roi-calculator", from: 0.55, to: 1, weight: 1.5, quality: 0.1,
		assets: []assetDef{{"toolkit", "营销ROI计算器", "Marketing ROI Calculator", "/resources/roi-calculator.xlsx"}}},

	// Email nurture.
	{code: "em-welcome", name: "邮件培育-新线索欢迎序列", nameEN: "Email Nurture - New Lead Welcome Series", ch: model.ChannelEmail, platform: "edm", kind: "nurture",
		source: "edm", medium: "email", path: "/welcome", from: 0, to: 1, weight: 3},
	{code: "em-mql-boost", name: "邮件培育-MQL加速", nameEN: "Email Nurture - MQL Accelerator", ch: model.ChannelEmail, platform: "edm", kind: "nurture",
		source: "edm", medium: "email", path: "/cases", from: 0.2, to: 1, weight: 2},
	{code: "em-newsletter", name: "月度产品通讯", nameEN: "Monthly Product Newsletter", ch: model.ChannelEmail, platform: "edm", kind: "newsletter",
		source: "edm", medium: "email", path: "/newsletter", from: 0, to: 1, weight: 1},
	{code: "em-reactivate", name: "沉睡线索唤醒", nameEN: "Dormant Lead Reactivation", ch: model.ChannelEmail, platform: "edm", kind: "reactivation",
		source: "edm", medium: "email", path: "/lp/reactivate", from: 0.6, to: 0.75, weight: 1},

	// Employee sharing (全员营销).
	{code: "share-webinar", name: "全员营销-直播海报转发", nameEN: "Employee Sharing - Webinar Posters", ch: model.ChannelEmployeeShare, platform: "wecom", kind: "employee_sharing",
		source: "employee_share", medium: "share", path: "/webinar", from: 0, to: 1, weight: 2},
	{code: "share-whitepaper", name: "全员营销-白皮书转发", nameEN: "Employee Sharing - Whitepapers", ch: model.ChannelEmployeeShare, platform: "wecom", kind: "employee_sharing",
		source: "employee_share", medium: "share", path: "/resources", from: 0.1, to: 1, weight: 1.5},
	{code: "share-cases", name: "全员营销-客户案例文章", nameEN: "Employee Sharing - Customer Stories", ch: model.ChannelEmployeeShare, platform: "wechat_moments", kind: "employee_sharing",
		source: "employee_share", medium: "share", path: "/cases", from: 0.3, to: 1, weight: 1.5, quality: 0.2},

	// Outbound (电话/SDR外呼).
	{code: "ob-abm", name: "SDR外呼-A类客户ABM", nameEN: "SDR Outbound - Tier A ABM", ch: model.ChannelOutbound, platform: "phone", kind: "outbound_abm",
		source: "sdr", medium: "phone", from: 0, to: 1, weight: 2, quality: 0.2},
	{code: "ob-list", name: "电话外呼-行业名单", nameEN: "Cold Calling - Industry Lists", ch: model.ChannelOutbound, platform: "phone", kind: "cold_call",
		source: "sdr", medium: "phone", from: 0, to: 1, weight: 2, quality: -0.4},
	{code: "ob-event-follow", name: "展会线索回访", nameEN: "Event Lead Follow-up Calls", ch: model.ChannelOutbound, platform: "phone", kind: "follow_up",
		source: "sdr", medium: "phone", from: 0, to: 1},
	{code: "ob-mql-follow", name: "SDR线索跟进", nameEN: "SDR MQL Follow-up", ch: model.ChannelOutbound, platform: "phone", kind: "follow_up",
		source: "sdr", medium: "phone", from: 0, to: 1},
}

// programmeDef is a programme (campaigns.parent_id): a campaign that groups
// the year's campaigns of one channel under one budget and one owner, as a
// marketing plan does. Programmes have no touches of their own; their
// budget and targets are their campaigns' summed.
type programmeDef struct {
	code, name, nameEN string
	ch                 model.Channel
	owner              string // the marketer's mail local part
}

var programmeDefs = []programmeDef{
	{"prog-sem", "搜索营销（SEM）全年投放", "Search Marketing (SEM), All Year", model.ChannelPaidSearch, adOps},
	{"prog-feed", "信息流与社交广告", "Feed and Social Ads", model.ChannelPaidSocial, adOps},
	{"prog-webinar", "线上直播系列", "Webinar Series", model.ChannelWebinar, eventOps},
	{"prog-events", "展会、大会与城市沙龙", "Exhibitions, Conferences and City Salons", model.ChannelOfflineEvent, eventOps},
	{"prog-content", "内容营销：白皮书、报告与客户案例", "Content: Whitepapers, Reports and Case Studies", model.ChannelContent, contentOps},
	{"prog-nurture", "线索培育：邮件营销", "Lead Nurture: Email", model.ChannelEmail, digitalOps},
	{"prog-advocacy", "全员营销", "Employee Advocacy", model.ChannelEmployeeShare, digitalOps},
}

// campaignOwner is the marketer who runs a campaign of a channel.
func campaignOwner(ch model.Channel) string {
	switch ch {
	case model.ChannelPaidSearch, model.ChannelPaidSocial, model.ChannelDisplay:
		return adOps
	case model.ChannelWebinar, model.ChannelOfflineEvent:
		return eventOps
	case model.ChannelContent, model.ChannelWeChat, model.ChannelOrganicSocial:
		return contentOps
	case model.ChannelEmail, model.ChannelWeCom, model.ChannelEmployeeShare, model.ChannelReferral:
		return digitalOps
	}
	return marketingHead // outbound, run with sales
}
