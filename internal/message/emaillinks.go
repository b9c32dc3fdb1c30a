package message

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Email links: every email carries an unsubscribe link, an open pixel and
// its links rewritten to revloop's click redirect. Each is a token signed
// with the database's email link key (store.EmailLinkKey): it names the
// person and the message (and, for a click, the original URL), so nothing
// needs storing per message, and a token cannot be forged or altered (the
// click redirect goes only to the URL its token signs, never elsewhere).

// Link kinds inside tokens.
const (
	LinkUnsubscribe = 'u'
	LinkOpen        = 'o'
	LinkClick       = 'c'
)

// Paths of the public email endpoints.
const (
	UnsubscribePath = "/u/"
	OpenPath        = "/e/o/"
	ClickPath       = "/e/c/"
)

// maxLinkURL bounds a tracked link's original URL.
const maxLinkURL = 2048

// macLen is the bytes of HMAC-SHA256 a token keeps: 128 bits.
const macLen = 16

// LinkToken is what a signed email link says.
type LinkToken struct {
	Kind       byte
	PersonID   int64
	MessageKey string
	URL        string // a click's original URL
}

// LinkSigner makes and checks email link tokens with one key.
type LinkSigner struct{ key []byte }

// NewLinkSigner signs with key (store.EmailLinkKey).
func NewLinkSigner(key []byte) LinkSigner { return LinkSigner{key: key} }

func (l LinkSigner) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, l.key)
	m.Write(payload)
	return m.Sum(nil)[:macLen]
}

// Token signs t.
func (l LinkSigner) Token(t LinkToken) string {
	payload := make([]byte, 0, 32+len(t.MessageKey)+len(t.URL))
	payload = append(payload, t.Kind, 0)
	payload = strconv.AppendInt(payload, t.PersonID, 10)
	payload = append(payload, 0)
	payload = append(payload, t.MessageKey...)
	payload = append(payload, 0)
	payload = append(payload, t.URL...)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(l.mac(payload))
}

// ErrBadToken is a link token that is malformed, altered or of another kind.
var ErrBadToken = errors.New("email link: bad token")

// Parse checks a token of kind and says what it signs.
func (l LinkSigner) Parse(kind byte, token string) (LinkToken, error) {
	if len(token) > 4096 {
		return LinkToken{}, ErrBadToken
	}
	p, s, ok := strings.Cut(token, ".")
	if !ok {
		return LinkToken{}, ErrBadToken
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p)
	sig, err2 := enc.DecodeString(s)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, l.mac(payload)) {
		return LinkToken{}, ErrBadToken
	}
	f := strings.SplitN(string(payload), "\x00", 4)
	if len(f) != 4 || len(f[0]) != 1 || f[0][0] != kind {
		return LinkToken{}, ErrBadToken
	}
	id, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || id < 0 {
		return LinkToken{}, ErrBadToken
	}
	return LinkToken{Kind: kind, PersonID: id, MessageKey: f[2], URL: f[3]}, nil
}

// messageLinks builds the links of one message.
type messageLinks struct {
	base   string // revloop's public base URL, no trailing slash
	signer LinkSigner
	person int64
	key    string
}

func (m messageLinks) unsubscribe() string {
	return m.base + UnsubscribePath + m.signer.Token(LinkToken{Kind: LinkUnsubscribe, PersonID: m.person, MessageKey: m.key})
}

func (m messageLinks) open() string {
	return m.base + OpenPath + m.signer.Token(LinkToken{Kind: LinkOpen, PersonID: m.person, MessageKey: m.key})
}

func (m messageLinks) click(target string) string {
	return m.base + ClickPath + m.signer.Token(LinkToken{Kind: LinkClick, PersonID: m.person, MessageKey: m.key, URL: target})
}

// hrefRE finds the http(s) links of anchors and areas: href="..." or
// href='...'.
var hrefRE = regexp.MustCompile(`(?i)(<(?:a|area)\b[^>]*?\bhref\s*=\s*)("|')(https?://[^"']*)("|')`)

// trackLinks rewrites the http(s) links of an HTML body to the click
// redirect, except the unsubscribe link, and those too long to sign.
func (m messageLinks) trackLinks(body, unsub string) string {
	return hrefRE.ReplaceAllStringFunc(body, func(s string) string {
		sub := hrefRE.FindStringSubmatch(s)
		if sub[2] != sub[4] {
			return s
		}
		target := html.UnescapeString(sub[3])
		if target == unsub || len(target) > maxLinkURL || !trackableURL(target) {
			return s
		}
		return sub[1] + sub[2] + html.EscapeString(m.click(target)) + sub[4]
	})
}

// trackableURL accepts absolute http(s) URLs with a host: the only kind
// the click redirect sends anyone to.
func trackableURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && !strings.ContainsAny(s, " \t\r\n\x00")
}
