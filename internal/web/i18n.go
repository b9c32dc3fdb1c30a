package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"

	"golang.org/x/text/language"

	"github.com/revloop/revloop/internal/model"
)

// Lang is a language the pages are written in.
type Lang string

const (
	LangEN Lang = "en"
	LangZH Lang = "zh-CN"
)

// langs lists the supported languages in the order the switch shows them.
var langs = []Lang{LangZH, LangEN}

// langCookie remembers a language chosen with ?lang=.
const langCookie = "lang"

//go:embed locales
var localeFS embed.FS

// catalog holds every visible string of the pages in every language.
type catalog map[Lang]map[string]string

// loadCatalog reads the embedded catalogues — one directory per language,
// one file per area of the product (core.json, dashboards.json...) — and
// checks that no key is defined twice and that every language has the
// same keys, including a name for every channel and funnel stage, so that
// a page never shows a raw key in one language only.
func loadCatalog() (catalog, error) {
	c := catalog{}
	for _, l := range langs {
		dir := "locales/" + string(l)
		files, err := fs.ReadDir(localeFS, dir)
		if err != nil {
			return nil, fmt.Errorf("translations for %s: %w", l, err)
		}
		m := map[string]string{}
		from := map[string]string{}
		for _, f := range files {
			if f.IsDir() || path.Ext(f.Name()) != ".json" {
				continue
			}
			b, err := localeFS.ReadFile(dir + "/" + f.Name())
			if err != nil {
				return nil, fmt.Errorf("translations for %s: %w", l, err)
			}
			part := map[string]string{}
			if err := json.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("translations for %s, %s: %w", l, f.Name(), err)
			}
			for k, v := range part {
				if prev, dup := from[k]; dup {
					return nil, fmt.Errorf("translations for %s: %q is in both %s and %s", l, k, prev, f.Name())
				}
				m[k], from[k] = v, f.Name()
			}
		}
		c[l] = m
	}
	var need []string
	for _, ch := range model.Channels {
		need = append(need, "channel."+string(ch))
	}
	for _, st := range model.FunnelStages {
		need = append(need, "stage."+string(st))
	}
	for _, l := range langs {
		for _, k := range need {
			if _, ok := c[l][k]; !ok {
				return nil, fmt.Errorf("translations for %s lack %q", l, k)
			}
		}
		for _, other := range langs {
			for k := range c[other] {
				if _, ok := c[l][k]; !ok {
					return nil, fmt.Errorf("translations for %s lack %q (present for %s)", l, k, other)
				}
			}
		}
	}
	return c, nil
}

// keys lists the catalogue's keys, sorted, for tests.
func (c catalog) keys() []string {
	var out []string
	for k := range c[LangEN] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Locale is the catalogue of one language, handed to templates.
type Locale struct {
	Lang Lang
	msgs map[string]string
}

func (c catalog) locale(l Lang) Locale { return Locale{Lang: l, msgs: c[l]} }

// T translates key. args are name/value pairs replacing {name} in the text.
// A missing key shows itself, which the catalogue tests make impossible for
// the keys the templates use.
func (l Locale) T(key string, args ...any) string {
	s, ok := l.msgs[key]
	if !ok {
		return key
	}
	for i := 0; i+1 < len(args); i += 2 {
		s = strings.ReplaceAll(s, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return s
}

// Channel names a channel; a channel outside the catalogue (added by a
// custom rule) shows its key.
func (l Locale) Channel(ch model.Channel) string {
	if s, ok := l.msgs["channel."+string(ch)]; ok {
		return s
	}
	return string(ch)
}

// Stage names a lifecycle stage.
func (l Locale) Stage(st model.Stage) string {
	if s, ok := l.msgs["stage."+string(st)]; ok {
		return s
	}
	return string(st)
}

// parseLang accepts a supported language name, loosely.
func parseLang(s string) (Lang, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "en", "en-us", "en-gb":
		return LangEN, true
	case "zh", "zh-cn", "zh-hans", "zh-hans-cn":
		return LangZH, true
	}
	return "", false
}

// requestLang picks the page language: ?lang= (which the caller stores in
// the cookie), then the lang cookie, then Accept-Language (any zh* → zh-CN,
// otherwise English). It reports whether ?lang= chose it.
func requestLang(r *http.Request) (Lang, bool) {
	if l, ok := parseLang(r.URL.Query().Get("lang")); ok {
		return l, true
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if l, ok := parseLang(c.Value); ok {
			return l, false
		}
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil {
		return LangEN, false
	}
	for _, t := range tags { // sorted by preference
		base, _ := t.Base()
		switch base.String() {
		case "zh":
			return LangZH, false
		case "en":
			return LangEN, false
		}
	}
	return LangEN, false
}

// setLangCookie remembers an explicit choice for a year.
func (s *Server) setLangCookie(w http.ResponseWriter, r *http.Request, l Lang) {
	http.SetCookie(w, &http.Cookie{
		Name: langCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookies(r),
	})
}

// LangLink is one entry of the language switch.
type LangLink struct {
	Lang    Lang
	Label   string
	Href    string
	Current bool
}

// langLinks builds the language switch for the current URL, keeping its
// other query parameters.
func langLinks(r *http.Request, loc Locale) []LangLink {
	var out []LangLink
	for _, l := range langs {
		q := url.Values{}
		for k, v := range r.URL.Query() {
			q[k] = slices.Clone(v)
		}
		q.Set("lang", string(l))
		out = append(out, LangLink{Lang: l, Label: loc.T("lang." + string(l)), Href: r.URL.Path + "?" + q.Encode(), Current: l == loc.Lang})
	}
	return out
}

// prefixed is every text whose key starts with prefix, keyed by the rest:
// what a page's script needs of the catalogue.
func (l Locale) prefixed(prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range l.msgs {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out[rest] = v
		}
	}
	return out
}
