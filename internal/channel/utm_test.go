package channel

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		name  string
		raw   string
		utm   UTM
		click ClickID
	}{
		{"empty", "", UTM{}, ClickID{}},
		{"no query", "https://example.cn/pricing", UTM{}, ClickID{}},
		{"full utm", "https://example.cn/?utm_source=baidu&utm_medium=cpc&utm_campaign=spring&utm_term=crm%20software&utm_content=ad1",
			UTM{"baidu", "cpc", "spring", "crm software", "ad1"}, ClickID{}},
		{"plus is space", "https://x.cn/?utm_term=marketing+automation", UTM{Term: "marketing automation"}, ClickID{}},
		{"upper-case names", "https://x.cn/?UTM_Source=WeChat&UTM_MEDIUM=social", UTM{Source: "WeChat", Medium: "social"}, ClickID{}},
		{"chinese values", "https://x.cn/?utm_campaign=%E6%98%A5%E5%AD%A3%E5%8F%91%E5%B8%83%E4%BC%9A", UTM{Campaign: "春季发布会"}, ClickID{}},
		{"query only", "?utm_source=zhihu&gclid=abc", UTM{Source: "zhihu"}, ClickID{"gclid", "abc"}},
		{"query without question mark", "utm_source=weibo", UTM{Source: "weibo"}, ClickID{}},
		{"gclid", "https://x.com/?gclid=Cj0KCQ", UTM{}, ClickID{"gclid", "Cj0KCQ"}},
		{"gbraid", "https://x.com/?gbraid=0AAAA", UTM{}, ClickID{"gbraid", "0AAAA"}},
		{"wbraid", "https://x.com/?wbraid=CjkK", UTM{}, ClickID{"wbraid", "CjkK"}},
		{"msclkid", "https://x.com/?msclkid=5f2", UTM{}, ClickID{"msclkid", "5f2"}},
		{"fbclid", "https://x.com/?fbclid=IwAR", UTM{}, ClickID{"fbclid", "IwAR"}},
		{"li_fat_id", "https://x.com/?li_fat_id=8c1e", UTM{}, ClickID{"li_fat_id", "8c1e"}},
		{"ttclid", "https://x.com/?ttclid=E.C.P", UTM{}, ClickID{"ttclid", "E.C.P"}},
		{"baidu", "https://x.cn/?bd_vid=11738412", UTM{}, ClickID{"bd_vid", "11738412"}},
		{"ocean engine", "https://x.cn/?clickid=B.abc123&adid=1", UTM{}, ClickID{"clickid", "B.abc123"}},
		{"ocean engine upper", "https://x.cn/?CLICKID=B.abc", UTM{}, ClickID{"clickid", "B.abc"}},
		{"tencent", "https://x.cn/?gdt_vid=wx0abc", UTM{}, ClickID{"gdt_vid", "wx0abc"}},
		{"tencent qzone", "https://x.cn/?qz_gdt=qz1", UTM{}, ClickID{"qz_gdt", "qz1"}},
		{"priority: gclid beats fbclid", "https://x.com/?fbclid=f&gclid=g", UTM{}, ClickID{"gclid", "g"}},
		{"unfilled macros ignored", "https://x.cn/?clickid=__CLICKID__&bd_vid={bd_vid}&gdt_vid=$gdt$", UTM{}, ClickID{}},
		{"macro does not hide a real id", "https://x.cn/?gclid={gclid}&bd_vid=123", UTM{}, ClickID{"bd_vid", "123"}},
		{"fragment utm", "https://x.cn/#utm_source=douyin&utm_medium=social", UTM{Source: "douyin", Medium: "social"}, ClickID{}},
		{"hash router", "https://x.cn/#/landing?utm_source=xhs", UTM{Source: "xhs"}, ClickID{}},
		{"query beats fragment", "https://x.cn/?utm_source=a#utm_source=b", UTM{Source: "a"}, ClickID{}},
		{"first value wins", "https://x.cn/?utm_source=a&utm_source=b", UTM{Source: "a"}, ClickID{}},
		{"empty values skipped", "https://x.cn/?utm_source=&utm_source=b&gclid=", UTM{Source: "b"}, ClickID{}},
		{"bad escape kept as sent", "https://x.cn/?utm_source=50%zz", UTM{Source: "50%zz"}, ClickID{}},
		{"semicolons are part of the value", "https://x.cn/?utm_source=a;b", UTM{Source: "a;b"}, ClickID{}},
		{"controls and NUL removed", "https://x.cn/?utm_source=%00bai%0Adu%7F", UTM{Source: "baidu"}, ClickID{}},
		{"spaces trimmed", "https://x.cn/?utm_source=%20baidu%20", UTM{Source: "baidu"}, ClickID{}},
		{"not utm", "https://x.cn/?source=baidu&utm=1&utm_x=2", UTM{}, ClickID{}},
		{"garbage", "%%%???&&&===#?#", UTM{}, ClickID{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, c := ParseURL(tc.raw)
			if u != tc.utm || c != tc.click {
				t.Fatalf("ParseURL(%q) = %+v %+v, want %+v %+v", tc.raw, u, c, tc.utm, tc.click)
			}
		})
	}
}

func TestParseURLBoundsValues(t *testing.T) {
	long := strings.Repeat("长", 400) // 1200 bytes
	u, _ := ParseURL("?utm_campaign=" + long + "&utm_source=%ff%fe")
	if len(u.Campaign) > maxParamValueLength || !utf8.ValidString(u.Campaign) || !strings.HasPrefix(long, u.Campaign) || u.Campaign == "" {
		t.Fatalf("long value: %d bytes, valid %v", len(u.Campaign), utf8.ValidString(u.Campaign))
	}
	if u.Source != "\uFFFD" { // a run of invalid bytes becomes one replacement character
		t.Fatalf("invalid UTF-8 value: %q", u.Source)
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"", "https://example.cn/?utm_source=baidu&utm_medium=cpc&bd_vid=123",
		"?gclid=abc#utm_source=x", "https://x.cn/#/a?utm_term=%E6%98%A5", "utm_source=%zz&clickid=__CLICKID__",
		"https://x.cn/?utm_campaign=" + strings.Repeat("%E6%98%A5", 300), "\x00?utm_source=\xff", "&&==??##",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, c := ParseURL(raw)
		for _, v := range []string{u.Source, u.Medium, u.Campaign, u.Term, u.Content, c.Value} {
			if !utf8.ValidString(v) || len(v) > maxParamValueLength || strings.ContainsRune(v, 0) || strings.TrimSpace(v) != v {
				t.Fatalf("ParseURL(%q) returned unsafe value %q", raw, v)
			}
		}
		if (c.Type == "") != (c.Value == "") || (c.Type != "" && !isClickParam(c.Type)) {
			t.Fatalf("ParseURL(%q) returned click id %+v", raw, c)
		}
	})
}
