package channel

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/model"
)

func TestClassifyDefaultRules(t *testing.T) {
	const site = "https://www.revloop.cn/pricing"
	page := func(url, ref string) Touch { return Touch{URL: url, Referrer: ref, EventType: "page"} }
	utm := func(src, med string) Touch {
		return Touch{UTM: UTM{Source: src, Medium: med}, URL: site, EventType: "page"}
	}
	click := func(typ string) Touch {
		return Touch{ClickID: ClickID{Type: typ, Value: "x1"}, URL: site, EventType: "page"}
	}
	cases := []struct {
		name   string
		touch  Touch
		want   model.Channel
		source string
		medium string
	}{
		// Paid search on every China engine, by utm.
		{"baidu cpc", utm("baidu", "cpc"), model.ChannelPaidSearch, "baidu", "cpc"},
		{"百度 cpc (alias)", utm("百度", "CPC"), model.ChannelPaidSearch, "baidu", "cpc"},
		{"sogou cpc", utm("sogou", "cpc"), model.ChannelPaidSearch, "sogou", "cpc"},
		{"360 cpc", utm("360", "cpc"), model.ChannelPaidSearch, "360", "cpc"},
		{"so.com as source", utm("so.com", "cpc"), model.ChannelPaidSearch, "360", "cpc"},
		{"shenma cpc", utm("shenma", "cpc"), model.ChannelPaidSearch, "shenma", "cpc"},
		{"神马 ocpc", utm("神马", "ocpc"), model.ChannelPaidSearch, "shenma", "ocpc"},
		{"bing cpc", utm("bing", "cpc"), model.ChannelPaidSearch, "bing", "cpc"},
		{"www.baidu.com as source", utm("www.baidu.com", "ppc"), model.ChannelPaidSearch, "baidu", "ppc"},
		{"sem medium, unknown source", utm("partner-x", "sem"), model.ChannelPaidSearch, "partner-x", "sem"},
		// Organic search from referrers.
		{"baidu referrer", page(site, "https://www.baidu.com/link?url=abc"), model.ChannelOrganicSearch, "baidu", "organic"},
		{"mobile baidu referrer", page(site, "https://m.baidu.com/s?word=crm"), model.ChannelOrganicSearch, "baidu", "organic"},
		{"sogou referrer", page(site, "https://www.sogou.com/web?query=crm"), model.ChannelOrganicSearch, "sogou", "organic"},
		{"360 referrer", page(site, "https://www.so.com/s?q=crm"), model.ChannelOrganicSearch, "360", "organic"},
		{"shenma referrer", page(site, "https://m.sm.cn/s?q=crm"), model.ChannelOrganicSearch, "shenma", "organic"},
		{"bing cn referrer", page(site, "https://cn.bing.com/search?q=crm"), model.ChannelOrganicSearch, "bing", "organic"},
		{"google hk referrer", page(site, "https://www.google.com.hk/"), model.ChannelOrganicSearch, "google", "organic"},
		{"baidu organic utm", utm("baidu", "organic"), model.ChannelOrganicSearch, "baidu", "organic"},
		// Social sites: organic by referrer or utm, paid with a paid medium.
		{"wechat article referrer", page(site, "https://mp.weixin.qq.com/s/abc"), model.ChannelWeChat, "wechat", "referral"},
		{"weixin utm", utm("weixin", "social"), model.ChannelWeChat, "wechat", "social"},
		{"weibo referrer", page(site, "https://weibo.com/u/123"), model.ChannelOrganicSocial, "weibo", "referral"},
		{"weibo short link", page(site, "http://t.cn/A6x"), model.ChannelOrganicSocial, "weibo", "referral"},
		{"zhihu referrer", page(site, "https://www.zhihu.com/question/1"), model.ChannelOrganicSocial, "zhihu", "referral"},
		{"douyin referrer", page(site, "https://www.douyin.com/video/1"), model.ChannelOrganicSocial, "douyin", "referral"},
		{"xiaohongshu referrer", page(site, "https://www.xiaohongshu.com/explore/1"), model.ChannelOrganicSocial, "xiaohongshu", "referral"},
		{"xhs utm", utm("xhs", "social"), model.ChannelOrganicSocial, "xiaohongshu", "social"},
		{"bilibili referrer", page(site, "https://www.bilibili.com/video/BV1"), model.ChannelOrganicSocial, "bilibili", "referral"},
		{"b23 short link", page(site, "https://b23.tv/abc"), model.ChannelOrganicSocial, "bilibili", "referral"},
		{"linkedin referrer", page(site, "https://www.linkedin.com/feed/"), model.ChannelOrganicSocial, "linkedin", "referral"},
		{"douyin cpc", utm("douyin", "cpc"), model.ChannelPaidSocial, "douyin", "cpc"},
		{"wechat cpc", utm("wechat", "cpc"), model.ChannelPaidSocial, "wechat", "cpc"},
		{"linkedin paid", utm("linkedin", "paid_social"), model.ChannelPaidSocial, "linkedin", "paid_social"},
		{"feed medium", utm("oceanengine", "信息流"), model.ChannelPaidSocial, "oceanengine", "信息流"},
		{"social medium", utm("partner-blog", "social"), model.ChannelOrganicSocial, "partner-blog", "social"},
		// Click ids without utm.
		{"gclid", click("gclid"), model.ChannelPaidSearch, "google", "cpc"},
		{"gbraid", click("gbraid"), model.ChannelPaidSearch, "google", "cpc"},
		{"wbraid", click("wbraid"), model.ChannelPaidSearch, "google", "cpc"},
		{"msclkid", click("msclkid"), model.ChannelPaidSearch, "bing", "cpc"},
		{"bd_vid", click("bd_vid"), model.ChannelPaidSearch, "baidu", "cpc"},
		{"fbclid", click("fbclid"), model.ChannelPaidSocial, "facebook", "cpc"},
		{"li_fat_id", click("li_fat_id"), model.ChannelPaidSocial, "linkedin", "cpc"},
		{"ttclid", click("ttclid"), model.ChannelPaidSocial, "tiktok", "cpc"},
		{"ocean engine clickid", click("clickid"), model.ChannelPaidSocial, "oceanengine", "cpc"},
		{"gdt_vid", click("gdt_vid"), model.ChannelPaidSocial, "tencent_ads", "cpc"},
		{"qz_gdt", click("qz_gdt"), model.ChannelPaidSocial, "tencent_ads", "cpc"},
		{"bd_vid with utm source", Touch{UTM: UTM{Source: "baidu"}, ClickID: ClickID{Type: "bd_vid", Value: "v"}}, model.ChannelPaidSearch, "baidu", "cpc"},
		// Other channels.
		{"display", utm("36kr", "banner"), model.ChannelDisplay, "36kr", "banner"},
		{"email medium", utm("newsletter-2026-04", "email"), model.ChannelEmail, "newsletter-2026-04", "email"},
		{"edm source", utm("edm", ""), model.ChannelEmail, "email", ""},
		{"qq mail referrer", page(site, "https://mail.qq.com/cgi-bin/frame_html"), model.ChannelEmail, "qq_mail", "referral"},
		{"wecom source", utm("企业微信", "chat"), model.ChannelWeCom, "wecom", "chat"},
		{"wecom referrer", page(site, "https://work.weixin.qq.com/x"), model.ChannelWeCom, "wecom", "referral"},
		{"webinar medium", utm("wechat", "webinar"), model.ChannelWebinar, "wechat", "webinar"},
		{"webinar event", Touch{EventType: "track", EventName: "Webinar Attended"}, model.ChannelWebinar, "", ""},
		{"exhibition", utm("cmo-summit", "exhibition"), model.ChannelOfflineEvent, "cmo-summit", "exhibition"},
		{"badge scan", Touch{EventType: "track", EventName: "Badge Scanned"}, model.ChannelOfflineEvent, "", ""},
		{"content medium", utm("blog", "whitepaper"), model.ChannelContent, "blog", "whitepaper"},
		{"employee share by promoter", Touch{UTM: UTM{Source: "wechat", Medium: "social"}, Promoter: "17"}, model.ChannelEmployeeShare, "wechat", "social"},
		{"employee share medium", utm("wechat", "employee_share"), model.ChannelEmployeeShare, "wechat", "employee_share"},
		{"outbound", utm("sdr-team", "cold_email"), model.ChannelOutbound, "sdr-team", "cold_email"},
		{"webinar campaign without utm medium", Touch{UTM: UTM{Campaign: "web-1"}, CampaignChannel: "webinar"}, model.ChannelWebinar, "", ""},
		{"paid search campaign without medium", Touch{UTM: UTM{Campaign: "bd-brand"}, CampaignChannel: "paid_search"}, model.ChannelPaidSearch, "", ""},
		{"referral", page(site, "https://www.36kr.com/p/1"), model.ChannelReferral, "36kr.com", "referral"},
		{"internal navigation is direct", page(site, "https://revloop.cn/"), model.ChannelDirect, "(direct)", "(none)"},
		{"direct", page(site, ""), model.ChannelDirect, "(direct)", "(none)"},
		{"utm source only, unknown", utm("foo", ""), model.ChannelUnknown, "foo", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Classify(c.touch, nil)
			if got.Channel != c.want || got.Source != c.source || got.Medium != c.medium {
				rule := "none"
				if got.Rule >= 0 {
					rule = DefaultRules().Rules[got.Rule].Name
				}
				t.Fatalf("got %s %q/%q (rule %s), want %s %q/%q", got.Channel, got.Source, got.Medium, rule, c.want, c.source, c.medium)
			}
		})
	}
}

func TestDefaultRulesRoundTrip(t *testing.T) {
	raw, err := json.Marshal(DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ParseRules(raw)
	if err != nil {
		t.Fatalf("re-parse the marshalled default rules: %v", err)
	}
	if len(rs.Rules) != len(DefaultRules().Rules) {
		t.Fatalf("%d rules after round trip, want %d", len(rs.Rules), len(DefaultRules().Rules))
	}
	tc := Touch{UTM: UTM{Source: "baidu", Medium: "cpc"}}
	if a, b := rs.Classify(tc), DefaultRules().Classify(tc); a != b {
		t.Fatalf("round trip changed classification: %+v vs %+v", a, b)
	}
}

func TestCustomRules(t *testing.T) {
	rs, err := ParseRules([]byte(`{"rules":[
		{"name":"Partner webinars","channel":"webinar","when":[{"field":"campaign","match":"regex","value":"^wb-\\d+$"}]},
		{"name":"Not baidu","channel":"referral","when":[{"field":"source","match":"exact","value":"baidu","not":true},{"field":"source","match":"exists"}]},
		{"name":"Landing path","channel":"content","when":[{"field":"url","match":"contains","value":"/whitepaper/"}]},
		{"name":"Our sites","channel":"direct","when":[{"field":"url_host","match":"domain","values":["revloop.cn"]}]},
		{"channel":"unknown","when":[]}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		touch Touch
		want  model.Channel
	}{
		{Touch{UTM: UTM{Campaign: "WB-12"}}, model.ChannelWebinar},
		{Touch{UTM: UTM{Campaign: "wb-x"}}, model.ChannelUnknown},
		{Touch{UTM: UTM{Source: "sogou"}}, model.ChannelReferral},
		{Touch{UTM: UTM{Source: "baidu"}}, model.ChannelUnknown},
		{Touch{URL: "https://x.cn/Whitepaper/cdp"}, model.ChannelContent},
		{Touch{URL: "https://app.revloop.cn/"}, model.ChannelDirect},
		{Touch{URL: "https://notrevloop.cn/"}, model.ChannelUnknown},
	} {
		if got := rs.Classify(c.touch); got.Channel != c.want {
			t.Errorf("%+v: got %s, want %s", c.touch, got.Channel, c.want)
		}
	}
}

func TestRuleValidation(t *testing.T) {
	cases := []struct {
		name, json, want string
	}{
		{"not json", `{"rules":[`, "malformed rule set JSON"},
		{"unknown key", `{"rulez":[]}`, `unknown field "rulez"`},
		{"no rules", `{"rules":[]}`, "has no rules"},
		{"missing channel", `{"rules":[{"name":"a","when":[{"field":"source","match":"exists"}]}]}`, `rules[0] ("a"): channel is missing`},
		{"unknown channel", `{"rules":[{"channel":"tv","when":[{"field":"source","match":"exists"}]}]}`, `rules[0]: unknown channel "tv" (want one of paid_search`},
		{"unknown field", `{"rules":[{"channel":"direct","when":[{"field":"source","match":"exists"}]},{"name":"x","channel":"direct","when":[{"field":"sorce","match":"exact","value":"a"}]}]}`,
			`rules[1] ("x"): when[0]: unknown field "sorce" (want one of source, medium`},
		{"unknown match", `{"rules":[{"channel":"direct","when":[{"field":"source","match":"like","value":"a"}]}]}`, `rules[0]: when[0]: unknown match "like"`},
		{"missing match", `{"rules":[{"channel":"direct","when":[{"field":"source"}]}]}`, `rules[0]: when[0]: match is missing`},
		{"bad regex", `{"rules":[{"channel":"direct","when":[{"field":"source","match":"regex","value":"(a"}]}]}`, `rules[0]: when[0]: bad regex "(a"`},
		{"contains without value", `{"rules":[{"channel":"direct","when":[{"field":"source","match":"contains"}]}]}`, `match contains needs a value`},
		{"in without values", `{"rules":[{"channel":"direct","when":[{"field":"source","match":"in"}]}]}`, `match in needs values or a list`},
		{"in with value", `{"rules":[{"channel":"direct","when":[{"field":"source","match":"in","value":"a"}]}]}`, `match in takes values or list, not value`},
		{"exact with values", `{"rules":[{"channel":"direct","when":[{"field":"source","match":"exact","values":["a"]}]}]}`, `match exact takes value, not values or list`},
		{"exists with value", `{"rules":[{"channel":"direct","when":[{"field":"source","match":"exists","value":"a"}]}]}`, `match exists takes no value`},
		{"unknown list", `{"lists":{"a":["x"]},"rules":[{"channel":"direct","when":[{"field":"source","match":"in","list":"b"}]}]}`, `unknown list "b" (defined lists: a)`},
		{"catch-all not last", `{"rules":[{"name":"all","channel":"direct","when":[]},{"channel":"email","when":[{"field":"source","match":"exists"}]}]}`,
			`rules[0] ("all"): has no conditions, so it matches every touch and rules 1 to 1 could never match`},
		{"empty alias", `{"source_aliases":{"":"x"},"rules":[{"channel":"direct","when":[]}]}`, `source_aliases: empty key or value`},
		{"regex too long", `{"rules":[{"channel":"direct","when":[{"field":"source","match":"regex","value":"` + strings.Repeat("a", 1001) + `"}]}]}`, `at most 1000 allowed`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseRules([]byte(c.json))
			if err == nil {
				t.Fatal("accepted")
			}
			if !IsValidationError(err) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
		})
	}
}

func FuzzClassify(f *testing.F) {
	f.Add("baidu", "cpc", "https://x.cn/?bd_vid=1", "https://www.baidu.com/", "bd_vid", "Form Submitted")
	f.Add("", "", "", "http://[::1", "", "")
	f.Add("www.so.com", "organic", "/path", "//weibo.com", "clickid", "")
	f.Fuzz(func(t *testing.T, src, med, u, ref, click, name string) {
		got := Classify(Touch{UTM: UTM{Source: src, Medium: med}, URL: u, Referrer: ref, ClickID: ClickID{Type: click, Value: "v"}, EventName: name}, nil)
		if got.Channel == "" {
			t.Fatal("empty channel")
		}
	})
}
