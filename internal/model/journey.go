package model

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Nurture journeys: the definition a marketer writes (JSON through the API
// or the visual editor). A definition is a list of steps run in order; a
// step may name the step that follows it (Next), a branch names one for
// each answer, and "exit" ends the journey. docs/journeys.md describes
// every field.

// Step types.
const (
	StepEmail   = "email"
	StepWeCom   = "wecom"
	StepWebhook = "webhook"
	StepWait    = "wait"
	StepBranch  = "branch"
	StepUpdate  = "update"
	StepExit    = "exit"
)

// Re-entry policies: may a person who entered the journey enter it again?
const (
	ReEntryNever     = "never"      // once per person and journey (the default)
	ReEntryAfterExit = "after_exit" // again once the earlier entry has ended
	ReEntryAlways    = "always"     // every time the trigger fires
)

// Outcomes of an earlier step a branch can ask about.
const (
	OutcomeSent    = "sent"
	OutcomeSkipped = "skipped"
	OutcomeFailed  = "failed"
	OutcomeOpened  = "opened"
	OutcomeClicked = "clicked"
	OutcomeReplied = "replied"
)

// Bounds of a definition, so that one request cannot ask for unbounded work.
const (
	MaxJourneySteps     = 100
	MaxJourneyNameLen   = 200
	MaxStepIDLen        = 40
	MaxStepTextLen      = 200_000 // an email's HTML
	MaxJourneyWait      = 366 * 24 * time.Hour
	MaxJourneyExitRules = 20
)

// JourneyDef is a journey's definition, one version of it.
type JourneyDef struct {
	Name    string         `json:"name"`
	Trigger JourneyTrigger `json:"trigger"`
	ReEntry string         `json:"reentry,omitempty"`
	Exit    []JourneyCond  `json:"exit,omitempty"` // any one true ends the journey for the person
	Steps   []JourneyStep  `json:"steps"`
	Goal    *JourneyGoal   `json:"goal,omitempty"`
}

// JourneyGoal is the conversion a journey counts: a stage reached after
// entering (default "sql").
type JourneyGoal struct {
	Stage Stage `json:"stage,omitempty"`
}

// JourneyTrigger says who enters: exactly one of its fields is set.
type JourneyTrigger struct {
	Event   string `json:"event,omitempty"`   // a tracked event's name, e.g. "Whitepaper Downloaded"
	Stage   Stage  `json:"stage,omitempty"`   // the person reaches this lifecycle stage
	Segment int64  `json:"segment,omitempty"` // the person enters this segment
	// DateTrait enters a person on the date held in the trait (e.g.
	// "renewal_date"), shifted by OffsetDays, at the time of day At
	// ("09:00", the team's time zone when the person has none).
	DateTrait  string `json:"date_trait,omitempty"`
	OffsetDays int    `json:"offset_days,omitempty"`
	At         string `json:"at,omitempty"`
}

// JourneyCond is a condition on a person: exactly one of its groups is set.
type JourneyCond struct {
	// Segment: the person is (or with Not, is not) a member of the segment.
	Segment int64 `json:"segment,omitempty"`
	// Filter: a segment filter written inline (the segment package's
	// condition language), evaluated for the person now.
	Filter json.RawMessage `json:"filter,omitempty"`
	// Step and Outcome: what became of an earlier step of this entry
	// (opened, clicked, replied, sent, skipped, failed).
	Step    string `json:"step,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	// Stage: the person's stage is this one or later in the lifecycle.
	Stage Stage `json:"stage,omitempty"`
	// Event: the person did the event since entering the journey.
	Event string `json:"event,omitempty"`
	Not   bool   `json:"not,omitempty"`
}

// JourneyStep is one step. Type says which fields it reads.
type JourneyStep struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Name string `json:"name,omitempty"` // shown in the editor and the timeline
	// Next names the step that follows; empty means the step after this
	// one in the list, or the end.
	Next string `json:"next,omitempty"`

	// email: subject and bodies with {{person.name}}-style variables.
	Subject string `json:"subject,omitempty"`
	HTML    string `json:"html,omitempty"`
	Text    string `json:"text,omitempty"`
	From    string `json:"from,omitempty"` // overrides the SMTP setting's sender

	// wecom: Kind "app" (to the person's owner or a member, an internal
	// message) or "external" (to the external contact, sent by its owner).
	Kind    string `json:"kind,omitempty"`
	Content string `json:"content,omitempty"`
	ToUser  string `json:"to_user,omitempty"` // app messages: a WeCom member id; empty means the person's owner

	// webhook
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`

	// wait: For a span ("3d", "12h", "30m"); or Until a time of day
	// ("09:00") in the person's time zone; or UntilEvent with Timeout.
	For        string `json:"for,omitempty"`
	Until      string `json:"until,omitempty"`
	UntilEvent string `json:"until_event,omitempty"`
	Timeout    string `json:"timeout,omitempty"`

	// branch: If true goes to Then, otherwise to Else (empty: next step).
	If   *JourneyCond `json:"if,omitempty"`
	Then string       `json:"then,omitempty"`
	Else string       `json:"else,omitempty"`

	// update: any of these.
	Trait      string          `json:"trait,omitempty"`
	Value      json.RawMessage `json:"value,omitempty"`
	Stage      Stage           `json:"stage,omitempty"`
	ScoreDelta int             `json:"score_delta,omitempty"`
	Owner      string          `json:"owner,omitempty"` // a user's email or id
	Task       string          `json:"task,omitempty"`  // a task for the person's owner
}

var stepIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// ParseSpan reads a span such as "3d", "12h", "90m" or "45s" (one number
// and one unit; Go durations such as "1h30m" too).
func ParseSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("span %q: want a whole number of days, e.g. \"3d\"", s)
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("span %q: want e.g. \"3d\", \"12h\" or \"30m\"", s)
	}
	return d, nil
}

// ParseClock reads a time of day "HH:MM" as minutes after midnight.
func ParseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("time of day %q: want HH:MM, e.g. \"09:00\"", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Validate checks a definition and says what is wrong, naming the field.
func (d *JourneyDef) Validate() error {
	d.Name = strings.TrimSpace(d.Name)
	if d.Name == "" {
		return fmt.Errorf("name: required")
	}
	if len([]rune(d.Name)) > MaxJourneyNameLen {
		return fmt.Errorf("name: at most %d characters", MaxJourneyNameLen)
	}
	if err := d.Trigger.validate(); err != nil {
		return fmt.Errorf("trigger: %w", err)
	}
	switch d.ReEntry {
	case "":
		d.ReEntry = ReEntryNever
	case ReEntryNever, ReEntryAfterExit, ReEntryAlways:
	default:
		return fmt.Errorf("reentry: %q is not one of never, after_exit, always", d.ReEntry)
	}
	if len(d.Steps) == 0 {
		return fmt.Errorf("steps: at least one step")
	}
	if len(d.Steps) > MaxJourneySteps {
		return fmt.Errorf("steps: at most %d steps", MaxJourneySteps)
	}
	ids := make(map[string]bool, len(d.Steps))
	for i, st := range d.Steps {
		if st.ID == "" || len(st.ID) > MaxStepIDLen || !stepIDPattern.MatchString(st.ID) {
			return fmt.Errorf("steps[%d].id: %q must be 1–%d letters, digits, '-' or '_'", i, st.ID, MaxStepIDLen)
		}
		if ids[st.ID] {
			return fmt.Errorf("steps[%d].id: %q is used twice", i, st.ID)
		}
		ids[st.ID] = true
	}
	if len(d.Exit) > MaxJourneyExitRules {
		return fmt.Errorf("exit: at most %d conditions", MaxJourneyExitRules)
	}
	for i, c := range d.Exit {
		if err := c.validate(ids); err != nil {
			return fmt.Errorf("exit[%d]: %w", i, err)
		}
	}
	for i := range d.Steps {
		if err := d.Steps[i].validate(ids); err != nil {
			return fmt.Errorf("steps[%d] (%s): %w", i, d.Steps[i].ID, err)
		}
	}
	if d.Goal != nil && d.Goal.Stage != "" && !d.Goal.Stage.Valid() {
		return fmt.Errorf("goal.stage: unknown stage %q", d.Goal.Stage)
	}
	return nil
}

// GoalStage is the stage the journey counts as its conversion.
func (d *JourneyDef) GoalStage() Stage {
	if d.Goal != nil && d.Goal.Stage != "" {
		return d.Goal.Stage
	}
	return StageSQL
}

// Step returns the step with the id, or nil.
func (d *JourneyDef) Step(id string) *JourneyStep {
	for i := range d.Steps {
		if d.Steps[i].ID == id {
			return &d.Steps[i]
		}
	}
	return nil
}

// After is the id of the step that follows step i when it names none
// ("" at the end).
func (d *JourneyDef) After(i int) string {
	if d.Steps[i].Next != "" {
		return d.Steps[i].Next
	}
	if i+1 < len(d.Steps) {
		return d.Steps[i+1].ID
	}
	return ""
}

func (t JourneyTrigger) validate() error {
	set := 0
	if t.Event != "" {
		set++
		if len(t.Event) > 200 {
			return fmt.Errorf("event: at most 200 characters")
		}
	}
	if t.Stage != "" {
		set++
		if !t.Stage.Valid() {
			return fmt.Errorf("stage: unknown stage %q", t.Stage)
		}
	}
	if t.Segment != 0 {
		set++
		if t.Segment < 0 {
			return fmt.Errorf("segment: %d is not a segment id", t.Segment)
		}
	}
	if t.DateTrait != "" {
		set++
		if t.At != "" {
			if _, err := ParseClock(t.At); err != nil {
				return fmt.Errorf("at: %w", err)
			}
		}
		if t.OffsetDays < -366 || t.OffsetDays > 366 {
			return fmt.Errorf("offset_days: between -366 and 366")
		}
	}
	if set != 1 {
		return fmt.Errorf("exactly one of event, stage, segment, date_trait")
	}
	return nil
}

func (c JourneyCond) validate(ids map[string]bool) error {
	set := 0
	if c.Segment != 0 {
		set++
	}
	if len(c.Filter) > 0 {
		set++
		if len(c.Filter) > 64<<10 {
			return fmt.Errorf("filter: at most 64 KiB")
		}
	}
	if c.Step != "" || c.Outcome != "" {
		set++
		if !ids[c.Step] {
			return fmt.Errorf("step: no step %q in this journey", c.Step)
		}
		switch c.Outcome {
		case OutcomeSent, OutcomeSkipped, OutcomeFailed, OutcomeOpened, OutcomeClicked, OutcomeReplied:
		default:
			return fmt.Errorf("outcome: %q is not one of sent, skipped, failed, opened, clicked, replied", c.Outcome)
		}
	}
	if c.Stage != "" {
		set++
		if !c.Stage.Valid() {
			return fmt.Errorf("stage: unknown stage %q", c.Stage)
		}
	}
	if c.Event != "" {
		set++
	}
	if set != 1 {
		return fmt.Errorf("exactly one of segment, filter, step+outcome, stage, event")
	}
	return nil
}

func (s *JourneyStep) validate(ids map[string]bool) error {
	target := func(field, id string) error {
		if id != "" && !ids[id] {
			return fmt.Errorf("%s: no step %q in this journey", field, id)
		}
		return nil
	}
	if err := target("next", s.Next); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"subject", s.Subject}, {"html", s.HTML}, {"text", s.Text}, {"content", s.Content}} {
		if len(f.v) > MaxStepTextLen {
			return fmt.Errorf("%s: at most %d bytes", f.name, MaxStepTextLen)
		}
	}
	switch s.Type {
	case StepEmail:
		if strings.TrimSpace(s.Subject) == "" {
			return fmt.Errorf("subject: required for an email")
		}
		if strings.TrimSpace(s.HTML) == "" && strings.TrimSpace(s.Text) == "" {
			return fmt.Errorf("html or text: an email needs a body")
		}
	case StepWeCom:
		if s.Kind != "app" && s.Kind != "external" {
			return fmt.Errorf("kind: %q is not one of app, external", s.Kind)
		}
		if strings.TrimSpace(s.Content) == "" {
			return fmt.Errorf("content: required for a WeCom message")
		}
	case StepWebhook:
		if !strings.HasPrefix(s.URL, "http://") && !strings.HasPrefix(s.URL, "https://") {
			return fmt.Errorf("url: %q must be an http:// or https:// URL", s.URL)
		}
		if len(s.URL) > 2048 {
			return fmt.Errorf("url: at most 2048 characters")
		}
		if len(s.Headers) > 20 {
			return fmt.Errorf("headers: at most 20")
		}
	case StepWait:
		set := 0
		if s.For != "" {
			set++
			d, err := ParseSpan(s.For)
			if err != nil {
				return fmt.Errorf("for: %w", err)
			}
			if d > MaxJourneyWait {
				return fmt.Errorf("for: at most 366 days")
			}
		}
		if s.Until != "" {
			set++
			if _, err := ParseClock(s.Until); err != nil {
				return fmt.Errorf("until: %w", err)
			}
		}
		if s.UntilEvent != "" {
			set++
			d, err := ParseSpan(s.Timeout)
			if err != nil {
				return fmt.Errorf("timeout: a wait for an event needs a time-out: %w", err)
			}
			if d > MaxJourneyWait {
				return fmt.Errorf("timeout: at most 366 days")
			}
		}
		if set != 1 {
			return fmt.Errorf("a wait needs exactly one of for, until, until_event")
		}
	case StepBranch:
		if s.If == nil {
			return fmt.Errorf("if: a branch needs a condition")
		}
		if err := s.If.validate(ids); err != nil {
			return fmt.Errorf("if: %w", err)
		}
		if err := target("then", s.Then); err != nil {
			return err
		}
		if err := target("else", s.Else); err != nil {
			return err
		}
	case StepUpdate:
		if s.Trait == "" && s.Stage == "" && s.ScoreDelta == 0 && s.Owner == "" && s.Task == "" {
			return fmt.Errorf("an update needs one of trait, stage, score_delta, owner, task")
		}
		if s.Stage != "" && !s.Stage.Valid() {
			return fmt.Errorf("stage: unknown stage %q", s.Stage)
		}
		if s.Trait != "" && len(s.Value) == 0 {
			return fmt.Errorf("value: required with trait")
		}
	case StepExit:
	default:
		return fmt.Errorf("type: %q is not one of email, wecom, webhook, wait, branch, update, exit", s.Type)
	}
	return nil
}
