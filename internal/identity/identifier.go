// Package identity is OneID: it turns the identifiers events carry
// (anonymous ids, user ids, emails, phones, WeChat and WeCom ids, CRM ids)
// into one person per human, links persons to accounts, and applies the
// merge policy: identifiers that arrive together join one person, but two
// persons that each hold a different identifier of the same kind are never
// merged automatically; the conflict is recorded for review instead.
package identity

import (
	_ "embed"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/revloop/revloop/internal/model"
)

// Types lists the identifier types, strongest first: when an event's
// identifiers point at different persons, the person found by the
// strongest one is the event's person.
var Types = []model.IdentityType{
	model.IdentityUserID, model.IdentityCRMID, model.IdentityWeChatUnion, model.IdentityWeComID,
	model.IdentityWeChatOpenID, model.IdentityEmail, model.IdentityPhone, model.IdentityAnonymousID,
}

// ParseType accepts an identifier type name and lists the valid ones when
// it is wrong.
func ParseType(s string) (model.IdentityType, error) {
	t := model.IdentityType(strings.ToLower(strings.TrimSpace(s)))
	for _, ok := range Types {
		if t == ok {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown identifier type %q (want one of %s)", clipText(s, 40), typeNames())
}

func typeNames() string {
	names := make([]string, len(Types))
	for i, t := range Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// Identifier is one normalised identifier.
type Identifier struct {
	Type  model.IdentityType
	Value string
}

func (i Identifier) String() string { return string(i.Type) + ":" + i.Value }

// Kind is what "the same kind" means for the merge policy: the type, and
// for WeChat OpenIDs also the app (a person has one OpenID per app).
func (i Identifier) Kind() string {
	if i.Type == model.IdentityWeChatOpenID {
		if app, _, ok := strings.Cut(i.Value, ":"); ok {
			return string(i.Type) + ":" + app
		}
	}
	return string(i.Type)
}

// Strong says whether an identifier names a human rather than a device.
func (i Identifier) Strong() bool { return i.Type != model.IdentityAnonymousID }

// ErrJunk is a placeholder value that must never link anything.
var ErrJunk = errors.New("placeholder value")

// DefaultPhoneRegion is the region phone numbers without a country code
// belong to unless the setting PhoneRegionSetting says otherwise.
const DefaultPhoneRegion = "CN"

// PhoneRegionSetting is the store.Setting key (a JSON string such as "CN"
// or "SG") for the default phone region.
const PhoneRegionSetting = "identity.phone_region"

// Normaliser normalises identifier values.
type Normaliser struct {
	PhoneRegion string // ISO 3166 region for numbers without +country; CN when empty
}

// maxValueLength bounds any identifier value.
const maxValueLength = 256

// junkValues never identify anyone, whatever their type (compared
// lower-cased, trimmed).
var junkValues = map[string]bool{
	"": true, "null": true, "nil": true, "none": true, "undefined": true, "anonymous": true, "anon": true,
	"unknown": true, "0": true, "-1": true, "n/a": true, "na": true, "nan": true, "false": true, "true": true,
	"test": true, "guest": true, "user": true, "default": true, "[object object]": true, "{}": true, "[]": true,
	"''": true, `""`: true, "-": true, ".": true, "undefined@undefined": true, "(null)": true, "<nil>": true,
	"0000": true, "none@none": true, "00000000-0000-0000-0000-000000000000": true, "未知": true, "无": true, "匿名": true,
}

// placeholderEmailDomains and placeholderLocals catch "test@test.com"-style
// emails typed into forms to get past them.
var placeholderEmailDomains = map[string]bool{
	"example.com": true, "example.org": true, "example.net": true, "example.cn": true, "test.com": true, "test.cn": true,
	"test.test": true, "localhost": true, "invalid": true, "domain.com": true, "email.com": true, "xxx.com": true,
	"abc.com": true, "a.com": true, "aa.com": true, "123.com": true, "qwe.com": true, "asdf.com": true, "test.org": true,
	"mailinator.com": true, "yopmail.com": true, "guerrillamail.com": true, "10minutemail.com": true,
}

var placeholderLocals = map[string]bool{
	"test": true, "test1": true, "test123": true, "testing": true, "null": true, "none": true, "noreply": true,
	"no-reply": true, "donotreply": true, "undefined": true, "anonymous": true, "unknown": true, "xxx": true,
	"abc": true, "asdf": true, "qwerty": true, "123": true, "1234": true, "123456": true, "fake": true, "nobody": true,
	"noemail": true, "no_email": true, "nomail": true, "na": true, "n/a": true, "example": true, "sample": true,
}

// placeholderPhones are numbers people type to get past a form.
var placeholderPhones = map[string]bool{
	"+8613800138000": true, "+8612345678901": true, "+8613000000000": true, "+8618888888888": true, "+8613888888888": true,
	"+8613812345678": true, "+8613912345678": true, "+8613512345678": true,
}

// Normalise returns the canonical form of an identifier value, or an error
// saying why the value cannot identify anyone (ErrJunk for placeholders).
func (n Normaliser) Normalise(t model.IdentityType, raw string) (string, error) {
	v := strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u200b' || r == '\ufeff' {
			return -1
		}
		return r
	}, strings.ToValidUTF8(raw, "")))
	if junkValues[strings.ToLower(v)] {
		return "", fmt.Errorf("%s %q: %w", t, clipText(raw, 40), ErrJunk)
	}
	if len(v) > maxValueLength {
		return "", fmt.Errorf("%s: value is %d bytes long, at most %d allowed", t, len(v), maxValueLength)
	}
	switch t {
	case model.IdentityEmail:
		return normaliseEmail(v)
	case model.IdentityPhone:
		return n.normalisePhone(v)
	case model.IdentityWeChatOpenID:
		app, id, ok := strings.Cut(v, ":")
		app, id = strings.TrimSpace(app), strings.TrimSpace(id)
		if !ok || app == "" || id == "" {
			return "", fmt.Errorf("wechat_openid %q: an OpenID is only unique within its app; send APPID:OPENID", clipText(raw, 40))
		}
		if junkValues[strings.ToLower(id)] || sameChar(id) {
			return "", fmt.Errorf("wechat_openid %q: %w", clipText(raw, 40), ErrJunk)
		}
		return app + ":" + id, nil
	case model.IdentityAnonymousID, model.IdentityUserID, model.IdentityWeChatUnion, model.IdentityWeComID, model.IdentityCRMID:
		if sameChar(v) && len(v) > 1 {
			return "", fmt.Errorf("%s %q: %w", t, clipText(raw, 40), ErrJunk)
		}
		if t != model.IdentityAnonymousID && t != model.IdentityUserID && t != model.IdentityCRMID && strings.ContainsFunc(v, unicode.IsSpace) {
			return "", fmt.Errorf("%s %q: contains spaces", t, clipText(raw, 40))
		}
		return v, nil
	}
	return "", fmt.Errorf("unknown identifier type %q (want one of %s)", t, typeNames())
}

func normaliseEmail(v string) (string, error) {
	e := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(v, "mailto:"), "MAILTO:"))
	e = strings.TrimSpace(e)
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || at == len(e)-1 {
		return "", fmt.Errorf("email %q: not an email address", clipText(v, 40))
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e {
		return "", fmt.Errorf("email %q: not an email address", clipText(v, 40))
	}
	local, domain := e[:at], e[at+1:]
	if !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") || strings.HasPrefix(domain, ".") {
		return "", fmt.Errorf("email %q: the domain %q has no top-level domain", clipText(v, 40), domain)
	}
	label, _, _ := strings.Cut(domain, ".")
	samePlaceholder := local == label && (len(local) <= 3 || placeholderLocals[local] || strings.Trim(local, "0123456789") == "")
	if placeholderEmailDomains[domain] || placeholderLocals[local] || samePlaceholder || (len(local) > 1 && sameChar(local)) {
		return "", fmt.Errorf("email %q: %w", clipText(v, 40), ErrJunk)
	}
	return e, nil
}

func (n Normaliser) normalisePhone(v string) (string, error) {
	region := strings.ToUpper(strings.TrimSpace(n.PhoneRegion))
	if region == "" {
		region = DefaultPhoneRegion
	}
	s := strings.TrimSpace(v)
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if digits < 5 {
		return "", fmt.Errorf("phone %q: too few digits", clipText(v, 40))
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", fmt.Errorf("phone %q: %v", clipText(v, 40), err)
	}
	national := fmt.Sprint(num.GetNationalNumber())
	if sameChar(national) {
		return "", fmt.Errorf("phone %q: %w", clipText(v, 40), ErrJunk)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("phone %q: not a valid number for region %s (add +country code)", clipText(v, 40), region)
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if placeholderPhones[e164] {
		return "", fmt.Errorf("phone %q: %w", clipText(v, 40), ErrJunk)
	}
	return e164, nil
}

// sameChar says whether s is one character repeated ("0000", "aaaa").
func sameChar(s string) bool {
	if s == "" {
		return false
	}
	first, _ := utf8.DecodeRuneInString(s)
	for _, r := range s {
		if r != first {
			return false
		}
	}
	return true
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

//go:embed freemail.txt
var freemailList string

// freeMail holds the email domains that say nothing about the company a
// person works for (one per line in freemail.txt).
var freeMail = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(freemailList, "\n") {
		line = strings.ToLower(strings.TrimSpace(line))
		if line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
}()

// IsFreeMail says whether domain is a free-mail provider's.
func IsFreeMail(domain string) bool { return freeMail[strings.ToLower(strings.TrimSpace(domain))] }

// BusinessDomain returns the company domain of a normalised email, or ""
// for free mail.
func BusinessDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	d := strings.ToLower(email[at+1:])
	if IsFreeMail(d) || d == "" {
		return ""
	}
	return d
}

// NormaliseDomain turns a group trait ("https://www.Acme.cn/about") into a
// bare lower-case domain ("acme.cn"); "" when it is not one.
func NormaliseDomain(raw string) string {
	d := strings.ToLower(strings.TrimSpace(raw))
	if i := strings.Index(d, "://"); i >= 0 {
		d = d[i+3:]
	}
	if i := strings.IndexAny(d, "/?#"); i >= 0 {
		d = d[:i]
	}
	if i := strings.LastIndexByte(d, '@'); i >= 0 {
		d = d[i+1:]
	}
	if h, _, ok := strings.Cut(d, ":"); ok {
		d = h
	}
	d = strings.TrimSuffix(strings.TrimPrefix(d, "www."), ".")
	if !strings.Contains(d, ".") || len(d) > 253 || strings.ContainsAny(d, " \t,;") {
		return ""
	}
	return d
}
