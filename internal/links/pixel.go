package links

import (
	"fmt"
	"net/url"
	"strings"
)

// Pixel is what a tracking pixel request (GET /p.gif?...) reports.
type Pixel struct {
	WriteKey    string
	Event       string // track event name; "Email Opened" by default
	AnonymousID string
	UserID      string
	MessageID   string // the sender's id of this open; empty: one is drawn
	UTM         UTM
}

// PixelError is bad pixel input; Reason is a short label for metrics.
type PixelError struct {
	Reason string
	Err    error
}

func (e *PixelError) Error() string { return e.Err.Error() }

func pixelErr(reason, format string, args ...any) error {
	return &PixelError{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// ParsePixel reads a pixel's query: k (write key), e (event name), aid
// (anonymous id), uid (user id), mid (message id), c or utm_campaign, and
// the other utm_* parameters.
func ParsePixel(q url.Values) (Pixel, error) {
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	p := Pixel{WriteKey: get("k"), Event: get("e"), AnonymousID: get("aid"), UserID: get("uid"), MessageID: get("mid"),
		UTM: UTM{Source: get("utm_source"), Medium: get("utm_medium"), Campaign: get("utm_campaign"), Term: get("utm_term"), Content: get("utm_content")}}
	if p.UTM.Campaign == "" {
		p.UTM.Campaign = get("c")
	}
	if p.WriteKey == "" {
		return p, pixelErr("no_write_key", "no write key: add k=WRITE_KEY")
	}
	if p.Event == "" {
		p.Event = "Email Opened"
	}
	if p.AnonymousID == "" && p.UserID == "" {
		return p, pixelErr("no_identity", "no aid (anonymous id) or uid (user id)")
	}
	for _, f := range []struct{ name, v string }{{"k", p.WriteKey}, {"e", p.Event}, {"aid", p.AnonymousID}, {"uid", p.UserID}, {"mid", p.MessageID}} {
		if len(f.v) > 200 {
			return p, pixelErr("too_long", "%s is longer than 200 bytes", f.name)
		}
		for _, c := range f.v {
			if c < 0x20 || c == 0x7f {
				return p, pixelErr("bad_value", "%s holds a control character", f.name)
			}
		}
	}
	if err := p.UTM.Check(); err != nil {
		return p, &PixelError{Reason: "bad_value", Err: err}
	}
	return p, nil
}
