package channel

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// RuleSet is the data that groups touches into channels: lookup tables that
// normalise the source, named lists the rules refer to, and an ordered list
// of rules where the first one whose conditions all hold decides the
// channel. It is edited as JSON (GET/PUT /api/v1/channels/rules); Compile
// validates it and prepares it for Classify.
type RuleSet struct {
	// SourceAliases maps a lower-cased utm_source (or any source) to its
	// canonical name: "百度" and "bd" → "baidu", "weixin" → "wechat".
	SourceAliases map[string]string `json:"source_aliases"`
	// HostSources maps a domain to the source a referrer from it (or from a
	// subdomain of it) is: "so.com" → "360". The longest matching domain wins.
	HostSources map[string]string `json:"host_sources"`
	// ClickIDSources maps a click id type to the source it implies when the
	// touch carries no utm_source: "bd_vid" → "baidu".
	ClickIDSources map[string]string `json:"click_id_sources"`
	// Lists are named value lists that "in" conditions can use.
	Lists map[string][]string `json:"lists"`
	// Rules are tried in order; the first match decides. A touch no rule
	// matches is "unknown".
	Rules []Rule `json:"rules"`

	// Informational, set by the store when the set is read back; ignored on
	// input.
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
	UpdatedBy string     `json:"updated_by,omitempty"`

	compiled []compiledRule
	hostKeys []string // HostSources keys, longest first
}

// Rule assigns Channel (and optionally a normalised Source and Medium) to
// the touches that meet every condition in When. A rule without conditions
// matches everything, so it can only be the last one.
type Rule struct {
	Name    string        `json:"name,omitempty"`
	Channel model.Channel `json:"channel"`
	Source  string        `json:"source,omitempty"` // replaces the normalised source when set
	Medium  string        `json:"medium,omitempty"` // replaces the normalised medium when set
	When    []Condition   `json:"when"`
}

// Condition tests one field of a touch. Comparisons ignore case.
type Condition struct {
	// Field is one of Fields.
	Field string `json:"field"`
	// Match is one of Matches.
	Match string `json:"match"`
	// Value is the operand of exact, contains, prefix, suffix and regex.
	Value string `json:"value,omitempty"`
	// Values (or the named List) are the operands of in and domain.
	Values []string `json:"values,omitempty"`
	List   string   `json:"list,omitempty"`
	// Not inverts the condition.
	Not bool `json:"not,omitempty"`
}

// Fields a condition can test. source and medium are the normalised ones
// (aliases applied, derived from the click id or referrer when absent);
// referrer_host is empty for a referrer on the page's own host.
var Fields = []string{
	"source", "medium", "campaign", "term", "content", "referrer_host", "url", "url_host",
	"click_id_type", "event_type", "event_name", "campaign_channel", "promoter",
}

// Matches are the kinds of comparison a condition can make.
var Matches = []string{"exact", "contains", "prefix", "suffix", "regex", "in", "domain", "exists"}

// Limits on an edited rule set, so that one PUT cannot make classification
// slow or the stored document huge.
const (
	maxRules       = 1000
	maxConditions  = 32
	maxValues      = 2000
	maxRegexLength = 1000
	maxTextLength  = 500
)

type compiledRule struct {
	Rule
	conds []compiledCond
}

type compiledCond struct {
	field  string
	match  string
	value  string
	set    map[string]bool
	values []string // for domain
	re     *regexp.Regexp
	not    bool
}

// ValidationError says which rule (by index, from 0) or table is wrong and why.
type ValidationError struct {
	Rule      int // -1 when the problem is not in a rule
	Condition int // -1 when the problem is not in a condition
	Name      string
	Msg       string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.Rule >= 0 {
		fmt.Fprintf(&b, "rules[%d]", e.Rule)
		if e.Name != "" {
			fmt.Fprintf(&b, " (%q)", e.Name)
		}
		if e.Condition >= 0 {
			fmt.Fprintf(&b, ": when[%d]", e.Condition)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ParseRules decodes a rule set from JSON, strictly (unknown keys are an
// error, since a misspelt key would otherwise silently change nothing),
// and compiles it.
func ParseRules(raw []byte) (*RuleSet, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var rs RuleSet
	if err := dec.Decode(&rs); err != nil {
		return nil, &ValidationError{Rule: -1, Condition: -1, Msg: "malformed rule set JSON: " + err.Error()}
	}
	if dec.More() {
		return nil, &ValidationError{Rule: -1, Condition: -1, Msg: "malformed rule set JSON: more than one JSON value"}
	}
	if err := rs.Compile(); err != nil {
		return nil, err
	}
	return &rs, nil
}

// Compile validates the set and prepares it for Classify. Tables are
// lower-cased. It returns a *ValidationError naming the first problem.
func (rs *RuleSet) Compile() error {
	bad := func(rule, cond int, name, format string, args ...any) error {
		return &ValidationError{Rule: rule, Condition: cond, Name: name, Msg: fmt.Sprintf(format, args...)}
	}
	var err error
	if rs.SourceAliases, err = lowerMap("source_aliases", rs.SourceAliases); err != nil {
		return err
	}
	if rs.HostSources, err = lowerMap("host_sources", rs.HostSources); err != nil {
		return err
	}
	if rs.ClickIDSources, err = lowerMap("click_id_sources", rs.ClickIDSources); err != nil {
		return err
	}
	for name, vals := range rs.Lists {
		if strings.TrimSpace(name) == "" {
			return bad(-1, -1, "", "lists: a list has an empty name")
		}
		if len(vals) > maxValues {
			return bad(-1, -1, "", "lists[%q]: %d values, at most %d allowed", name, len(vals), maxValues)
		}
	}
	if len(rs.Rules) == 0 {
		return bad(-1, -1, "", "rules: the rule set has no rules; every touch would be unknown")
	}
	if len(rs.Rules) > maxRules {
		return bad(-1, -1, "", "rules: %d rules, at most %d allowed", len(rs.Rules), maxRules)
	}
	compiled := make([]compiledRule, 0, len(rs.Rules))
	for i, r := range rs.Rules {
		if len(r.Name) > maxTextLength || len(r.Source) > maxTextLength || len(r.Medium) > maxTextLength {
			return bad(i, -1, "", "name, source and medium must be at most %d bytes", maxTextLength)
		}
		if r.Channel == "" {
			return bad(i, -1, r.Name, "channel is missing")
		}
		if !slices.Contains(model.Channels, r.Channel) {
			return bad(i, -1, r.Name, "unknown channel %q (want one of %s)", r.Channel, channelNames())
		}
		if len(r.When) == 0 && i != len(rs.Rules)-1 {
			return bad(i, -1, r.Name, "has no conditions, so it matches every touch and rules %d to %d could never match; move it last or add conditions", i+1, len(rs.Rules)-1)
		}
		if len(r.When) > maxConditions {
			return bad(i, -1, r.Name, "%d conditions, at most %d allowed", len(r.When), maxConditions)
		}
		cr := compiledRule{Rule: r}
		for j, c := range r.When {
			cc, msg := rs.compileCondition(c)
			if msg != "" {
				return bad(i, j, r.Name, "%s", msg)
			}
			cr.conds = append(cr.conds, cc)
		}
		compiled = append(compiled, cr)
	}
	rs.compiled = compiled
	rs.hostKeys = make([]string, 0, len(rs.HostSources))
	for h := range rs.HostSources {
		rs.hostKeys = append(rs.hostKeys, h)
	}
	sort.Slice(rs.hostKeys, func(a, b int) bool {
		if len(rs.hostKeys[a]) != len(rs.hostKeys[b]) {
			return len(rs.hostKeys[a]) > len(rs.hostKeys[b])
		}
		return rs.hostKeys[a] < rs.hostKeys[b]
	})
	return nil
}

func (rs *RuleSet) compileCondition(c Condition) (compiledCond, string) {
	cc := compiledCond{field: c.Field, match: c.Match, not: c.Not}
	if !slices.Contains(Fields, c.Field) {
		if c.Field == "" {
			return cc, fmt.Sprintf("field is missing (want one of %s)", strings.Join(Fields, ", "))
		}
		return cc, fmt.Sprintf("unknown field %q (want one of %s)", c.Field, strings.Join(Fields, ", "))
	}
	if !slices.Contains(Matches, c.Match) {
		if c.Match == "" {
			return cc, fmt.Sprintf("match is missing (want one of %s)", strings.Join(Matches, ", "))
		}
		return cc, fmt.Sprintf("unknown match %q (want one of %s)", c.Match, strings.Join(Matches, ", "))
	}
	if len(c.Value) > maxRegexLength {
		return cc, fmt.Sprintf("value is %d bytes long, at most %d allowed", len(c.Value), maxRegexLength)
	}
	listed := len(c.Values) > 0 || c.List != ""
	switch c.Match {
	case "exists":
		if c.Value != "" || listed {
			return cc, "match exists takes no value, values or list"
		}
	case "in", "domain":
		if c.Value != "" {
			return cc, fmt.Sprintf("match %s takes values or list, not value", c.Match)
		}
		if !listed {
			return cc, fmt.Sprintf("match %s needs values or a list", c.Match)
		}
		vals := slices.Clone(c.Values)
		if c.List != "" {
			l, ok := rs.Lists[c.List]
			if !ok {
				return cc, fmt.Sprintf("unknown list %q (defined lists: %s)", c.List, strings.Join(sortedKeys(rs.Lists), ", "))
			}
			vals = append(vals, l...)
		}
		if len(vals) > maxValues {
			return cc, fmt.Sprintf("%d values, at most %d allowed", len(vals), maxValues)
		}
		cc.set = make(map[string]bool, len(vals))
		for _, v := range vals {
			v = norm(v)
			if c.Match == "domain" {
				v = strings.TrimPrefix(v, ".")
				if v == "" {
					return cc, "match domain: empty domain in values"
				}
			}
			cc.set[v] = true
			cc.values = append(cc.values, v)
		}
	default:
		if listed {
			return cc, fmt.Sprintf("match %s takes value, not values or list", c.Match)
		}
		if c.Value == "" && c.Match != "exact" {
			return cc, fmt.Sprintf("match %s needs a value", c.Match)
		}
		cc.value = norm(c.Value)
		if c.Match == "regex" {
			re, err := regexp.Compile("(?i)" + c.Value)
			if err != nil {
				return cc, fmt.Sprintf("bad regex %q: %v", c.Value, err)
			}
			cc.re = re
		}
	}
	return cc, ""
}

// Result is the outcome of classifying a touch.
type Result struct {
	Channel model.Channel
	Source  string // normalised: canonical source name, "(direct)" for direct
	Medium  string // normalised: lower-case, "(none)" for direct
	Rule    int    // index of the rule that matched; -1 when none did
}

// Classify groups a touch into a channel with the given rules (the default
// rules when rs is nil).
func Classify(t Touch, rs *RuleSet) Result {
	if rs == nil {
		rs = DefaultRules()
	}
	return rs.Classify(t)
}

// Classify groups a touch into a channel. The first rule whose conditions
// all hold decides; when none does, the channel is unknown.
func (rs *RuleSet) Classify(t Touch) Result {
	f := rs.fields(t)
	res := Result{Channel: model.ChannelUnknown, Source: f["source"], Medium: f["medium"], Rule: -1}
	for i := range rs.compiled {
		r := &rs.compiled[i]
		if !r.matches(f) {
			continue
		}
		res.Channel, res.Rule = r.Channel, i
		if r.Source != "" {
			res.Source = norm(r.Source)
		}
		if r.Medium != "" {
			res.Medium = norm(r.Medium)
		}
		break
	}
	return res
}

func (r *compiledRule) matches(f map[string]string) bool {
	for i := range r.conds {
		if !r.conds[i].matches(f[r.conds[i].field]) {
			return false
		}
	}
	return true
}

func (c *compiledCond) matches(v string) bool {
	var ok bool
	switch c.match {
	case "exact":
		ok = v == c.value
	case "contains":
		ok = strings.Contains(v, c.value)
	case "prefix":
		ok = strings.HasPrefix(v, c.value)
	case "suffix":
		ok = strings.HasSuffix(v, c.value)
	case "regex":
		ok = c.re.MatchString(v)
	case "in":
		ok = c.set[v]
	case "domain":
		for _, d := range c.values {
			if inDomain(v, d) {
				ok = true
				break
			}
		}
	case "exists":
		ok = v != ""
	}
	return ok != c.not
}

// fields prepares what conditions test: lower-cased, trimmed, the source
// canonicalised and, when absent, derived from the click id or referrer.
func (rs *RuleSet) fields(t Touch) map[string]string {
	urlHost := hostOf(t.URL)
	refHost := hostOf(t.Referrer)
	if refHost != "" && refHost == urlHost {
		refHost = "" // moving between pages of the same site is not a referral
	}
	source := rs.canonicalSource(norm(t.Source))
	medium := norm(t.Medium)
	clickType := norm(t.ClickID.Type)
	if source == "" {
		switch {
		case clickType != "" && rs.ClickIDSources[clickType] != "":
			source = rs.ClickIDSources[clickType]
		case refHost != "":
			if s := rs.hostSource(refHost); s != "" {
				source = s
			} else {
				source = refHost
			}
			if medium == "" {
				medium = "referral"
			}
		}
	}
	if medium == "" && clickType != "" {
		medium = "cpc"
	}
	return map[string]string{
		"source":           source,
		"medium":           medium,
		"campaign":         norm(t.Campaign),
		"term":             norm(t.Term),
		"content":          norm(t.Content),
		"referrer_host":    refHost,
		"url":              norm(t.URL),
		"url_host":         urlHost,
		"click_id_type":    clickType,
		"event_type":       norm(t.EventType),
		"event_name":       norm(t.EventName),
		"campaign_channel": norm(t.CampaignChannel),
		"promoter":         norm(t.Promoter),
	}
}

// canonicalSource applies the aliases; a source that looks like a host
// ("www.baidu.com") is looked up as one.
func (rs *RuleSet) canonicalSource(s string) string {
	if s == "" {
		return ""
	}
	if a, ok := rs.SourceAliases[s]; ok {
		return a
	}
	if strings.Contains(s, ".") && !strings.ContainsAny(s, " /") {
		if h := rs.hostSource(strings.TrimPrefix(s, "www.")); h != "" {
			return h
		}
	}
	return s
}

func (rs *RuleSet) hostSource(host string) string {
	for _, d := range rs.hostKeys {
		if inDomain(host, d) {
			return rs.HostSources[d]
		}
	}
	return ""
}

// inDomain says whether host is d or a subdomain of it.
func inDomain(host, d string) bool {
	return host == d || (len(host) > len(d) && strings.HasSuffix(host, d) && host[len(host)-len(d)-1] == '.')
}

// hostOf returns the lower-cased host of a URL without port and "www.".
func hostOf(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	if !strings.Contains(raw, "://") {
		if strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "?") {
			return ""
		}
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	return strings.TrimPrefix(h, "www.")
}

func norm(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func lowerMap(name string, m map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(m))
	for k, v := range m {
		lk, lv := norm(k), norm(v)
		if lk == "" || lv == "" {
			return nil, &ValidationError{Rule: -1, Condition: -1, Msg: fmt.Sprintf("%s: empty key or value (%q: %q)", name, k, v)}
		}
		out[lk] = lv
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return []string{"none"}
	}
	return keys
}

func channelNames() string {
	names := make([]string, len(model.Channels))
	for i, c := range model.Channels {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

//go:embed default_rules.json
var defaultRulesJSON []byte

// DefaultRulesJSON is the rule set revloop ships with, as JSON.
func DefaultRulesJSON() []byte { return slices.Clone(defaultRulesJSON) }

var defaultRules = sync.OnceValue(func() *RuleSet {
	rs, err := ParseRules(defaultRulesJSON)
	if err != nil {
		panic("channel: the embedded default rules are invalid: " + err.Error())
	}
	return rs
})

// DefaultRules returns the compiled default rule set. It is shared: do not
// modify it.
func DefaultRules() *RuleSet { return defaultRules() }

// IsValidationError says whether err is a problem with a rule set (a 400)
// rather than a failure to store it.
func IsValidationError(err error) bool {
	var v *ValidationError
	return errors.As(err, &v)
}
