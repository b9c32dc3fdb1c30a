// Package routing hands qualified leads to salespeople and keeps the
// first-follow-up clock. Its core is pure: the assignment rule set (JSON),
// matching a lead against the rules, choosing a user from a pool by round
// robin or least busy while honouring capacity and out-of-office, and a
// business-hours clock for SLA due times. Router (router.go) applies it to
// the store: the periodic assignment and SLA-check tasks, activities and
// manual reassignment.
package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Methods distribute a rule's leads among its pool.
const (
	RoundRobin = "round_robin" // take turns, in user id order
	LeastBusy  = "least_busy"  // fewest open assignments; ties by round robin
)

// Rule names the routing writes on assignments that no rule of the set made.
const (
	RuleAccountOwner = "account_owner" // keep_account_owner (ABM)
	RuleFallback     = "fallback"      // the fallback pool
	RuleManual       = "manual"        // a person reassigned by hand
)

// RuleSet is the assignment configuration, edited as JSON with
// GET/PUT /api/v1/routing/rules. Every stored version is kept; the newest
// is active.
type RuleSet struct {
	// TriggerStage is the stage whose entry hands a person to sales:
	// "sql" (default) or "mql".
	TriggerStage model.Stage `json:"trigger_stage"`
	SLA          SLA         `json:"sla"`
	// KeepAccountOwner (ABM): a person whose account has an owner goes to
	// that owner when the owner is available.
	KeepAccountOwner bool `json:"keep_account_owner"`
	// Rules are tried in order; a matching rule whose pool has nobody
	// available passes the lead on to the next rule.
	Rules []Rule `json:"rules"`
	// Fallback takes what no rule could place; without it such leads wait.
	Fallback *Fallback `json:"fallback,omitempty"`

	// Informational, filled when the set is read back; ignored on input.
	Version   int64      `json:"version,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
	UpdatedBy string     `json:"updated_by,omitempty"`
	// Unchanged answers a PUT of the rules in force: no version was stored.
	Unchanged bool `json:"unchanged,omitempty"`

	clock *Clock
	due   time.Duration
}

// SLA is the first-follow-up promise, counted in business hours.
type SLA struct {
	// FirstFollowUp is a Go duration ("2h", "90m", "1h30m"); default "2h".
	FirstFollowUp string        `json:"first_follow_up"`
	BusinessHours BusinessHours `json:"business_hours"`
}

// BusinessHours say when the SLA clock runs.
type BusinessHours struct {
	Days     []string `json:"days"`      // "mon" … "sun"; default mon–fri
	Start    string   `json:"start"`     // "09:00"
	End      string   `json:"end"`       // "18:00", after Start on the same day
	TimeZone string   `json:"time_zone"` // IANA name; default Asia/Shanghai
	Holidays []string `json:"holidays"`  // local dates, YYYY-MM-DD
}

// Rule matches leads and names the pool that takes them.
type Rule struct {
	Name   string `json:"name"`
	Match  Match  `json:"match"`
	Pool   Pool   `json:"pool"`
	Method string `json:"method"` // round_robin (default) or least_busy
}

// Match conditions all have to hold; an empty Match matches every lead.
// Region, industry and tier are the person's account's; text compares
// ignoring case.
type Match struct {
	Region   []string `json:"region,omitempty"`
	Industry []string `json:"industry,omitempty"`
	Tier     []string `json:"tier,omitempty"`
	ScoreGTE *float64 `json:"score_gte,omitempty"`
}

// Pool is who may take a rule's leads: listed users (by id or email) and
// the members of a team (users.team), together.
type Pool struct {
	Users []UserRef `json:"users,omitempty"`
	Team  string    `json:"team,omitempty"`
}

// Fallback is the pool of last resort.
type Fallback struct {
	Pool   Pool   `json:"pool"`
	Method string `json:"method"`
}

// UserRef names a user by id (a JSON number) or by email (a string).
type UserRef struct {
	ID    int64
	Email string
}

// UnmarshalJSON accepts 12 or "li.na@example.cn".
func (u *UserRef) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		u.Email = strings.ToLower(strings.TrimSpace(s))
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("a user is an id (number) or an email (string), not %s", clipText(string(b)))
	}
	if f != math.Trunc(f) || f < 1 || f > 1<<53 {
		return fmt.Errorf("user id %s is not a positive whole number", clipText(string(b)))
	}
	u.ID = int64(f)
	return nil
}

// MarshalJSON writes the id or the email, as it was given.
func (u UserRef) MarshalJSON() ([]byte, error) {
	if u.Email != "" {
		return json.Marshal(u.Email)
	}
	return json.Marshal(u.ID)
}

func (u UserRef) String() string {
	if u.Email != "" {
		return u.Email
	}
	return fmt.Sprint(u.ID)
}

// Defaults for what a rule set leaves out.
const (
	DefaultTriggerStage  = model.StageSQL
	DefaultFirstFollowUp = "2h"
	DefaultTimeZone      = "Asia/Shanghai"
	DefaultStart         = "09:00"
	DefaultEnd           = "18:00"
)

// DefaultDays are the working days when a rule set names none.
var DefaultDays = []string{"mon", "tue", "wed", "thu", "fri"}

// Limits on an edited rule set, so that one PUT cannot make routing slow
// or the stored document huge.
const (
	maxRules       = 200
	maxValues      = 200
	maxPoolUsers   = 500
	maxHolidays    = 1000
	maxText        = 200
	maxSLA         = 30 * 24 * time.Hour // of business time
	minSLA         = time.Minute
	maxRuleSetSize = 1 << 20
)

// Default is the rule set in force before any was saved: trigger on sql,
// 2 business hours Mon–Fri 09:00–18:00 Asia/Shanghai, no rules (every lead
// waits until rules or a fallback pool exist).
func Default() *RuleSet {
	rs, err := Parse([]byte(`{}`))
	if err != nil {
		panic(err) // the defaults are fixed; a failure is a programming error
	}
	return rs
}

// ValidationError says which part of a rule set is wrong and why.
type ValidationError struct {
	Path string // e.g. "rules[2].pool.users[0]"
	Msg  string
}

func (e *ValidationError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func invalid(path, format string, args ...any) error {
	return &ValidationError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Parse decodes a rule set strictly (unknown keys are errors, since a
// misspelt key would silently change nothing), fills the defaults and
// validates it. Users in pools are checked against the user table by
// ResolvePools, which needs the store.
func Parse(raw []byte) (*RuleSet, error) {
	if len(raw) > maxRuleSetSize {
		return nil, invalid("", "rule set larger than %d bytes", maxRuleSetSize)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var rs RuleSet
	if err := dec.Decode(&rs); err != nil {
		return nil, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid("", "unexpected data after the rule set object")
	}
	rs.Version, rs.UpdatedAt, rs.UpdatedBy, rs.Unchanged = 0, nil, "", false
	if err := rs.normalise(); err != nil {
		return nil, err
	}
	return &rs, nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return invalid("", "malformed JSON at byte %d: %v", se.Offset, err)
	case errors.As(err, &te):
		path := te.Field
		if path == "" {
			path = "(top level)"
		}
		return invalid(path, "want %s, got JSON %s", te.Type, te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return invalid("", "unknown key %s (keys: trigger_stage, sla, keep_account_owner, rules, fallback; a rule has name, match, pool, method)",
			strings.TrimPrefix(err.Error(), "json: unknown field "))
	case errors.Is(err, io.EOF):
		return invalid("", "empty body: send a JSON object")
	}
	return invalid("", "%v", err)
}

func (rs *RuleSet) normalise() error {
	switch rs.TriggerStage = model.Stage(strings.ToLower(strings.TrimSpace(string(rs.TriggerStage)))); rs.TriggerStage {
	case "":
		rs.TriggerStage = DefaultTriggerStage
	case model.StageSQL, model.StageMQL:
	default:
		return invalid("trigger_stage", "%q is not a trigger stage: use \"sql\" or \"mql\"", clipText(string(rs.TriggerStage)))
	}
	if err := rs.SLA.normalise(); err != nil {
		return err
	}
	rs.clock = rs.SLA.BusinessHours.clock()
	rs.due, _ = time.ParseDuration(rs.SLA.FirstFollowUp)

	if len(rs.Rules) > maxRules {
		return invalid("rules", "%d rules; at most %d", len(rs.Rules), maxRules)
	}
	if rs.Rules == nil {
		rs.Rules = []Rule{}
	}
	names := map[string]int{}
	for i := range rs.Rules {
		r := &rs.Rules[i]
		path := fmt.Sprintf("rules[%d]", i)
		r.Name = strings.TrimSpace(r.Name)
		switch {
		case r.Name == "":
			return invalid(path+".name", "every rule needs a name (it keys the round-robin turn and shows on assignments)")
		case len(r.Name) > maxText:
			return invalid(path+".name", "longer than %d bytes", maxText)
		case r.Name == RuleAccountOwner || r.Name == RuleFallback || r.Name == RuleManual:
			return invalid(path+".name", "%q is reserved", r.Name)
		}
		if j, dup := names[r.Name]; dup {
			return invalid(path+".name", "%q is also the name of rules[%d]; names must be unique", r.Name, j)
		}
		names[r.Name] = i
		if err := r.Match.normalise(path + ".match"); err != nil {
			return err
		}
		if err := r.Pool.normalise(path + ".pool"); err != nil {
			return err
		}
		var err error
		if r.Method, err = normaliseMethod(path+".method", r.Method); err != nil {
			return err
		}
	}
	if f := rs.Fallback; f != nil {
		if err := f.Pool.normalise("fallback.pool"); err != nil {
			return err
		}
		var err error
		if f.Method, err = normaliseMethod("fallback.method", f.Method); err != nil {
			return err
		}
	}
	return nil
}

func (s *SLA) normalise() error {
	s.FirstFollowUp = strings.TrimSpace(s.FirstFollowUp)
	if s.FirstFollowUp == "" {
		s.FirstFollowUp = DefaultFirstFollowUp
	}
	d, err := time.ParseDuration(s.FirstFollowUp)
	if err != nil || len(s.FirstFollowUp) > 32 {
		return invalid("sla.first_follow_up", "%q is not a duration: write e.g. \"2h\", \"90m\" or \"1h30m\" (business time)", clipText(s.FirstFollowUp))
	}
	if d < minSLA || d > maxSLA {
		return invalid("sla.first_follow_up", "%s is out of range: between %s and %s of business time", d, minSLA, maxSLA)
	}
	return s.BusinessHours.normalise()
}

func (m *Match) normalise(path string) error {
	for _, f := range []struct {
		name string
		v    *[]string
	}{{"region", &m.Region}, {"industry", &m.Industry}, {"tier", &m.Tier}} {
		if len(*f.v) > maxValues {
			return invalid(path+"."+f.name, "%d values; at most %d", len(*f.v), maxValues)
		}
		for i, s := range *f.v {
			s = strings.TrimSpace(s)
			if s == "" || len(s) > maxText {
				return invalid(fmt.Sprintf("%s.%s[%d]", path, f.name, i), "want a non-empty value of at most %d bytes", maxText)
			}
			(*f.v)[i] = s
		}
		if *f.v != nil && len(*f.v) == 0 {
			return invalid(path+"."+f.name, "an empty list matches nothing: leave the key out to match every value")
		}
	}
	if m.ScoreGTE != nil && (math.IsNaN(*m.ScoreGTE) || math.IsInf(*m.ScoreGTE, 0) || math.Abs(*m.ScoreGTE) > 1e9) {
		return invalid(path+".score_gte", "want a finite number")
	}
	return nil
}

func (p *Pool) normalise(path string) error {
	p.Team = strings.TrimSpace(p.Team)
	if len(p.Team) > maxText {
		return invalid(path+".team", "longer than %d bytes", maxText)
	}
	if len(p.Users) == 0 && p.Team == "" {
		return invalid(path, "an empty pool: name users (ids or emails) or a team")
	}
	if len(p.Users) > maxPoolUsers {
		return invalid(path+".users", "%d users; at most %d", len(p.Users), maxPoolUsers)
	}
	for i, u := range p.Users {
		if u.ID == 0 && (u.Email == "" || len(u.Email) > maxText || !strings.Contains(u.Email, "@")) {
			return invalid(fmt.Sprintf("%s.users[%d]", path, i), "%q is neither a user id nor an email", clipText(u.Email))
		}
	}
	return nil
}

func normaliseMethod(path, m string) (string, error) {
	switch m = strings.ToLower(strings.TrimSpace(m)); m {
	case "":
		return RoundRobin, nil
	case RoundRobin, LeastBusy:
		return m, nil
	}
	return "", invalid(path, "unknown method %q: use round_robin or least_busy", clipText(m))
}

// Clock is the rule set's business-hours clock.
func (rs *RuleSet) Clock() *Clock { return rs.clock }

// FirstFollowUp is the SLA in business time.
func (rs *RuleSet) FirstFollowUp() time.Duration { return rs.due }

// DueAt is when a lead assigned at t must have had its first follow-up.
func (rs *RuleSet) DueAt(t time.Time) time.Time { return rs.clock.Add(t, rs.due) }

// Lead is what the rules look at.
type Lead struct {
	PersonID       int64
	Region         string
	Industry       string
	Tier           string
	Score          float64
	AccountOwnerID int64
}

// Matches reports whether every condition of m holds for l.
func (m *Match) Matches(l Lead) bool {
	in := func(vs []string, v string) bool {
		if vs == nil {
			return true
		}
		for _, x := range vs {
			if strings.EqualFold(x, v) {
				return true
			}
		}
		return false
	}
	return in(m.Region, l.Region) && in(m.Industry, l.Industry) && in(m.Tier, l.Tier) &&
		(m.ScoreGTE == nil || l.Score >= *m.ScoreGTE)
}

// ResolvePools checks that every user a pool names exists, and every team
// has a member, so that a typo is refused when the rules are saved rather
// than found when leads pile up.
func (rs *RuleSet) ResolvePools(users []User) error {
	check := func(path string, p Pool) error {
		for i, ref := range p.Users {
			if _, ok := find(users, ref); !ok {
				return invalid(fmt.Sprintf("%s.users[%d]", path, i), "no user %s", ref)
			}
		}
		if p.Team != "" {
			for _, u := range users {
				if strings.EqualFold(u.Team, p.Team) {
					return nil
				}
			}
			return invalid(path+".team", "no user is in team %q", p.Team)
		}
		return nil
	}
	for i, r := range rs.Rules {
		if err := check(fmt.Sprintf("rules[%d].pool", i), r.Pool); err != nil {
			return err
		}
	}
	if rs.Fallback != nil {
		return check("fallback.pool", rs.Fallback.Pool)
	}
	return nil
}

func find(users []User, ref UserRef) (*User, bool) {
	for i := range users {
		if (ref.ID != 0 && users[i].ID == ref.ID) || (ref.Email != "" && strings.EqualFold(users[i].Email, ref.Email)) {
			return &users[i], true
		}
	}
	return nil, false
}

func clipText(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
