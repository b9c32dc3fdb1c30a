package channel

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// Click id types, named after the query parameter that carries them.
const (
	ClickGoogle         = "gclid"     // Google Ads
	ClickGoogleIOSApp   = "gbraid"    // Google Ads, iOS app campaigns
	ClickGoogleIOSWeb   = "wbraid"    // Google Ads, iOS web-to-app
	ClickMicrosoft      = "msclkid"   // Microsoft Advertising (Bing)
	ClickMeta           = "fbclid"    // Facebook / Instagram
	ClickLinkedIn       = "li_fat_id" // LinkedIn
	ClickTikTok         = "ttclid"    // TikTok
	ClickBaidu          = "bd_vid"    // 百度营销 (Baidu)
	ClickOceanEngine    = "clickid"   // 巨量引擎 (Ocean Engine: Douyin, Toutiao)
	ClickTencent        = "gdt_vid"   // 腾讯广告 (Tencent Ads)
	ClickTencentQzone   = "qz_gdt"    // 腾讯广告, Qzone / older placements
	maxParamValueLength = 512
)

// clickIDParams lists the click id parameters in the order they win when a
// URL carries several.
var clickIDParams = []string{
	ClickGoogle, ClickGoogleIOSApp, ClickGoogleIOSWeb, ClickMicrosoft, ClickMeta, ClickLinkedIn,
	ClickTikTok, ClickBaidu, ClickOceanEngine, ClickTencent, ClickTencentQzone,
}

// ParseURL reads the UTM parameters and the first known ad click id from a
// landing URL (or just its query string, with or without the leading "?").
// Parameter names are matched case-insensitively; the query wins over a
// fragment that looks like one ("#utm_source=..."), which single-page sites
// sometimes use. Unreplaced ad-platform macros such as "__CLICKID__" or
// "{gclid}" are ignored. It never fails: garbage yields empty values, and
// every value returned is valid UTF-8 without NUL bytes, at most 512 bytes.
func ParseURL(raw string) (UTM, ClickID) {
	var u UTM
	var c ClickID
	if raw == "" {
		return u, c
	}
	query, fragment := raw, ""
	if i := strings.IndexByte(query, '#'); i >= 0 {
		query, fragment = query[:i], query[i+1:]
	}
	if i := strings.IndexByte(query, '?'); i >= 0 {
		query = query[i+1:]
	} else if !strings.Contains(query, "=") || strings.Contains(query, "://") {
		query = "" // a URL without a query string
	}
	if i := strings.IndexByte(fragment, '?'); i >= 0 {
		fragment = fragment[i+1:] // "#/landing?utm_source=x" (hash routers)
	}
	clickRank := len(clickIDParams)
	for _, part := range []string{query, fragment} {
		for part != "" {
			var pair string
			pair, part, _ = strings.Cut(part, "&")
			if pair == "" {
				continue
			}
			k, v, _ := strings.Cut(pair, "=")
			k = strings.ToLower(strings.TrimSpace(unescape(k)))
			if !strings.HasPrefix(k, "utm_") && !isClickParam(k) {
				continue
			}
			v = clean(unescape(v))
			if v == "" {
				continue
			}
			switch k {
			case "utm_source":
				setOnce(&u.Source, v)
			case "utm_medium":
				setOnce(&u.Medium, v)
			case "utm_campaign":
				setOnce(&u.Campaign, v)
			case "utm_term":
				setOnce(&u.Term, v)
			case "utm_content":
				setOnce(&u.Content, v)
			default:
				if isMacro(v) {
					continue
				}
				for rank, p := range clickIDParams {
					if p == k && rank < clickRank {
						clickRank = rank
						c = ClickID{Type: p, Value: v}
					}
				}
			}
		}
	}
	return u, c
}

func isClickParam(k string) bool {
	for _, p := range clickIDParams {
		if p == k {
			return true
		}
	}
	return false
}

func setOnce(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// unescape decodes %XX and '+'; a malformed escape leaves the text as sent.
func unescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

// clean makes a parameter value safe to store: valid UTF-8, no NUL or other
// control characters, trimmed, at most maxParamValueLength bytes.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexFunc(s, isControl) >= 0 {
		s = strings.Map(func(r rune) rune {
			if isControl(r) {
				return -1
			}
			return r
		}, s)
	}
	s = strings.TrimSpace(s)
	if len(s) > maxParamValueLength {
		cut := maxParamValueLength
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// isMacro says whether a value is an ad platform's placeholder that was not
// filled in: "__CLICKID__", "{gclid}", "{{clickid}}", "$clickid$".
func isMacro(v string) bool {
	switch {
	case len(v) >= 4 && strings.HasPrefix(v, "__") && strings.HasSuffix(v, "__"):
		return true
	case len(v) >= 2 && v[0] == '{' && v[len(v)-1] == '}':
		return true
	case len(v) >= 2 && v[0] == '$' && v[len(v)-1] == '$':
		return true
	}
	return false
}
