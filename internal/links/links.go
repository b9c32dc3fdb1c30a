// Package links is the logic of tracked links, QR codes and tracking
// pixels: short codes, landing-URL validation, appending UTM parameters,
// and rendering a link as a QR code. It is pure: no database, no HTTP
// server.
package links

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// MaxURL is the longest landing URL a link may point to.
const MaxURL = 2048

const codeAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// NewCode draws a random 8-character code from an alphabet without look-alike
// characters (0/O, 1/l/I), so that a code read off paper is typed right.
// 56^8 ≈ 9.7e13 codes: guessing a live one is hopeless.
func NewCode() string {
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b)
}

// Compiled on first use: its counted repetition makes it costly to compile,
// and most commands never need it.
var codeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{4,32}$`) })

// ValidCode says whether s can be a link code; anything else is answered
// 404 without a database look-up.
func ValidCode(s string) bool { return codeRE().MatchString(s) }

// ParseTarget checks a landing URL: absolute http or https, with a host,
// without credentials, at most MaxURL bytes, no spaces or control
// characters. It returns the URL as it will be used.
func ParseTarget(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("landing URL is empty")
	}
	if len(raw) > MaxURL {
		return nil, fmt.Errorf("landing URL is longer than %d bytes", MaxURL)
	}
	for _, c := range raw {
		if c <= 0x20 || c == 0x7f || c == '\\' {
			return nil, fmt.Errorf("landing URL %q holds a space, backslash or control character", short(raw))
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("landing URL %q is not a URL", short(raw))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("landing URL %q must start with http:// or https://", short(raw))
	}
	if u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return nil, fmt.Errorf("landing URL %q has no host", short(raw))
	}
	if u.User != nil {
		return nil, fmt.Errorf("landing URL %q must not carry a user name or password", short(raw))
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil {
			return nil, fmt.Errorf("landing URL %q has a bad port", short(raw))
		}
	}
	return u, nil
}

func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// UTM are the campaign parameters a link appends.
type UTM struct {
	Source, Medium, Campaign, Term, Content string
}

// Pairs lists the parameters in their usual order, empty ones left out.
func (u UTM) Pairs() [][2]string {
	var out [][2]string
	for _, p := range [][2]string{{"utm_source", u.Source}, {"utm_medium", u.Medium}, {"utm_campaign", u.Campaign}, {"utm_term", u.Term}, {"utm_content", u.Content}} {
		if p[1] != "" {
			out = append(out, p)
		}
	}
	return out
}

// Check refuses values too long or with control characters.
func (u UTM) Check() error {
	for _, p := range u.Pairs() {
		if len(p[1]) > 200 {
			return fmt.Errorf("%s is longer than 200 bytes", p[0])
		}
		for _, c := range p[1] {
			if c < 0x20 || c == 0x7f {
				return fmt.Errorf("%s holds a control character", p[0])
			}
		}
	}
	return nil
}

// Landing builds the URL a click goes to: target with the UTM parameters
// appended and the visitor's anonymous id as rl_aid (for the browser SDK to
// adopt). A parameter the target already carries is kept as it is: whoever
// wrote the landing URL chose it on purpose. The fragment stays last.
func Landing(target *url.URL, utm UTM, anonymousID string) string {
	u := *target
	q := u.Query()
	var add []string
	for _, p := range utm.Pairs() {
		if _, ok := q[p[0]]; !ok {
			add = append(add, url.QueryEscape(p[0])+"="+url.QueryEscape(p[1]))
		}
	}
	if anonymousID != "" {
		add = append(add, "rl_aid="+url.QueryEscape(anonymousID))
	}
	if len(add) > 0 {
		// Append to the raw query, so that the target's own parameters
		// keep their order and encoding.
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += strings.Join(add, "&")
	}
	u.ForceQuery = false
	return u.String()
}

// Compiled on first use: its counted repetition makes it costly to compile,
// and most commands never need it.
var anonRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`) })

// ValidAnonymousID says whether a cookie value can be used as an anonymous id.
func ValidAnonymousID(s string) bool { return anonRE().MatchString(s) }

// NewAnonymousID draws a random anonymous id (UUID v4 text, like the
// browser SDK's).
func NewAnonymousID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
