package lifecycle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Grades: A has a clear need and budget and buys soon; B has a fairly clear
// need and buys in the mid term; C has no clear need yet but fits the ideal
// customer profile.
var Grades = []string{"A", "B", "C"}

// SDR classes: where an SDR files a person.
const (
	ClassOpp       = "opp"        // an opportunity is open or due
	ClassSQL       = "sql"        // accepted by sales
	ClassMQL       = "mql"        // qualified by marketing, not yet accepted
	ClassMA        = "ma"         // back to marketing automation for nurturing
	ClassNonTarget = "non_target" // not a buyer
)

// SDRClasses lists the SDR classes.
var SDRClasses = []string{ClassOpp, ClassSQL, ClassMQL, ClassMA, ClassNonTarget}

// ValidGrade reports whether g is a grade ("" clears a grade and is not one).
func ValidGrade(g string) bool { return contains(Grades, g) }

// ValidSDRClass reports whether c is an SDR class.
func ValidSDRClass(c string) bool { return contains(SDRClasses, c) }

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// RuleSet is the lifecycle rules in force, as JSON:
//
//	{"rules": [
//	  {"name": "grade-a", "when": {"score_gte": 80, "has_demo_request": true}, "set": {"grade": "A", "sdr_class": "sql"}},
//	  {"name": "recycle", "when": {"stage_in": ["mql"], "no_activity_days_gte": 45}, "move_to": "nurture", "reason": "no activity for 45 days"}
//	]}
//
// Rules run in order. For each field (grade, SDR class) the first matching
// rule that sets it decides it; for stage moves the first matching move
// rule decides. A rule never overrides a value a person set by hand, unless
// it says "override_manual": true.
type RuleSet struct {
	Rules []Rule `json:"rules"`
}

// Rule is one lifecycle rule: conditions, and either values to set or a
// stage to move to.
type Rule struct {
	Name           string      `json:"name"`
	Description    string      `json:"description,omitempty"`
	When           Conditions  `json:"when"`
	Set            *Assignment `json:"set,omitempty"`
	OverrideManual bool        `json:"override_manual,omitempty"`
	MoveTo         model.Stage `json:"move_to,omitempty"`
	Reason         string      `json:"reason,omitempty"`
}

// Assignment is what a rule sets.
type Assignment struct {
	Grade    string `json:"grade,omitempty"`
	SDRClass string `json:"sdr_class,omitempty"`
}

// Conditions must all hold for a rule to match. Absent conditions are not
// checked; a rule needs at least one.
type Conditions struct {
	ScoreGTE                *float64      `json:"score_gte,omitempty"`
	ScoreLT                 *float64      `json:"score_lt,omitempty"`
	PredictedProbabilityGTE *float64      `json:"predicted_probability_gte,omitempty"`
	StageIn                 []model.Stage `json:"stage_in,omitempty"`
	GradeIn                 []string      `json:"grade_in,omitempty"`
	SDRClassIn              []string      `json:"sdr_class_in,omitempty"`
	AccountTierIn           []string      `json:"account_tier_in,omitempty"`
	IndustryIn              []string      `json:"industry_in,omitempty"`
	DaysInStageGTE          *float64      `json:"days_in_stage_gte,omitempty"`
	NoActivityDaysGTE       *float64      `json:"no_activity_days_gte,omitempty"`
	HasDemoRequest          *bool         `json:"has_demo_request,omitempty"`
}

// Limits on a rule set, so that a hostile or mistaken PUT stays small.
const (
	MaxRules      = 200
	maxListItems  = 200
	maxTextLen    = 200
	maxReasonLen  = 500
	maxRuleDays   = 3650
	maxRulesBytes = 1 << 20
)

// Compiled on first use: its counted repetition makes it costly to compile,
// and most commands never need it.
var ruleName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`) })

// ParseRules reads and validates a rule set strictly: unknown fields,
// trailing data, wrong types and impossible values are errors that name
// the rule and field.
func ParseRules(b []byte) (RuleSet, error) {
	var rs RuleSet
	if len(b) > maxRulesBytes {
		return rs, fmt.Errorf("rules: the JSON is larger than %d bytes", maxRulesBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		return rs, fmt.Errorf("rules: %s", jsonError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return rs, errors.New("rules: unexpected data after the JSON object")
	}
	if rs.Rules == nil {
		return rs, errors.New(`rules: want an object {"rules": [...]}; "rules" is missing or null`)
	}
	return rs, rs.Validate()
}

func jsonError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, err)
	case errors.As(err, &te):
		return fmt.Sprintf("field %s: want %s, got a JSON %s", te.Field, te.Type, te.Value)
	case errors.Is(err, io.EOF):
		return "empty body: want a JSON object"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// Validate checks every rule and names the first problem.
func (rs RuleSet) Validate() error {
	if len(rs.Rules) > MaxRules {
		return fmt.Errorf("rules: %d rules, at most %d", len(rs.Rules), MaxRules)
	}
	seen := map[string]bool{}
	for i, r := range rs.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		if r.Name != "" {
			where = fmt.Sprintf("rules[%d] (%s)", i, r.Name)
		}
		if err := r.validate(); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if seen[r.Name] {
			return fmt.Errorf("%s: name %q is used twice; rule names must be unique", where, r.Name)
		}
		seen[r.Name] = true
	}
	return nil
}

func (r Rule) validate() error {
	if !ruleName().MatchString(r.Name) {
		return fmt.Errorf("name %q: want 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", clipText(r.Name))
	}
	if len(r.Description) > maxReasonLen {
		return fmt.Errorf("description: at most %d bytes", maxReasonLen)
	}
	if err := r.When.validate(); err != nil {
		return fmt.Errorf("when.%w", err)
	}
	switch {
	case r.Set != nil && r.MoveTo != "":
		return errors.New(`a rule either sets values ("set") or moves the stage ("move_to"), not both`)
	case r.Set != nil:
		if r.Set.Grade == "" && r.Set.SDRClass == "" {
			return errors.New(`set: give "grade" and/or "sdr_class"`)
		}
		if r.Set.Grade != "" && !ValidGrade(r.Set.Grade) {
			return fmt.Errorf("set.grade %q: want one of %s", clipText(r.Set.Grade), strings.Join(Grades, ", "))
		}
		if r.Set.SDRClass != "" && !ValidSDRClass(r.Set.SDRClass) {
			return fmt.Errorf("set.sdr_class %q: want one of %s", clipText(r.Set.SDRClass), strings.Join(SDRClasses, ", "))
		}
		if r.Reason != "" && len(r.Reason) > maxReasonLen {
			return fmt.Errorf("reason: at most %d bytes", maxReasonLen)
		}
	case r.MoveTo != "":
		if !r.MoveTo.Valid() || r.MoveTo == model.StageVisitor {
			return fmt.Errorf("move_to %q: want one of subscriber, lead, mql, sql, opportunity, customer, nurture, disqualified", clipText(string(r.MoveTo)))
		}
		if strings.TrimSpace(r.Reason) == "" {
			return errors.New(`reason: a stage rule must say why it moves people (e.g. "no activity for 45 days")`)
		}
		if len(r.Reason) > maxReasonLen {
			return fmt.Errorf("reason: at most %d bytes", maxReasonLen)
		}
		if len(r.When.StageIn) == 0 {
			return errors.New(`when.stage_in: a stage rule must name the stages it moves people from`)
		}
		for _, st := range r.When.StageIn {
			if st == r.MoveTo {
				return fmt.Errorf("when.stage_in: contains %s, the stage the rule moves to", st)
			}
		}
		if r.OverrideManual {
			return errors.New(`override_manual: only rules that set values may override people`)
		}
	default:
		return errors.New(`a rule needs an action: "set" ({"grade", "sdr_class"}) or "move_to" with a "reason"`)
	}
	return nil
}

func (c Conditions) validate() error {
	n := 0
	num := func(name string, v *float64, lo, hi float64) error {
		if v == nil {
			return nil
		}
		n++
		if math.IsNaN(*v) || math.IsInf(*v, 0) || *v < lo || *v > hi {
			return fmt.Errorf("%s: %v is out of range [%v, %v]", name, *v, lo, hi)
		}
		return nil
	}
	list := func(name string, v []string, valid func(string) bool, want string) error {
		if v == nil {
			return nil
		}
		n++
		if len(v) == 0 || len(v) > maxListItems {
			return fmt.Errorf("%s: want 1 to %d values", name, maxListItems)
		}
		for _, x := range v {
			if strings.TrimSpace(x) == "" || len(x) > maxTextLen {
				return fmt.Errorf("%s: value %q must be non-empty and at most %d bytes", name, clipText(x), maxTextLen)
			}
			if valid != nil && !valid(x) {
				return fmt.Errorf("%s: %q is not one of %s", name, clipText(x), want)
			}
		}
		return nil
	}
	stages := make([]string, len(c.StageIn))
	for i, s := range c.StageIn {
		stages[i] = string(s)
	}
	if c.StageIn == nil {
		stages = nil
	}
	validStage := func(s string) bool { return model.Stage(s).Valid() }
	for _, err := range []error{
		num("score_gte", c.ScoreGTE, -1e9, 1e9),
		num("score_lt", c.ScoreLT, -1e9, 1e9),
		num("predicted_probability_gte", c.PredictedProbabilityGTE, 0, 1),
		num("days_in_stage_gte", c.DaysInStageGTE, 0, maxRuleDays),
		num("no_activity_days_gte", c.NoActivityDaysGTE, 0, maxRuleDays),
		list("stage_in", stages, validStage, "visitor, subscriber, lead, mql, sql, opportunity, customer, nurture, disqualified"),
		list("grade_in", c.GradeIn, ValidGrade, strings.Join(Grades, ", ")),
		list("sdr_class_in", c.SDRClassIn, ValidSDRClass, strings.Join(SDRClasses, ", ")),
		list("account_tier_in", c.AccountTierIn, nil, ""),
		list("industry_in", c.IndustryIn, nil, ""),
	} {
		if err != nil {
			return err
		}
	}
	if c.HasDemoRequest != nil {
		n++
	}
	if n == 0 {
		return errors.New("when: a rule needs at least one condition")
	}
	return nil
}

func clipText(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// needs says which costly inputs a rule set reads.
func (rs RuleSet) needs() (activity, demo bool) {
	for _, r := range rs.Rules {
		activity = activity || r.When.NoActivityDaysGTE != nil
		demo = demo || r.When.HasDemoRequest != nil
	}
	return activity, demo
}

const day = 24 * time.Hour

// Match reports whether a person meets every condition at now.
func (c Conditions) Match(p store.LifecyclePerson, now time.Time) bool {
	if c.ScoreGTE != nil && p.Score < *c.ScoreGTE {
		return false
	}
	if c.ScoreLT != nil && p.Score >= *c.ScoreLT {
		return false
	}
	if c.PredictedProbabilityGTE != nil && (p.Predicted == nil || *p.Predicted < *c.PredictedProbabilityGTE) {
		return false
	}
	if c.StageIn != nil {
		ok := false
		for _, st := range c.StageIn {
			ok = ok || st == p.Stage
		}
		if !ok {
			return false
		}
	}
	if c.GradeIn != nil && !contains(c.GradeIn, p.Grade) {
		return false
	}
	if c.SDRClassIn != nil && !contains(c.SDRClassIn, p.SDRClass) {
		return false
	}
	if c.AccountTierIn != nil && !containsFold(c.AccountTierIn, p.AccountTier) {
		return false
	}
	if c.IndustryIn != nil && !containsFold(c.IndustryIn, p.Industry) {
		return false
	}
	if c.DaysInStageGTE != nil && (p.StageAt == nil || now.Sub(*p.StageAt) < time.Duration(*c.DaysInStageGTE*float64(day))) {
		return false
	}
	if c.NoActivityDaysGTE != nil {
		// Activity is the latest touch, or entering the current stage: a
		// person who just reached a stage has not been idle in it.
		last := p.LastActivity
		if p.StageAt != nil && (last == nil || p.StageAt.After(*last)) {
			last = p.StageAt
		}
		if last == nil || now.Sub(*last) < time.Duration(*c.NoActivityDaysGTE*float64(day)) {
			return false
		}
	}
	if c.HasDemoRequest != nil && p.DemoRequest != *c.HasDemoRequest {
		return false
	}
	return true
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), strings.TrimSpace(v)) {
			return true
		}
	}
	return false
}

// Decision is what the rules decide for one person.
type Decision struct {
	Sets []model.QualificationSet
	Move *model.StageMove
}

// Decide applies the rule set to one person at now. version is the rule
// set's version, written into the history.
func (rs RuleSet) Decide(p store.LifecyclePerson, now time.Time, version int64) Decision {
	var d Decision
	var gradeDone, classDone, moveDone bool
	for _, r := range rs.Rules {
		if gradeDone && classDone && moveDone {
			break
		}
		wantsGrade := r.Set != nil && r.Set.Grade != "" && !gradeDone
		wantsClass := r.Set != nil && r.Set.SDRClass != "" && !classDone
		wantsMove := r.MoveTo != "" && !moveDone
		if !wantsGrade && !wantsClass && !wantsMove {
			continue
		}
		if !r.When.Match(p, now) {
			continue
		}
		actor := ActorRule + r.Name
		reason := r.Reason
		if reason == "" {
			reason = "rule " + r.Name
		}
		set := func(field, value string) {
			d.Sets = append(d.Sets, model.QualificationSet{PersonID: p.ID, Field: field, Value: value, At: now,
				Actor: actor, Reason: reason, RuleVersion: version, KeepManual: !r.OverrideManual})
		}
		if wantsGrade {
			gradeDone = true
			set(model.FieldGrade, r.Set.Grade)
		}
		if wantsClass {
			classDone = true
			set(model.FieldSDRClass, r.Set.SDRClass)
		}
		if wantsMove {
			moveDone = true
			if Check(p.Stage, r.MoveTo, reason, actor) == nil {
				d.Move = &model.StageMove{PersonID: p.ID, From: p.Stage, To: r.MoveTo, At: now, Reason: reason, Actor: actor}
			}
		}
	}
	return d
}

// ActiveRules reads the rule set in force: version 0 and no rules when none
// was saved.
func ActiveRules(ctx context.Context, s *store.Store) (RuleSet, model.RuleSet, error) {
	saved, err := s.ActiveRuleSet(ctx, model.LifecycleRuleSets)
	if errors.Is(err, store.ErrNotFound) {
		return RuleSet{Rules: []Rule{}}, model.RuleSet{Rules: []byte(`{"rules":[]}`)}, nil
	}
	if err != nil {
		return RuleSet{}, saved, err
	}
	rs, err := ParseRules(saved.Rules)
	if err != nil {
		return RuleSet{}, saved, fmt.Errorf("stored lifecycle rules version %d: %w", saved.Version, err)
	}
	return rs, saved, nil
}

// RunResult counts what one run of the rules did.
type RunResult struct {
	Version         int64 `json:"rule_version"`
	Evaluated       int   `json:"evaluated"`
	GradeChanges    int   `json:"grade_changes"`
	SDRClassChanges int   `json:"sdr_class_changes"`
	KeptManual      int   `json:"kept_manual"` // values a rule matched but a person had set by hand
	Moves           int   `json:"moves"`
	MovesSkipped    int   `json:"moves_skipped"` // the person moved meanwhile
}

// runBatch bounds how many changes one transaction writes, so that a large
// run never holds SQLite's one writer for long.
const runBatch = 500

// RunRules evaluates the rule set in force over every person past the
// visitor stage at now and applies what it decides. It is idempotent: a
// second run at the same time changes nothing.
// While another run holds the lifecycle lease (here or on another node) it
// does nothing and the error is store.ErrLeaseHeld.
func RunRules(ctx context.Context, s *store.Store, now time.Time) (RunResult, error) {
	var res RunResult
	err := s.WithLease(ctx, LeaseName, func(ctx context.Context) error {
		var err error
		res, err = runRules(ctx, s, nil, now)
		return err
	})
	return res, err
}

// LeaseName is the lease a run of the lifecycle rules holds: one at a
// time on every node that shares the database.
const LeaseName = "lifecycle"

// leasePatience is how long RunRulesFor waits for a run in progress: its
// persons changed after that run read them.
const leasePatience = 2 * time.Minute

// RunRulesFor is RunRules over the persons with the given ids only: those
// whose activity, score, traits or identity changed since the last run, so
// that a merge or a new score reaches their grade and stage at once rather
// than at the next full run. No ids, no work.
func RunRulesFor(ctx context.Context, s *store.Store, ids []int64, now time.Time) (RunResult, error) {
	if len(ids) == 0 {
		return RunResult{}, nil
	}
	var res RunResult
	err := s.WithLeaseWait(ctx, LeaseName, leasePatience, func(ctx context.Context) error {
		var err error
		res, err = runRules(ctx, s, ids, now)
		return err
	})
	return res, err
}

func runRules(ctx context.Context, s *store.Store, only []int64, now time.Time) (RunResult, error) {
	rs, saved, err := ActiveRules(ctx, s)
	if err != nil {
		return RunResult{}, err
	}
	p, err := plan(ctx, s, rs, saved.Version, only, now)
	if err != nil {
		return p.RunResult, err
	}
	res := p.RunResult
	for i := 0; i < len(p.sets); i += runBatch {
		batch := p.sets[i:min(i+runBatch, len(p.sets))]
		applied, err := s.SetQualifications(ctx, batch)
		if err != nil {
			return res, fmt.Errorf("apply lifecycle rule values: %w", err)
		}
		for j, ok := range applied {
			switch {
			case !ok && batch[j].KeepManual:
				res.KeptManual++ // a person set it since the read
			case ok && batch[j].Field == model.FieldGrade:
				res.GradeChanges++
			case ok:
				res.SDRClassChanges++
			}
		}
	}
	for i := 0; i < len(p.moves); i += runBatch {
		batch := p.moves[i:min(i+runBatch, len(p.moves))]
		applied, err := s.MoveStages(ctx, batch)
		if err != nil {
			return res, fmt.Errorf("apply lifecycle stage rules: %w", err)
		}
		for _, ok := range applied {
			if ok {
				res.Moves++
			} else {
				res.MovesSkipped++
			}
		}
	}
	return res, nil
}

// runPlan is what one run would write: the values and moves the rules
// decide, and the persons as read. RunResult counts only what the read
// already settles (evaluated, kept manual).
type runPlan struct {
	RunResult
	sets    []model.QualificationSet
	moves   []model.StageMove
	persons map[int64]store.LifecyclePerson
}

// plan evaluates rs over every person past the visitor stage at now (or
// those of them in only, when it is not nil), reading the store and
// writing nothing.
func plan(ctx context.Context, s *store.Store, rs RuleSet, version int64, only []int64, now time.Time) (runPlan, error) {
	p := runPlan{RunResult: RunResult{Version: version}}
	if len(rs.Rules) == 0 {
		return p, nil
	}
	activity, demo := rs.needs()
	persons, err := s.LifecyclePersons(ctx, only, activity, demo)
	if err != nil {
		return p, fmt.Errorf("read persons for lifecycle rules: %w", err)
	}
	p.Evaluated = len(persons)
	p.persons = make(map[int64]store.LifecyclePerson, len(persons))
	for _, person := range persons {
		d := rs.Decide(person, now, version)
		changed := false
		for _, q := range d.Sets {
			cur, by := person.Grade, person.GradeSetBy
			if q.Field == model.FieldSDRClass {
				cur, by = person.SDRClass, person.SDRClassSetBy
			}
			if cur == q.Value {
				continue // nothing to change; saves a write
			}
			if q.KeepManual && ByPerson(by) {
				p.KeptManual++
				continue
			}
			p.sets = append(p.sets, q)
			changed = true
		}
		if d.Move != nil {
			p.moves = append(p.moves, *d.Move)
			changed = true
		}
		if changed {
			p.persons[person.ID] = person
		}
	}
	return p, nil
}

// Preview says what a rule set would change if it ran now: counts, and a
// sample of the changes, the stage moves first.
type Preview struct {
	Evaluated       int      `json:"evaluated"`
	Persons         int      `json:"persons"` // persons with at least one change
	GradeChanges    int      `json:"grade_changes"`
	SDRClassChanges int      `json:"sdr_class_changes"`
	Moves           int      `json:"moves"`
	KeptManual      int      `json:"kept_manual"`
	Sample          []Change `json:"sample"`
}

// Change is one value a run would change for one person.
type Change struct {
	PersonID int64  `json:"person_id"`
	Field    string `json:"field"` // grade, sdr_class or stage
	Before   string `json:"before"`
	After    string `json:"after"`
	Rule     string `json:"rule"`
}

// PreviewRules evaluates rs over every person at now as a run of the rules
// would, without writing, and lists at most sample changes.
func PreviewRules(ctx context.Context, s *store.Store, rs RuleSet, now time.Time, sample int) (Preview, error) {
	p, err := plan(ctx, s, rs, 0, nil, now)
	if err != nil {
		return Preview{}, err
	}
	out := Preview{Evaluated: p.Evaluated, Persons: len(p.persons), KeptManual: p.KeptManual, Moves: len(p.moves), Sample: []Change{}}
	add := func(c Change) {
		if len(out.Sample) < sample {
			out.Sample = append(out.Sample, c)
		}
	}
	for _, m := range p.moves {
		add(Change{PersonID: m.PersonID, Field: "stage", Before: string(m.From), After: string(m.To), Rule: strings.TrimPrefix(m.Actor, ActorRule)})
	}
	for _, q := range p.sets {
		before := p.persons[q.PersonID].Grade
		if q.Field == model.FieldGrade {
			out.GradeChanges++
		} else {
			out.SDRClassChanges++
			before = p.persons[q.PersonID].SDRClass
		}
		add(Change{PersonID: q.PersonID, Field: q.Field, Before: before, After: q.Value, Rule: strings.TrimPrefix(q.Actor, ActorRule)})
	}
	return out, nil
}
