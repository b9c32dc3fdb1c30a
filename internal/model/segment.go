package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Segments: saved filters over persons or accounts, and the condition
// language they are written in (docs/segments.md). A condition is a group
// ({"all": [...]}, {"any": [...]}, {"not": {...}}) or a leaf: a field, an
// operator and a value, and for behaviour a count and a window.

// Segment kinds: what a segment's members are.
const (
	SegmentPersons  = "person"
	SegmentAccounts = "account"
)

// Bounds of a filter, so that one request cannot ask for unbounded work.
const (
	MaxSegmentFilterBytes = 64 << 10
	MaxSegmentDepth       = 5   // nested groups below the top
	MaxSegmentConditions  = 50  // leaves and groups together
	MaxSegmentListValues  = 200 // values of an "in" or "not_in"
	MaxSegmentValueLen    = 200 // characters of a text value
	MaxSegmentDays        = 3650
	MaxSegmentMin         = 10000
	MaxSegmentNameLen     = 200
)

// Operators.
const (
	OpEq       = "eq"
	OpNe       = "ne"
	OpIn       = "in"
	OpNotIn    = "not_in"
	OpContains = "contains"
	OpGt       = "gt"
	OpGte      = "gte"
	OpLt       = "lt"
	OpLte      = "lte"
	OpIsSet    = "is_set"
	OpIsNotSet = "is_not_set"
	OpDid      = "did"
	OpDidNot   = "did_not"
)

// FieldType is what kind of value a field holds, which decides its
// operators.
type FieldType int

const (
	FieldText      FieldType = iota // eq ne in not_in contains is_set is_not_set
	FieldNumber                     // eq ne gt gte lt lte
	FieldUser                       // a user id: eq ne in not_in is_set is_not_set
	FieldTrait                      // text and number operators, is_set is_not_set
	FieldConsent                    // granted, denied, unknown: eq ne in not_in
	FieldBehaviour                  // did did_not, with min and days
	FieldEngaged                    // engaged_people: number operators with min_engagement and days
)

// SegmentField describes a field of the language.
type SegmentField struct {
	Name string
	Type FieldType
	// Enum, when set, is every value the field may be compared with.
	Enum []string
}

var segmentTextOps = []string{OpEq, OpNe, OpIn, OpNotIn, OpContains, OpIsSet, OpIsNotSet}
var segmentNumberOps = []string{OpEq, OpNe, OpGt, OpGte, OpLt, OpLte}

// SegmentFieldOps are the operators a field type allows.
func SegmentFieldOps(t FieldType) []string {
	switch t {
	case FieldText:
		return segmentTextOps
	case FieldNumber, FieldEngaged:
		return segmentNumberOps
	case FieldUser:
		return []string{OpEq, OpNe, OpIn, OpNotIn, OpIsSet, OpIsNotSet}
	case FieldTrait:
		return append(slices.Clone(segmentTextOps), OpGt, OpGte, OpLt, OpLte)
	case FieldConsent:
		return []string{OpEq, OpNe, OpIn, OpNotIn}
	case FieldBehaviour:
		return []string{OpDid, OpDidNot}
	}
	return nil
}

// ConsentStates are the values a consent field compares with: a person
// without an answer for the channel is "unknown".
var ConsentStates = []string{"granted", "denied", "unknown"}

func stageNames() []string {
	out := make([]string, 0, 9)
	for _, s := range append(slices.Clone(LifecycleStages), StageNurture, StageDisqualified) {
		out = append(out, string(s))
	}
	return out
}

// accountFields are an account's fields, by their names in an account
// segment (a person segment prefixes them with "account.").
var accountFields = []SegmentField{
	{Name: "name", Type: FieldText}, {Name: "industry", Type: FieldText}, {Name: "size_band", Type: FieldText},
	{Name: "region", Type: FieldText}, {Name: "city", Type: FieldText}, {Name: "tier", Type: FieldText},
	{Name: "plan", Type: FieldText}, {Name: "domain", Type: FieldText},
	{Name: "employees", Type: FieldNumber}, {Name: "owner", Type: FieldUser},
}

// SegmentFields lists the fixed fields of a kind, in the order the
// builder offers them; traits ("trait.NAME") and consents
// ("consent.CHANNEL") come on top for persons.
func SegmentFields(kind string) []SegmentField {
	if kind == SegmentAccounts {
		return append(slices.Clone(accountFields),
			SegmentField{Name: "engaged_people", Type: FieldEngaged},
			SegmentField{Name: "open_opportunities", Type: FieldNumber})
	}
	out := []SegmentField{
		{Name: "stage", Type: FieldText, Enum: stageNames()},
		{Name: "grade", Type: FieldText}, {Name: "sdr_class", Type: FieldText},
		{Name: "fit_score", Type: FieldNumber}, {Name: "engagement_score", Type: FieldNumber}, {Name: "score", Type: FieldNumber},
		{Name: "owner", Type: FieldUser}, {Name: "title", Type: FieldText},
		{Name: "first_touch_channel", Type: FieldText}, {Name: "last_touch_channel", Type: FieldText},
		{Name: "event", Type: FieldBehaviour}, {Name: "touch_type", Type: FieldBehaviour}, {Name: "touch_channel", Type: FieldBehaviour},
	}
	for _, f := range accountFields {
		f.Name = "account." + f.Name
		out = append(out, f)
	}
	return out
}

// segmentKeyPattern is what a trait name or consent channel may be:
// letters (any script), digits, "_", "-" and ".", so that it can sit in a
// JSON path without quoting trouble.
var segmentKeyPattern = regexp.MustCompile(`^[\p{L}\p{N}_.\-]{1,64}$`)

// SegmentCond is a condition: exactly one of All, Any, Not or Field.
type SegmentCond struct {
	All []SegmentCond `json:"all,omitempty"`
	Any []SegmentCond `json:"any,omitempty"`
	Not *SegmentCond  `json:"not,omitempty"`

	Field string          `json:"field,omitempty"`
	Op    string          `json:"op,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
	// Behaviour: at least Min times (default 1) in the last Days days
	// (0: ever). engaged_people: Days bounds the touches that count.
	Min  int `json:"min,omitempty"`
	Days int `json:"days,omitempty"`
	// engaged_people: a person counts when their engagement score is at
	// least this.
	MinEngagement *float64 `json:"min_engagement,omitempty"`

	// Parsed by ParseSegmentFilter, for the evaluators.
	Type    FieldType `json:"-"`
	Key     string    `json:"-"` // the trait name or consent channel; the account field for account.*
	Texts   []string  `json:"-"` // text values (one for eq/ne/contains/did)
	Numbers []float64 `json:"-"` // number values (one; user ids are whole numbers)
	group   bool
}

// IsGroup reports whether c is a group (all, any or not).
func (c *SegmentCond) IsGroup() bool { return c.group }

// Timed reports whether the condition asks about a window of time, so
// that members must be re-evaluated as time passes.
func (c *SegmentCond) Timed() bool {
	if c.Days > 0 {
		return true
	}
	for i := range c.All {
		if c.All[i].Timed() {
			return true
		}
	}
	for i := range c.Any {
		if c.Any[i].Timed() {
			return true
		}
	}
	return c.Not != nil && c.Not.Timed()
}

// SegmentFilterError is a filter that is not valid: Path names the field
// ("filter.all[2].value").
type SegmentFilterError struct {
	Path string
	Msg  string
}

func (e *SegmentFilterError) Error() string { return e.Path + ": " + e.Msg }

// ParseSegmentFilter decodes and validates a filter of kind (person or
// account). Errors are *SegmentFilterError naming the field, under the
// path prefix ("filter").
func ParseSegmentFilter(kind string, raw json.RawMessage, prefix string) (*SegmentCond, error) {
	if kind != SegmentPersons && kind != SegmentAccounts {
		return nil, &SegmentFilterError{Path: "kind", Msg: fmt.Sprintf("%q is not one of person, account", kind)}
	}
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, &SegmentFilterError{Path: prefix, Msg: `a filter is required, e.g. {"all": [{"field": "stage", "op": "eq", "value": "mql"}]}`}
	}
	if len(raw) > MaxSegmentFilterBytes {
		return nil, &SegmentFilterError{Path: prefix, Msg: fmt.Sprintf("at most %d bytes", MaxSegmentFilterBytes)}
	}
	var c SegmentCond
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			p := prefix
			if te.Field != "" {
				p += "." + te.Field
			}
			return nil, &SegmentFilterError{Path: p, Msg: fmt.Sprintf("want %s, got a JSON %s", te.Type, te.Value)}
		}
		return nil, &SegmentFilterError{Path: prefix, Msg: "not a JSON object of conditions: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	if dec.More() {
		return nil, &SegmentFilterError{Path: prefix, Msg: "found more after the first JSON value"}
	}
	v := segmentValidator{kind: kind}
	if err := v.cond(&c, prefix, 0); err != nil {
		return nil, err
	}
	return &c, nil
}

type segmentValidator struct {
	kind  string
	count int
}

func (v *segmentValidator) cond(c *SegmentCond, path string, depth int) error {
	fail := func(sub, format string, a ...any) error {
		p := path
		if sub != "" {
			p += "." + sub
		}
		return &SegmentFilterError{Path: p, Msg: fmt.Sprintf(format, a...)}
	}
	v.count++
	if v.count > MaxSegmentConditions {
		return fail("", "a filter holds at most %d conditions and groups", MaxSegmentConditions)
	}
	set := 0
	if c.All != nil {
		set++
	}
	if c.Any != nil {
		set++
	}
	if c.Not != nil {
		set++
	}
	if c.Field != "" {
		set++
	}
	if set != 1 {
		return fail("", `exactly one of "all", "any", "not" or "field" must be given`)
	}
	if c.Field == "" {
		c.group = true
		if depth >= MaxSegmentDepth {
			return fail("", "groups nest at most %d deep", MaxSegmentDepth)
		}
		if c.Op != "" || c.Value != nil || c.Min != 0 || c.Days != 0 || c.MinEngagement != nil {
			return fail("", "a group has no op, value, min, days or min_engagement")
		}
		for i := range c.All {
			if err := v.cond(&c.All[i], fmt.Sprintf("%s.all[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		for i := range c.Any {
			if err := v.cond(&c.Any[i], fmt.Sprintf("%s.any[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		if c.Not != nil {
			return v.cond(c.Not, path+".not", depth+1)
		}
		return nil
	}
	f, err := v.field(c.Field)
	if err != nil {
		return fail("field", "%s", err.Error())
	}
	c.Type = f.Type
	ops := SegmentFieldOps(f.Type)
	if !slices.Contains(ops, c.Op) {
		return fail("op", "%q is not an operator of field %s (one of %s)", clipText(c.Op, 40), c.Field, strings.Join(ops, ", "))
	}
	if f.Type != FieldBehaviour && c.Min != 0 {
		return fail("min", "only event, touch_type and touch_channel take min")
	}
	if f.Type != FieldBehaviour && f.Type != FieldEngaged && c.Days != 0 {
		return fail("days", "only event, touch_type, touch_channel and engaged_people take days")
	}
	if f.Type != FieldEngaged && c.MinEngagement != nil {
		return fail("min_engagement", "only engaged_people takes min_engagement")
	}
	if c.Days < 0 || c.Days > MaxSegmentDays {
		return fail("days", "%d is not between 1 and %d (leave it out for ever)", c.Days, MaxSegmentDays)
	}
	if f.Type == FieldBehaviour {
		if c.Min == 0 {
			c.Min = 1
		}
		if c.Min < 1 || c.Min > MaxSegmentMin {
			return fail("min", "%d is not between 1 and %d", c.Min, MaxSegmentMin)
		}
	}
	if c.MinEngagement != nil && (math.IsNaN(*c.MinEngagement) || math.IsInf(*c.MinEngagement, 0)) {
		return fail("min_engagement", "not a number")
	}
	if c.Op == OpIsSet || c.Op == OpIsNotSet {
		if c.Value != nil {
			return fail("value", "%s takes no value", c.Op)
		}
		return nil
	}
	if c.Value == nil || isJSONNull(c.Value) {
		return fail("value", "%s %s needs a value", c.Field, c.Op)
	}
	switch {
	case c.Op == OpIn || c.Op == OpNotIn:
		var list []json.RawMessage
		if err := json.Unmarshal(c.Value, &list); err != nil {
			return fail("value", "%s wants a JSON list of values", c.Op)
		}
		if len(list) == 0 || len(list) > MaxSegmentListValues {
			return fail("value", "a list of 1 to %d values", MaxSegmentListValues)
		}
		for i, item := range list {
			if err := v.scalar(c, f, item); err != nil {
				return fail(fmt.Sprintf("value[%d]", i), "%s", err.Error())
			}
		}
	case c.Op == OpGt || c.Op == OpGte || c.Op == OpLt || c.Op == OpLte || f.Type == FieldNumber || f.Type == FieldEngaged:
		var n float64
		if err := json.Unmarshal(c.Value, &n); err != nil {
			return fail("value", "%s %s wants a number", c.Field, c.Op)
		}
		c.Numbers = []float64{n}
	default:
		if err := v.scalar(c, f, c.Value); err != nil {
			return fail("value", "%s", err.Error())
		}
	}
	return nil
}

// scalar appends one text or user-id value of c.
func (v *segmentValidator) scalar(c *SegmentCond, f SegmentField, raw json.RawMessage) error {
	if isJSONNull(raw) {
		return fmt.Errorf("null is not a value of %s", c.Field)
	}
	if f.Type == FieldUser {
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil || n <= 0 {
			return fmt.Errorf("%s wants a user id (a positive whole number)", c.Field)
		}
		c.Numbers = append(c.Numbers, float64(n))
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		// A trait compared with a number or a boolean is compared as text.
		var x any
		if f.Type != FieldTrait || json.Unmarshal(raw, &x) != nil {
			return fmt.Errorf("%s wants a text value", c.Field)
		}
		switch t := x.(type) {
		case float64, bool:
			s = strings.TrimSpace(string(raw))
			_ = t
		default:
			return fmt.Errorf("%s wants a text, number or true/false value", c.Field)
		}
	}
	if utf8.RuneCountInString(s) > MaxSegmentValueLen {
		return fmt.Errorf("at most %d characters", MaxSegmentValueLen)
	}
	if (f.Type == FieldBehaviour || c.Op == OpContains) && s == "" {
		return fmt.Errorf("%s %s needs a non-empty value", c.Field, c.Op)
	}
	if f.Enum != nil && !slices.Contains(f.Enum, s) {
		return fmt.Errorf("%q is not one of %s", clipText(s, 40), strings.Join(f.Enum, ", "))
	}
	c.Texts = append(c.Texts, s)
	return nil
}

// field looks a field name up for the validator's kind, and sets the key
// of traits, consents and account fields.
func (v *segmentValidator) field(name string) (SegmentField, error) {
	if v.kind == SegmentPersons {
		for _, p := range []string{"trait.", "consent."} {
			if key, ok := strings.CutPrefix(name, p); ok {
				if !segmentKeyPattern.MatchString(key) {
					return SegmentField{}, fmt.Errorf("%q: after %q comes a name of letters, digits, _, - or . (at most 64)", clipText(name, 80), p)
				}
				if p == "trait." {
					return SegmentField{Name: name, Type: FieldTrait}, nil
				}
				return SegmentField{Name: name, Type: FieldConsent, Enum: ConsentStates}, nil
			}
		}
	}
	for _, f := range SegmentFields(v.kind) {
		if f.Name == name {
			return f, nil
		}
	}
	names := []string{}
	for _, f := range SegmentFields(v.kind) {
		names = append(names, f.Name)
	}
	if v.kind == SegmentPersons {
		names = append(names, "trait.NAME", "consent.CHANNEL")
	}
	return SegmentField{}, fmt.Errorf("%q is not a field of a %s segment (one of %s)", clipText(name, 80), v.kind, strings.Join(names, ", "))
}

func isJSONNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func clipText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// Segment is a saved filter and its membership's state.
type Segment struct {
	ID           int64           `json:"id"`
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	Kind         string          `json:"kind"`
	Filter       json.RawMessage `json:"filter"`
	Timed        bool            `json:"timed"`
	Version      int64           `json:"version"`
	BuiltVersion int64           `json:"built_version"` // Version once the membership follows the filter in force
	MemberCount  int64           `json:"member_count"`
	BuiltAt      *time.Time      `json:"built_at"`
	CreatedBy    string          `json:"created_by"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

// SegmentChange is one enter or leave: the append-only log readers (a
// journey's segment trigger) follow by id.
type SegmentChange struct {
	ID        int64     `json:"id"`
	SegmentID int64     `json:"segment_id"`
	MemberID  int64     `json:"member_id"` // a person's id, or an account's for an account segment
	Entered   bool      `json:"entered"`
	At        time.Time `json:"at"`
}

// SegmentMember is a member and when it entered, with a name to show.
type SegmentMember struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Detail    string    `json:"detail"` // a person's email or stage; an account's industry
	EnteredAt time.Time `json:"entered_at,omitzero"`
}

// SegmentFacts is what a person filter reads of one person, loaded by the
// store for the filter's fields: Values holds fixed fields by name
// (string, float64 or int64; nil when the field has no value, e.g. an
// account field of a person without an account), Traits the person's
// traits, Consents the answers by channel, Counts the matching events or
// touches of each behaviour condition.
type SegmentFacts struct {
	Values   map[string]any
	Traits   map[string]any // decoded with json.Number for numbers
	Consents map[string]string
	Counts   map[*SegmentCond]int
}

// Eval evaluates a validated person filter over a person's facts, with
// the same meaning as the SQL a build runs (docs/segments.md): a
// condition on a field without a value is false, except is_not_set.
func (c *SegmentCond) Eval(f *SegmentFacts) bool {
	switch {
	case c.All != nil:
		for i := range c.All {
			if !c.All[i].Eval(f) {
				return false
			}
		}
		return true
	case c.Any != nil:
		for i := range c.Any {
			if c.Any[i].Eval(f) {
				return true
			}
		}
		return false
	case c.Not != nil:
		return !c.Not.Eval(f)
	}
	switch c.Type {
	case FieldBehaviour:
		n := f.Counts[c]
		if c.Op == OpDidNot {
			return n < c.Min
		}
		return n >= c.Min
	case FieldConsent:
		st, ok := f.Consents[strings.TrimPrefix(c.Field, "consent.")]
		if !ok {
			st = "unknown"
		}
		return c.evalText(&st)
	case FieldTrait:
		return c.evalTrait(f.Traits[strings.TrimPrefix(c.Field, "trait.")])
	}
	v := f.Values[c.Field]
	switch x := v.(type) {
	case string:
		return c.evalText(&x)
	case float64:
		return c.evalNumber(&x)
	case int64:
		if c.Type == FieldUser {
			return c.evalUser(&x)
		}
		n := float64(x)
		return c.evalNumber(&n)
	}
	switch c.Type {
	case FieldText:
		return c.evalText(nil)
	case FieldUser:
		return c.evalUser(nil)
	}
	return c.evalNumber(nil)
}

func (c *SegmentCond) evalText(v *string) bool {
	switch c.Op {
	case OpIsSet:
		return v != nil && *v != ""
	case OpIsNotSet:
		return v == nil || *v == ""
	}
	if v == nil {
		return false
	}
	switch c.Op {
	case OpEq:
		return *v == c.Texts[0]
	case OpNe:
		return *v != c.Texts[0]
	case OpIn:
		return slices.Contains(c.Texts, *v)
	case OpNotIn:
		return !slices.Contains(c.Texts, *v)
	case OpContains:
		return strings.Contains(*v, c.Texts[0])
	}
	return false
}

func (c *SegmentCond) evalNumber(v *float64) bool {
	if v == nil || len(c.Numbers) == 0 {
		return false
	}
	x := c.Numbers[0]
	switch c.Op {
	case OpEq:
		return *v == x
	case OpNe:
		return *v != x
	case OpGt:
		return *v > x
	case OpGte:
		return *v >= x
	case OpLt:
		return *v < x
	case OpLte:
		return *v <= x
	}
	return false
}

func (c *SegmentCond) evalUser(v *int64) bool {
	switch c.Op {
	case OpIsSet:
		return v != nil
	case OpIsNotSet:
		return v == nil
	}
	if v == nil {
		return false
	}
	has := slices.Contains(c.Numbers, float64(*v))
	switch c.Op {
	case OpEq, OpIn:
		return has
	case OpNe, OpNotIn:
		return !has
	}
	return false
}

// evalTrait: text operators see strings, numbers (as written) and
// booleans as text; number operators see numbers only; absent and null
// are not set.
func (c *SegmentCond) evalTrait(v any) bool {
	switch c.Op {
	case OpIsSet:
		return v != nil
	case OpIsNotSet:
		return v == nil
	case OpGt, OpGte, OpLt, OpLte:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		x, err := n.Float64()
		if err != nil {
			return false
		}
		return c.evalNumber(&x)
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = x.String()
	case bool:
		s = "false"
		if x {
			s = "true"
		}
	default:
		return false
	}
	return c.evalText(&s)
}

// Walk calls fn for every leaf of the condition.
func (c *SegmentCond) Walk(fn func(leaf *SegmentCond)) {
	for i := range c.All {
		c.All[i].Walk(fn)
	}
	for i := range c.Any {
		c.Any[i].Walk(fn)
	}
	if c.Not != nil {
		c.Not.Walk(fn)
	}
	if c.Field != "" {
		fn(c)
	}
}
