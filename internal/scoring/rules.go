// Package scoring scores persons by explicit rules: fit (who they are: the
// person's and the account's traits) plus engagement (what they did: events
// and touches, capped per day and decayed by age). Reaching the rule set's
// MQL threshold moves a lead to mql, once, with the rule version in the
// stage history.
//
// The rules and the arithmetic are pure; Rescore, RescoreNew and Explain
// read and write through the store.
package scoring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // time_zone names must resolve on hosts without a zone database
)

// Rules is a scoring rule set as written in JSON.
type Rules struct {
	MQLThreshold      float64          `json:"mql_threshold"`
	DecayHalfLifeDays float64          `json:"decay_half_life_days"`
	TimeZone          string           `json:"time_zone,omitempty"`
	Fit               []FitRule        `json:"fit"`
	Engagement        []EngagementRule `json:"engagement"`

	loc        *time.Location
	halfLife   float64          // in microseconds; 0: no decay
	byEvent    map[string][]int // engagement rule indexes by event name
	payloadFor []string         // event names whose properties a rule reads
	needTraits bool
}

// FitRule gives points when a field of the person or the account passes
// its one test.
type FitRule struct {
	Field   string   `json:"field"`
	In      []any    `json:"in,omitempty"`
	Gte     *float64 `json:"gte,omitempty"`
	Lte     *float64 `json:"lte,omitempty"`
	Matches *string  `json:"matches,omitempty"`
	Equals  any      `json:"equals,omitempty"`
	Exists  *bool    `json:"exists,omitempty"`
	Points  float64  `json:"points"`

	field fieldRef
	set   map[string]bool // In or Equals, folded to lower case
	re    *regexp.Regexp
}

// EngagementRule gives points for every activity named Event (for page
// views "page"), optionally only under a URL path prefix, with given event
// properties or watched for at least MinWatchMinutes, at most MaxPerDay a
// day.
type EngagementRule struct {
	Event      string         `json:"event"`
	Points     float64        `json:"points"`
	MaxPerDay  float64        `json:"max_per_day,omitempty"`
	PathPrefix string         `json:"path_prefix,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
	// MinWatchMinutes counts only activities watched at least this long
	// (a live attendance imported with its minutes, an event with
	// watch_seconds); 0 = any.
	MinWatchMinutes float64 `json:"min_watch_minutes,omitempty"`

	prefix string            // PathPrefix folded to lower case
	props  map[string]string // Properties by their comparison keys (see scalar)
}

// Limits on a rule set, so that a hostile or mistaken one cannot make
// scoring slow or unbounded.
const (
	maxRules        = 200
	maxInValues     = 1000
	maxText         = 200 // a field name, an event name, an `in` or `equals` value
	maxPattern      = 500 // a `matches` regular expression
	maxPathPrefix   = 500
	maxProperties   = 20
	maxPoints       = 1000
	maxThreshold    = 100000
	maxHalfLifeDays = 3650
	maxBound        = 1e15 // gte and lte
	maxPerDayBound  = 100000
	maxWatchMinutes = 1440 // a day
)

// DefaultTimeZone is the zone whose calendar days per-day caps count in
// when a rule set names none.
const DefaultTimeZone = "Asia/Shanghai"

// Field names fit rules may test, besides custom traits.
var knownFields = map[string]fieldKind{
	"industry":     fieldIndustry,
	"employees":    fieldEmployees,
	"size_band":    fieldSizeBand,
	"region":       fieldRegion,
	"city":         fieldCity,
	"tier":         fieldTier,
	"plan":         fieldPlan,
	"title":        fieldTitle,
	"email_domain": fieldEmailDomain,
	"stage":        fieldStage,
}

type fieldKind int

const (
	fieldTrait fieldKind = iota
	fieldIndustry
	fieldEmployees
	fieldSizeBand
	fieldRegion
	fieldCity
	fieldTier
	fieldPlan
	fieldTitle
	fieldEmailDomain
	fieldStage
)

type fieldRef struct {
	kind  fieldKind
	trait string // for fieldTrait
}

// Compiled on first use: its counted repetition makes it costly to compile,
// and most commands never need it.
var traitKey = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_\-]{1,64}$`) })

// Parse reads and validates a rule set. Unknown keys are refused, every
// fit rule has exactly one test, numbers are finite and bounded, regular
// expressions compile; errors name the rule and key, e.g.
// `fit[2].matches: ...`.
func Parse(raw []byte) (*Rules, error) {
	top, err := object(raw, "rule set")
	if err != nil {
		return nil, err
	}
	r := &Rules{}
	for k := range top {
		switch k {
		case "mql_threshold", "decay_half_life_days", "time_zone", "fit", "engagement":
		default:
			return nil, fmt.Errorf("unknown key %q (allowed: mql_threshold, decay_half_life_days, time_zone, fit, engagement)", k)
		}
	}
	v, ok := top["mql_threshold"]
	if !ok {
		return nil, errors.New("mql_threshold: missing; give the score at which a lead becomes an MQL, e.g. 60")
	}
	if r.MQLThreshold, err = number(v, "mql_threshold", 0, maxThreshold); err != nil {
		return nil, err
	}
	if r.MQLThreshold <= 0 {
		return nil, errors.New("mql_threshold: must be above 0")
	}
	v, ok = top["decay_half_life_days"]
	if !ok {
		return nil, errors.New("decay_half_life_days: missing; give the days after which engagement points count half, e.g. 30, or 0 for no decay")
	}
	if r.DecayHalfLifeDays, err = number(v, "decay_half_life_days", 0, maxHalfLifeDays); err != nil {
		return nil, err
	}
	if v, ok := top["time_zone"]; ok {
		if r.TimeZone, err = text(v, "time_zone", 100); err != nil {
			return nil, err
		}
	}
	if r.Fit, err = parseList(top, "fit", parseFit); err != nil {
		return nil, err
	}
	if r.Engagement, err = parseList(top, "engagement", parseEngagement); err != nil {
		return nil, err
	}
	if err := r.compile(); err != nil {
		return nil, err
	}
	return r, nil
}

// parseList parses the list of rules under key (none when it is absent),
// naming each rule key[i] in errors.
func parseList[T any](top map[string]json.RawMessage, key string, parse func(json.RawMessage, string) (T, error)) ([]T, error) {
	out := []T{}
	v, ok := top[key]
	if !ok {
		return out, nil
	}
	items, err := array(v, key, maxRules)
	if err != nil {
		return nil, err
	}
	for i, item := range items {
		x, err := parse(item, fmt.Sprintf("%s[%d]", key, i))
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// compile prepares the lookups scoring needs; the rules are valid.
func (r *Rules) compile() error {
	zone := r.TimeZone
	if zone == "" {
		zone = DefaultTimeZone
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "Local" {
		return fmt.Errorf("time_zone: unknown time zone %q; use an IANA name such as Asia/Shanghai or UTC", zone)
	}
	r.loc = loc
	r.halfLife = r.DecayHalfLifeDays * float64(24*time.Hour/time.Microsecond)
	r.byEvent = map[string][]int{}
	r.needTraits = false
	r.payloadFor = nil
	for _, f := range r.Fit {
		// Account fields fall back to the person's traits.
		if f.field.kind == fieldTrait || f.field.readsAccount() {
			r.needTraits = true
		}
	}
	payload := map[string]bool{}
	for i, e := range r.Engagement {
		r.byEvent[e.Event] = append(r.byEvent[e.Event], i)
		// Events carry their watch time in their properties.
		if (len(e.Properties) > 0 || e.MinWatchMinutes > 0) && !payload[e.Event] {
			payload[e.Event] = true
			r.payloadFor = append(r.payloadFor, e.Event)
		}
	}
	return nil
}

var fitKeys = []string{"field", "in", "gte", "lte", "matches", "equals", "exists", "points"}

func parseFit(raw json.RawMessage, at string) (FitRule, error) {
	var f FitRule
	m, err := object(raw, at)
	if err != nil {
		return f, err
	}
	if err := onlyKeys(m, at, fitKeys); err != nil {
		return f, err
	}
	v, ok := m["field"]
	if !ok {
		return f, fmt.Errorf("%s.field: missing; name a field such as industry, employees, title or traits.KEY", at)
	}
	if f.Field, err = text(v, at+".field", maxText); err != nil {
		return f, err
	}
	if f.field, err = parseField(f.Field); err != nil {
		return f, fmt.Errorf("%s.field: %w", at, err)
	}
	if f.Points, err = points(m, at); err != nil {
		return f, err
	}
	var ops []string
	for _, k := range []string{"in", "gte", "lte", "matches", "equals", "exists"} {
		if _, ok := m[k]; ok {
			ops = append(ops, k)
		}
	}
	if len(ops) != 1 {
		return f, fmt.Errorf("%s: want exactly one of in, gte, lte, matches, equals, exists; got %d (%s)", at, len(ops), strings.Join(ops, ", "))
	}
	op := ops[0]
	v = m[op]
	key := at + "." + op
	switch op {
	case "in":
		items, err := array(v, key, maxInValues)
		if err != nil {
			return f, err
		}
		if len(items) == 0 {
			return f, fmt.Errorf("%s: empty list; give at least one value", key)
		}
		f.In = make([]any, 0, len(items))
		f.set = map[string]bool{}
		for i, item := range items {
			x, s, err := scalar(item, fmt.Sprintf("%s[%d]", key, i), false)
			if err != nil {
				return f, err
			}
			f.In = append(f.In, x)
			f.set[s] = true
		}
	case "equals":
		x, s, err := scalar(v, key, true)
		if err != nil {
			return f, err
		}
		f.Equals, f.set = x, map[string]bool{s: true}
	case "gte", "lte":
		n, err := number(v, key, -maxBound, maxBound)
		if err != nil {
			return f, err
		}
		if op == "gte" {
			f.Gte = &n
		} else {
			f.Lte = &n
		}
	case "matches":
		p, err := text(v, key, maxPattern)
		if err != nil {
			return f, err
		}
		if f.re, err = regexp.Compile(p); err != nil {
			return f, fmt.Errorf("%s: invalid regular expression: %v", key, err)
		}
		f.Matches = &p
	case "exists":
		var b bool
		if isNull(v) || json.Unmarshal(v, &b) != nil {
			return f, fmt.Errorf("%s: want true or false", key)
		}
		f.Exists = &b
	}
	return f, nil
}

var engagementKeys = []string{"event", "points", "max_per_day", "path_prefix", "properties", "min_watch_minutes"}

func parseEngagement(raw json.RawMessage, at string) (EngagementRule, error) {
	var e EngagementRule
	m, err := object(raw, at)
	if err != nil {
		return e, err
	}
	if err := onlyKeys(m, at, engagementKeys); err != nil {
		return e, err
	}
	v, ok := m["event"]
	if !ok {
		return e, fmt.Errorf(`%s.event: missing; name an event such as "Webinar Attended", or "page" for page views`, at)
	}
	if e.Event, err = text(v, at+".event", maxText); err != nil {
		return e, err
	}
	if e.Points, err = points(m, at); err != nil {
		return e, err
	}
	if v, ok := m["max_per_day"]; ok {
		if e.MaxPerDay, err = number(v, at+".max_per_day", 0, maxPerDayBound); err != nil {
			return e, err
		}
		if e.MaxPerDay <= 0 {
			return e, fmt.Errorf("%s.max_per_day: must be above 0 (leave it out for no cap)", at)
		}
	}
	if v, ok := m["min_watch_minutes"]; ok {
		if e.MinWatchMinutes, err = number(v, at+".min_watch_minutes", 0, maxWatchMinutes); err != nil {
			return e, err
		}
		if e.MinWatchMinutes <= 0 {
			return e, fmt.Errorf("%s.min_watch_minutes: must be above 0 (leave it out to count any watch time)", at)
		}
	}
	if v, ok := m["path_prefix"]; ok {
		if e.PathPrefix, err = text(v, at+".path_prefix", maxPathPrefix); err != nil {
			return e, err
		}
		if !strings.HasPrefix(e.PathPrefix, "/") {
			return e, fmt.Errorf("%s.path_prefix: %q must start with /", at, e.PathPrefix)
		}
		e.prefix = strings.ToLower(e.PathPrefix)
	}
	if v, ok := m["properties"]; ok {
		props, err := object(v, at+".properties")
		if err != nil {
			return e, err
		}
		if len(props) == 0 || len(props) > maxProperties {
			return e, fmt.Errorf("%s.properties: want 1 to %d properties", at, maxProperties)
		}
		e.Properties, e.props = map[string]any{}, map[string]string{}
		for k, pv := range props {
			if k == "" || len(k) > maxText {
				return e, fmt.Errorf("%s.properties: a property name must have 1 to %d characters", at, maxText)
			}
			x, key, err := scalar(pv, at+".properties."+k, true)
			if err != nil {
				return e, err
			}
			e.Properties[k], e.props[k] = x, key
		}
	}
	return e, nil
}

func parseField(name string) (fieldRef, error) {
	if k, ok := knownFields[name]; ok {
		return fieldRef{kind: k}, nil
	}
	key := strings.TrimPrefix(name, "traits.")
	if !traitKey().MatchString(key) {
		return fieldRef{}, fmt.Errorf("%q is neither a known field (industry, employees, size_band, region, city, tier, plan, title, email_domain, stage) nor a custom trait (traits.KEY, KEY of letters, digits, _ and -)", name)
	}
	return fieldRef{kind: fieldTrait, trait: key}, nil
}

func points(m map[string]json.RawMessage, at string) (float64, error) {
	v, ok := m["points"]
	if !ok {
		return 0, fmt.Errorf("%s.points: missing", at)
	}
	return number(v, at+".points", -maxPoints, maxPoints)
}

// object decodes one JSON object, refusing anything after it.
func object(raw []byte, at string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil || m == nil {
		var syntax *json.SyntaxError
		if at == "rule set" && (errors.As(err, &syntax) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
			return nil, fmt.Errorf("not valid JSON: %v", err)
		}
		return nil, fmt.Errorf("%s: want a JSON object", at)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: more than one JSON value", at)
	}
	return m, nil
}

func array(raw json.RawMessage, at string, limit int) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if isNull(raw) || json.Unmarshal(raw, &items) != nil {
		return nil, fmt.Errorf("%s: want a list", at)
	}
	if len(items) > limit {
		return nil, fmt.Errorf("%s: %d entries, more than the %d allowed", at, len(items), limit)
	}
	return items, nil
}

func onlyKeys(m map[string]json.RawMessage, at string, allowed []string) error {
	for k := range m {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("%s: unknown key %q (allowed: %s)", at, k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func number(raw json.RawMessage, at string, lo, hi float64) (float64, error) {
	var n float64
	if isNull(raw) || json.Unmarshal(raw, &n) != nil {
		return 0, fmt.Errorf("%s: want a number, got %s", at, shorten(string(raw)))
	}
	if math.IsNaN(n) || math.IsInf(n, 0) || n < lo || n > hi {
		return 0, fmt.Errorf("%s: %s is out of range (%g to %g)", at, shorten(string(raw)), lo, hi)
	}
	return n, nil
}

func text(raw json.RawMessage, at string, limit int) (string, error) {
	var s string
	if isNull(raw) || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("%s: want a string, got %s", at, shorten(string(raw)))
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("%s: empty", at)
	}
	if len(s) > limit {
		return "", fmt.Errorf("%s: longer than %d bytes", at, limit)
	}
	return s, nil
}

// scalar reads a string or a number (and, when boolOK, a boolean) and
// returns it with its comparison key: folded to lower case, numbers in
// their shortest form.
func scalar(raw json.RawMessage, at string, boolOK bool) (any, string, error) {
	var x any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&x); err != nil {
		return nil, "", fmt.Errorf("%s: %v", at, err)
	}
	switch v := x.(type) {
	case string:
		s := strings.TrimSpace(v)
		if s == "" || len(s) > maxText {
			return nil, "", fmt.Errorf("%s: want a value of 1 to %d bytes", at, maxText)
		}
		return s, strings.ToLower(s), nil
	case json.Number:
		n, err := number(raw, at, -maxBound, maxBound)
		if err != nil {
			return nil, "", err
		}
		return n, numKey(n), nil
	case bool:
		if boolOK {
			return v, strconv.FormatBool(v), nil
		}
	}
	want := "a string or a number"
	if boolOK {
		want = "a string, a number or true/false"
	}
	return nil, "", fmt.Errorf("%s: want %s, got %s", at, want, shorten(string(raw)))
}

func numKey(n float64) string { return strconv.FormatFloat(n, 'f', -1, 64) }

func shorten(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// JSON is the rule set's canonical JSON, as stored and shown.
func (r *Rules) JSON() []byte {
	b, err := json.Marshal(r)
	if err != nil {
		// Every value in a parsed rule set is a string, a finite number,
		// a bool or a list or map of them.
		panic(fmt.Sprintf("scoring: marshal rules: %v", err))
	}
	return b
}

// Location is the zone whose calendar days per-day caps count in.
func (r *Rules) Location() *time.Location { return r.loc }

// defaultRules are version 1 until a rule set is saved: fit by ABM tier,
// engagement by the touches and events of a B2B journey, a half-life of 19
// days (an engagement point fades to a third in a month). Registrations,
// check-ins and attendance score the same whether the demo made them
// (Webinar ..., Event Check-in) or an event import (Event ..., Badge
// Scanned); half an hour of a live session doubles an attendance.
const defaultRules = `{
  "mql_threshold": 46,
  "decay_half_life_days": 19,
  "time_zone": "Asia/Shanghai",
  "fit": [
    {"field": "tier", "in": ["A"], "points": 15},
    {"field": "tier", "in": ["B"], "points": 8}
  ],
  "engagement": [
    {"event": "page", "points": 3, "max_per_day": 9},
    {"event": "page", "path_prefix": "/pricing", "points": 5},
    {"event": "page", "path_prefix": "/demo", "points": 5},
    {"event": "page", "path_prefix": "/security", "points": 3},
    {"event": "Ad Clicked", "points": 1, "max_per_day": 3},
    {"event": "Shared Link Clicked", "points": 4, "max_per_day": 8},
    {"event": "Email Opened", "points": 2, "max_per_day": 4},
    {"event": "Email Clicked", "points": 6, "max_per_day": 12},
    {"event": "Content Downloaded", "points": 12, "max_per_day": 24},
    {"event": "Whitepaper Downloaded", "points": 12, "max_per_day": 24},
    {"event": "Webinar Registered", "points": 5},
    {"event": "Event Registered", "points": 5},
    {"event": "Webinar Attended", "points": 10},
    {"event": "Webinar Attended", "min_watch_minutes": 30, "points": 10},
    {"event": "Event Attended", "points": 10},
    {"event": "Event Attended", "min_watch_minutes": 30, "points": 10},
    {"event": "Event Check-in", "points": 10},
    {"event": "Event Checked In", "points": 10},
    {"event": "Badge Scanned", "points": 10},
    {"event": "Form Submitted", "points": 10, "max_per_day": 20},
    {"event": "Form Submitted", "path_prefix": "/demo", "points": 20},
    {"event": "Demo Requested", "points": 30},
    {"event": "WeChat Followed", "points": 5},
    {"event": "WeCom Added", "points": 5},
    {"event": "Call", "points": 4, "max_per_day": 8},
    {"event": "Unsubscribed", "points": -20}
  ]
}`

// Default returns the rule set that applies while none was saved. It is
// parsed once and shared: callers must not modify it.
func Default() *Rules { return parsedDefault() }

var parsedDefault = sync.OnceValue(func() *Rules {
	r, err := Parse([]byte(defaultRules))
	if err != nil {
		panic(fmt.Sprintf("scoring: default rules: %v", err))
	}
	return r
})
