package scoring

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Profile is what fit rules test: a person and its account. An account
// field the account lacks (or every one, for a person without an account)
// is read from the person's own traits instead; see accountTraits.
type Profile struct {
	Stage     model.Stage
	Title     string
	Email     string
	Industry  string
	SizeBand  string
	Employees int
	Region    string
	City      string
	Tier      string
	Plan      string
	Traits    map[string]any // custom traits (persons.traits)
}

// Activity is one thing a person did: an event by its name ("page" for
// page views), with the URL path, the event's properties and the watch
// time of a live or recorded session when known.
type Activity struct {
	At           time.Time
	Event        string
	Path         string
	Properties   map[string]any
	WatchSeconds int64
}

// FitLine is one fit rule that gave points.
type FitLine struct {
	Rule   int     `json:"rule"`
	Field  string  `json:"field"`
	Points float64 `json:"points"`
	Value  string  `json:"value"`
	// From names the trait the value was read from when the account
	// lacked the field, e.g. "traits.employee_count"; empty otherwise.
	From string `json:"from,omitempty"`
}

// EngagementLine is what one engagement rule gave: how many activities it
// counted, their points before decay and now, and how many of them the
// per-day cap cut.
type EngagementLine struct {
	Rule              int     `json:"rule"`
	Event             string  `json:"event"`
	PathPrefix        string  `json:"path_prefix,omitempty"`
	MinWatchMinutes   float64 `json:"min_watch_minutes,omitempty"`
	Occurrences       int     `json:"occurrences"`
	PointsBeforeDecay float64 `json:"points_before_decay"`
	PointsNow         float64 `json:"points_now"`
	Capped            int     `json:"capped"`
}

// Breakdown is a score with the rules behind it.
type Breakdown struct {
	Version         int64            `json:"version"`
	Fit             []FitLine        `json:"fit"`
	Engagement      []EngagementLine `json:"engagement"`
	FitScore        float64          `json:"fit_score"`
	EngagementScore float64          `json:"engagement_score"`
	Score           float64          `json:"score"`
	Threshold       float64          `json:"threshold"`
	ComputedAt      time.Time        `json:"computed_at"`
}

// hit is an activity an engagement rule counts: the rule and the time in
// Unix microseconds.
type hit struct {
	rule int32
	at   int64
}

// Evaluate scores a person at now: fit + decayed engagement, with every
// rule that gave points.
func (r *Rules) Evaluate(p Profile, acts []Activity, now time.Time) Breakdown {
	b := Breakdown{Fit: []FitLine{}, Engagement: []EngagementLine{}, Threshold: r.MQLThreshold, ComputedAt: now.UTC()}
	fit := r.fit(&p, &b.Fit)
	var hits []hit
	var buf []int
	for i := range acts {
		buf = r.match(acts[i].Event, acts[i].Path, acts[i].Properties, acts[i].WatchSeconds, buf[:0])
		for _, rule := range buf {
			hits = append(hits, hit{rule: int32(rule), at: acts[i].At.UnixMicro()})
		}
	}
	sortHits(hits)
	eng := r.engagement(hits, now.UnixMicro(), &b.Engagement)
	b.FitScore, b.EngagementScore, b.Score = totals(fit, eng)
	return b
}

// totals rounds to hundredths, the precision scores are shown and
// compared in.
func totals(fit, eng float64) (float64, float64, float64) {
	f, e := round2(fit), round2(eng)
	return f, e, round2(f + e)
}

func round2(x float64) float64 {
	r := math.Round(x*100) / 100
	if r == 0 {
		return 0 // no -0
	}
	return r
}

func sortHits(hits []hit) {
	slices.SortFunc(hits, func(a, b hit) int {
		if a.rule != b.rule {
			return int(a.rule - b.rule)
		}
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
}

// fit sums the points of the fit rules p passes, noting each in lines
// when lines is not nil.
func (r *Rules) fit(p *Profile, lines *[]FitLine) float64 {
	total := 0.0
	for i := range r.Fit {
		f := &r.Fit[i]
		v, ok := p.value(f.field)
		if !f.passes(v, ok) {
			continue
		}
		total += f.Points
		if lines != nil {
			*lines = append(*lines, FitLine{Rule: i, Field: f.Field, Points: f.Points, Value: v.str, From: v.from})
		}
	}
	return total
}

// value is a field's value: its text and, when it reads as one, its number.
type value struct {
	str   string
	num   float64
	isNum bool
	from  string // the trait an account field was read from, if it was
}

func textValue(s string) (value, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return value{}, false
	}
	v := value{str: s}
	if n, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(n) && !math.IsInf(n, 0) {
		v.num, v.isNum = n, true
	}
	return v, true
}

func (p *Profile) value(f fieldRef) (value, bool) {
	v, ok := p.ownValue(f)
	if ok || !f.readsAccount() {
		return v, ok
	}
	return p.traitFallback(f.kind)
}

// accountTraits are the identify traits an account field falls back to,
// in order: the key as sent ("employee_count"), or a key of Segment's
// nested "company" or "address" object ("company.employee_count").
// They are the names identify traits use for these facts in the wild.
func accountTraits(k fieldKind) []string {
	switch k {
	case fieldIndustry:
		return []string{"industry", "company.industry"}
	case fieldEmployees:
		return []string{"employees", "employee_count", "number_of_employees", "company.employee_count", "company.employees"}
	case fieldSizeBand:
		return []string{"size_band", "company_size", "company.size_band", "company.company_size"}
	case fieldRegion:
		return []string{"region", "province", "state", "address.region", "address.state", "company.region"}
	case fieldCity:
		return []string{"city", "address.city", "company.city"}
	case fieldTier:
		return []string{"tier", "company.tier"}
	case fieldPlan:
		return []string{"plan", "company.plan"}
	}
	return nil
}

// readsAccount says whether a field is one of the account's.
func (f fieldRef) readsAccount() bool { return accountTraits(f.kind) != nil }

// traitFallback reads an account field from the person's traits: the
// first of accountTraits that holds a value (for employees, a positive
// number).
func (p *Profile) traitFallback(k fieldKind) (value, bool) {
	if len(p.Traits) == 0 {
		return value{}, false
	}
	for _, key := range accountTraits(k) {
		x := p.Traits[key]
		if outer, inner, nested := strings.Cut(key, "."); nested {
			obj, _ := p.Traits[outer].(map[string]any)
			x = obj[inner]
		}
		v, ok := traitValue(x)
		if !ok {
			continue
		}
		if k == fieldEmployees {
			if !v.isNum || v.num < 1 || v.num > 1e9 {
				continue
			}
			n := int(math.Round(v.num))
			v = value{str: strconv.Itoa(n), num: float64(n), isNum: true}
		}
		v.from = "traits." + key
		return v, true
	}
	return value{}, false
}

// ownValue is a field's value as the person and its account hold it.
func (p *Profile) ownValue(f fieldRef) (value, bool) {
	switch f.kind {
	case fieldIndustry:
		return textValue(p.Industry)
	case fieldEmployees:
		if p.Employees <= 0 {
			return value{}, false
		}
		return value{str: strconv.Itoa(p.Employees), num: float64(p.Employees), isNum: true}, true
	case fieldSizeBand:
		return textValue(p.SizeBand)
	case fieldRegion:
		return textValue(p.Region)
	case fieldCity:
		return textValue(p.City)
	case fieldTier:
		return textValue(p.Tier)
	case fieldPlan:
		return textValue(p.Plan)
	case fieldTitle:
		return textValue(p.Title)
	case fieldEmailDomain:
		_, domain, ok := strings.Cut(p.Email, "@")
		if !ok {
			return value{}, false
		}
		return textValue(strings.ToLower(domain))
	case fieldStage:
		return textValue(string(p.Stage))
	}
	return traitValue(p.Traits[f.trait])
}

func traitValue(x any) (value, bool) {
	switch v := x.(type) {
	case string:
		return textValue(v)
	case float64:
		return value{str: numKey(v), num: v, isNum: true}, true
	case json.Number:
		return textValue(v.String())
	case bool:
		return value{str: strconv.FormatBool(v)}, true
	}
	return value{}, false
}

func (f *FitRule) passes(v value, ok bool) bool {
	switch {
	case f.Exists != nil:
		return ok == *f.Exists
	case !ok:
		return false
	case f.set != nil:
		key := strings.ToLower(v.str)
		if v.isNum {
			key = numKey(v.num)
		}
		return f.set[key] || f.set[strings.ToLower(v.str)]
	case f.Gte != nil:
		return v.isNum && v.num >= *f.Gte
	case f.Lte != nil:
		return v.isNum && v.num <= *f.Lte
	case f.re != nil:
		return f.re.MatchString(v.str)
	}
	return false
}

// match appends to dst the engagement rules an activity counts for.
func (r *Rules) match(event, path string, props map[string]any, watchSeconds int64, dst []int) []int {
	rules := r.byEvent[event]
	if len(rules) == 0 {
		return dst
	}
	lower := ""
	for _, i := range rules {
		e := &r.Engagement[i]
		if e.prefix != "" {
			if path == "" {
				continue
			}
			if lower == "" {
				lower = strings.ToLower(path)
			}
			if !strings.HasPrefix(lower, e.prefix) {
				continue
			}
		}
		if len(e.props) > 0 && !propertiesMatch(e.props, props) {
			continue
		}
		if e.MinWatchMinutes > 0 && float64(watchSeconds) < e.MinWatchMinutes*60 {
			continue
		}
		dst = append(dst, i)
	}
	return dst
}

// propertiesMatch says whether got holds every property of want (name →
// comparison key) with an equal value.
func propertiesMatch(want map[string]string, got map[string]any) bool {
	for k, key := range want {
		v, ok := traitValue(got[k])
		if !ok {
			return false
		}
		have := strings.ToLower(v.str)
		if v.isNum {
			have = numKey(v.num)
		}
		if have != key && strings.ToLower(v.str) != key {
			return false
		}
	}
	return true
}

// engagement sums decayed points over hits sorted by rule, then time;
// lines (when not nil) get one line per rule that counted anything.
func (r *Rules) engagement(hits []hit, now int64, lines *[]EngagementLine) float64 {
	total := 0.0
	for start := 0; start < len(hits); {
		rule := hits[start].rule
		end := start
		for end < len(hits) && hits[end].rule == rule {
			end++
		}
		e := &r.Engagement[rule]
		line := EngagementLine{Rule: int(rule), Event: e.Event, PathPrefix: e.PathPrefix, MinWatchMinutes: e.MinWatchMinutes}
		pts, limit := math.Abs(e.Points), e.MaxPerDay
		sign := 1.0
		if e.Points < 0 {
			sign = -1
		}
		day, used := int64(math.MinInt64), 0.0
		for _, h := range hits[start:end] {
			line.Occurrences++
			give := pts
			if limit > 0 {
				if d := r.dayOf(h.at); d != day {
					day, used = d, 0
				}
				if used+give > limit {
					give = max(0, limit-used)
					line.Capped++
				}
				used += give
			}
			if give == 0 {
				continue
			}
			line.PointsBeforeDecay += sign * give
			line.PointsNow += sign * give * r.decay(now-h.at)
		}
		total += line.PointsNow
		if lines != nil {
			line.PointsBeforeDecay, line.PointsNow = round2(line.PointsBeforeDecay), round2(line.PointsNow)
			*lines = append(*lines, line)
		}
		start = end
	}
	return total
}

// decay is 2^(−age/half-life); activities in the future count in full.
func (r *Rules) decay(age int64) float64 {
	if r.halfLife <= 0 || age <= 0 {
		return 1
	}
	return math.Exp2(-float64(age) / r.halfLife)
}

// dayOf numbers the calendar day of a Unix-microsecond time in the rule
// set's zone.
func (r *Rules) dayOf(at int64) int64 {
	y, m, d := time.UnixMicro(at).In(r.loc).Date()
	return int64(y)*10000 + int64(m)*100 + int64(d)
}

// NeedsTraits says whether any fit rule reads the person's traits: a
// custom trait, or an account field (which falls back to traits).
func (r *Rules) NeedsTraits() bool { return r.needTraits }
