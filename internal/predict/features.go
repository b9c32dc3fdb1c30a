package predict

import (
	"math"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Lead is one person who became a lead, with what the model may learn from:
// traits, the lifecycle times that define the outcome, and touches.
type Lead struct {
	PersonID int64
	LeadAt   time.Time
	// MQLAt is the first move to mql; zero when never.
	MQLAt time.Time
	// OutcomeAt is the first move to sql, opportunity or customer; zero
	// when the person never got there.
	OutcomeAt time.Time

	// Traits of the person and their account.
	Title, Email      string
	FirstTouchChannel string
	Industry          string
	SizeBand          string
	Employees         int
	Tier              string
	Region            string

	// Touches of the person on or after LeadAt, in any order. Touchpoints
	// made from collected events carry the event's track name (snake case)
	// or page_view as Type and the page as URL, so events are counted
	// through them.
	Touches []Touch
}

// Touch is one touchpoint as the model sees it.
type Touch struct {
	At      time.Time
	Type    string
	Channel string
	URL     string
}

// Category fields, in column order.
const (
	fieldIndustry     = "industry"
	fieldSize         = "size"
	fieldTier         = "tier"
	fieldRegion       = "region"
	fieldSeniority    = "seniority"
	fieldEmail        = "email"
	fieldFirstChannel = "first_channel"
)

var categoryFields = [...]string{fieldIndustry, fieldSize, fieldTier, fieldRegion, fieldSeniority, fieldEmail, fieldFirstChannel}

// categoryIndex and behaviourIndex find a column's field among
// categoryFields and behaviourKeys.
var categoryIndex, behaviourIndex = indexOf(categoryFields[:]), indexOf(behaviourKeys[:])

func indexOf(names []string) map[string]int {
	m := make(map[string]int, len(names))
	for i, n := range names {
		m[n] = i
	}
	return m
}

// Behaviour is a kind of buyer action counted in the behaviour window.
type behaviour int

const (
	bPageView behaviour = iota
	bPricingView
	bContentDownload
	bWebinarRegister
	bWebinarAttend
	bBadgeScan
	bDemoRequest
	bFormSubmit
	bEmailOpen
	bEmailClick
	bWeChatFollow
	bWeComAdd
	bAdClick
	bShareClick
	bOtherAction
	bActiveDays
	numBehaviours
)

// behaviourKeys name the behaviours in the model's JSON.
var behaviourKeys = [numBehaviours]string{
	"page_views", "pricing_views", "content_downloads", "webinar_registrations", "webinar_attendances",
	"event_badge_scans", "demo_requests", "form_submits", "email_opens", "email_clicks",
	"wechat_follows", "wecom_adds", "ad_clicks", "share_clicks", "other_actions", "active_days",
}

// Raw is a lead's features before encoding: one level per category field
// and one count per behaviour.
type Raw struct {
	Categories [len(categoryFields)]string
	Counts     [numBehaviours]int
}

// Extract computes a lead's features as of now. Behaviour is counted from
// LeadAt up to the earliest of LeadAt+window, the outcome and now, so that
// nothing known only after the outcome (or after now) is used. Sales-side
// touches (calls, meetings, anything on the outbound channel, and WeCom
// adds after the person became an MQL, which the SDR makes during the
// qualifying call) are never counted: they are the seller's actions, and
// they follow the very decision the model predicts.
func Extract(l Lead, now time.Time, window time.Duration) Raw {
	var r Raw
	r.Categories = [len(categoryFields)]string{
		level(l.Industry),
		sizeLevel(l.SizeBand, l.Employees),
		tierLevel(l.Tier),
		level(l.Region),
		Seniority(l.Title),
		EmailKind(l.Email),
		level(l.FirstTouchChannel),
	}
	end := l.LeadAt.Add(window)
	if !l.OutcomeAt.IsZero() && l.OutcomeAt.Before(end) {
		end = l.OutcomeAt
	}
	if now.Before(end) {
		end = now
	}
	days := map[int64]bool{}
	for _, t := range l.Touches {
		if t.At.Before(l.LeadAt) || !t.At.Before(end) {
			continue
		}
		b, ok := classify(t, l.MQLAt)
		if !ok {
			continue
		}
		r.Counts[b]++
		if b == bDemoRequest {
			r.Counts[bFormSubmit]++
		}
		if b == bPricingView {
			r.Counts[bPageView]++
		}
		days[t.At.Sub(l.LeadAt).Milliseconds()/int64(24*time.Hour/time.Millisecond)] = true
	}
	r.Counts[bActiveDays] = len(days)
	return r
}

// classify maps a touch to a behaviour; false for touches that do not
// count (sales-side touches).
func classify(t Touch, mqlAt time.Time) (behaviour, bool) {
	typ := strings.ToLower(t.Type)
	if t.Channel == "outbound" {
		return 0, false
	}
	switch typ {
	case "call", "meeting", "sales_call", "sales_meeting", "activity":
		return 0, false
	case "page_view", "screen_view", "page", "screen":
		if isPricing(t.URL) {
			return bPricingView, true
		}
		return bPageView, true
	case "form_submit", "form_submitted":
		if pagePath(t.URL) == "/demo" || strings.HasPrefix(pagePath(t.URL), "/demo/") {
			return bDemoRequest, true
		}
		return bFormSubmit, true
	case "email_open", "email_opened":
		return bEmailOpen, true
	case "email_click", "email_clicked", "email_link_clicked":
		return bEmailClick, true
	case "wechat_follow", "wechat_followed", "official_account_followed":
		return bWeChatFollow, true
	case "wecom_add", "wecom_added", "wecom_contact_added":
		if !mqlAt.IsZero() && !t.At.Before(mqlAt) {
			return 0, false
		}
		return bWeComAdd, true
	case "ad_click", "ad_clicked":
		return bAdClick, true
	case "share_click", "share_clicked":
		return bShareClick, true
	case "badge_scan", "badge_scanned", "event_checked_in", "event_attended":
		return bBadgeScan, true
	}
	switch {
	case strings.Contains(typ, "webinar") && strings.Contains(typ, "attend"):
		return bWebinarAttend, true
	case strings.Contains(typ, "webinar") && strings.Contains(typ, "regist"):
		return bWebinarRegister, true
	case strings.Contains(typ, "download"):
		return bContentDownload, true
	case strings.Contains(typ, "demo") && strings.Contains(typ, "request"):
		return bDemoRequest, true
	}
	return bOtherAction, true
}

// pagePath is the path of a URL, lower case, without a trailing slash.
func pagePath(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	p := strings.ToLower(u.Path)
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	return p
}

func isPricing(raw string) bool {
	p := pagePath(raw)
	return p == "/pricing" || strings.HasPrefix(p, "/pricing/") || p == "/price" || strings.HasPrefix(p, "/price/")
}

// unknownLevel stands for a missing trait.
const unknownLevel = "unknown"

func level(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return unknownLevel
	}
	return clip(v, 64)
}

// clip shortens s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func tierLevel(v string) string {
	v = strings.ToUpper(strings.TrimSpace(v))
	if v == "" {
		return "none"
	}
	return clip(v, 16)
}

// sizeBands are the employee bands, smallest first.
var sizeBands = []struct {
	band string
	min  int
}{{"1-49", 1}, {"50-99", 50}, {"100-499", 100}, {"500-999", 500}, {"1000-4999", 1000}, {"5000+", 5000}}

// sizeLevel is the account's size band, or the band of its employee count
// when no band is set.
func sizeLevel(band string, employees int) string {
	if b := strings.TrimSpace(band); b != "" {
		return level(b)
	}
	if employees <= 0 {
		return unknownLevel
	}
	out := sizeBands[0].band
	for _, b := range sizeBands {
		if employees >= b.min {
			out = b.band
		}
	}
	return out
}

// Seniority levels a title can have.
const (
	SeniorityExecutive  = "executive"
	SeniorityDirector   = "director"
	SeniorityManager    = "manager"
	SeniorityIndividual = "individual"
)

// Title words per seniority, checked from the most senior down, so that
// 总经理 (general manager) is an executive and not a manager. Chinese
// words match anywhere; English words match whole words only ("cto" must
// not match inside "director").
var seniorityWords = []struct {
	level   string
	zh      []string
	en      []string
	enMulti []string
}{
	{SeniorityExecutive,
		[]string{"总经理", "总裁", "副总", "董事", "首席", "创始人", "合伙人", "老板"},
		[]string{"ceo", "cto", "cio", "cmo", "coo", "cfo", "cdo", "cso", "cpo", "vp", "svp", "evp", "president", "founder", "cofounder", "owner", "partner", "chairman", "chief", "gm"},
		[]string{"vice president", "general manager", "managing director", "co-founder"}},
	{SeniorityDirector,
		[]string{"总监", "负责人", "部长", "主任"},
		[]string{"director", "head"},
		[]string{"head of"}},
	{SeniorityManager,
		[]string{"经理", "主管", "组长", "主任"},
		[]string{"manager", "lead", "supervisor", "mgr"},
		nil},
	{SeniorityIndividual,
		[]string{"专员", "工程师", "分析师", "助理", "顾问", "设计师", "开发", "运营", "实习", "职员", "文员", "销售"},
		[]string{"engineer", "analyst", "specialist", "assistant", "developer", "consultant", "designer", "associate", "coordinator", "intern", "executive", "representative", "officer", "staff", "scientist", "architect"},
		nil},
}

// Seniority reads how senior a job title is, in Chinese or English:
// executive (CEO, CTO, VP, 总经理, ...), director (总监, 负责人, director,
// head of ...), manager (经理, 主管, manager), individual (专员, 工程师,
// engineer, analyst, ...), or unknown.
func Seniority(title string) string {
	t := strings.ToLower(strings.TrimSpace(title))
	t = clip(t, 200)
	if t == "" {
		return unknownLevel
	}
	words := strings.FieldsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) || r > unicode.MaxLatin1 })
	has := func(w string) bool {
		for _, x := range words {
			if x == w {
				return true
			}
		}
		return false
	}
	for _, s := range seniorityWords {
		for _, w := range s.zh {
			if strings.Contains(t, w) {
				return s.level
			}
		}
		for _, w := range s.enMulti {
			if strings.Contains(t, w) {
				return s.level
			}
		}
		for _, w := range s.en {
			if has(w) {
				return s.level
			}
		}
	}
	return unknownLevel
}

// Email kinds.
const (
	EmailBusiness = "business"
	EmailFree     = "free"
)

// freeMail are consumer mailbox domains: an address there says nothing of
// the company.
var freeMail = map[string]bool{
	"qq.com": true, "vip.qq.com": true, "foxmail.com": true, "163.com": true, "vip.163.com": true, "126.com": true,
	"yeah.net": true, "188.com": true, "sina.com": true, "sina.cn": true, "sohu.com": true, "139.com": true,
	"189.cn": true, "wo.cn": true, "aliyun.com": true, "21cn.com": true, "tom.com": true, "gmail.com": true,
	"googlemail.com": true, "hotmail.com": true, "outlook.com": true, "live.com": true, "msn.com": true,
	"yahoo.com": true, "icloud.com": true, "me.com": true, "proton.me": true, "protonmail.com": true,
}

// EmailKind says whether an address is at a business domain, a free
// consumer mailbox, or missing.
func EmailKind(email string) string {
	_, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@")
	if !ok || domain == "" {
		return unknownLevel
	}
	if freeMail[domain] {
		return EmailFree
	}
	return EmailBusiness
}

// countValue is how a count enters the model: log(1+n), so that the tenth
// page view adds less than the first.
func countValue(n int) float64 { return math.Log1p(float64(n)) }
