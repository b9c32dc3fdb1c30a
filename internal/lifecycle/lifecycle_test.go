package lifecycle

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		name           string
		from, to       model.Stage
		reason, actor  string
		ok             bool
		wantErrContain string
	}{
		{"forward by scoring", model.StageLead, model.StageMQL, "", ActorScoring, true, ""},
		{"forward skipping stages by system", model.StageSQL, model.StageCustomer, "", ActorSystem, true, ""},
		{"forward by a user without reason", model.StageMQL, model.StageSQL, "", "user:3", true, ""},
		{"backward by system", model.StageSQL, model.StageMQL, "recycled", ActorSystem, false, "only a person or an explicit rule"},
		{"backward by a user without reason", model.StageSQL, model.StageMQL, "  ", "user:3", false, "needs a reason"},
		{"backward by a user with reason", model.StageSQL, model.StageMQL, "budget frozen", "user:3", true, ""},
		{"backward by an API key with reason", model.StageSQL, model.StageLead, "wrong contact", "apikey:crm", true, ""},
		{"backward by an API key without reason", model.StageSQL, model.StageLead, "", "apikey:crm", false, "needs a reason"},
		{"empty API key name is nobody", model.StageSQL, model.StageLead, "x", "apikey:", false, "only a person"},
		{"empty user id is nobody", model.StageSQL, model.StageLead, "x", "user:", false, "only a person"},
		{"side state by a rule with reason", model.StageMQL, model.StageNurture, "no activity for 45 days", "rule:recycle", true, ""},
		{"side state by scoring", model.StageMQL, model.StageNurture, "low score", ActorScoring, false, "only a person"},
		{"side state without reason", model.StageMQL, model.StageDisqualified, "", "user:1", false, "needs a reason"},
		{"out of a side state needs a reason", model.StageNurture, model.StageMQL, "", "user:1", false, "needs a reason"},
		{"out of a side state is not automatic", model.StageNurture, model.StageOpportunity, "opp", ActorSystem, false, "only a person"},
		{"same stage", model.StageMQL, model.StageMQL, "x", "user:1", false, "already in mql"},
		{"unknown target", model.StageMQL, "won", "x", "user:1", false, "unknown target"},
		{"visitor target", model.StageLead, model.StageVisitor, "x", "user:1", false, "unknown target"},
		{"unknown current", "zombie", model.StageMQL, "x", "user:1", false, "unknown current"},
		{"no actor", model.StageLead, model.StageMQL, "", "", false, "needs an actor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Check(c.from, c.to, c.reason, c.actor)
			if c.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), c.wantErrContain) {
				t.Fatalf("error %v, want ErrNotAllowed containing %q", err, c.wantErrContain)
			}
		})
	}
}

func TestLeadMove(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	m := LeadMove(7, at, "form fill: Demo Requested (event 12)")
	want := model.StageMove{PersonID: 7, From: model.StageVisitor, To: model.StageLead, At: at,
		Reason: "form fill: Demo Requested (event 12)", Actor: ActorProcessing}
	if m != want {
		t.Fatalf("LeadMove = %+v, want %+v", m, want)
	}
	if err := Check(m.From, m.To, m.Reason, m.Actor); err != nil {
		t.Fatalf("a lead move must pass the check every move passes: %v", err)
	}
	if ByPerson(m.Actor) || ByRule(m.Actor) {
		t.Fatalf("actor %q is neither a person nor a rule", m.Actor)
	}
}

func TestParseAmount(t *testing.T) {
	cases := []struct {
		raw  string
		want model.Money
		err  string
	}{
		{`"120000.00"`, 12000000, ""},
		{`"120000"`, 12000000, ""},
		{`"0.5"`, 50, ""},
		{`"0"`, 0, ""},
		{`120000.5`, 12000050, ""},
		{`99`, 9900, ""},
		{`" 12.30 "`, 1230, ""},
		{`"10000000000.00"`, 1000000000000, ""}, // MaxAmount
		{`"10000000000.01"`, 0, "above the limit of 10000000000.00"},
		{`"999999999999999.99"`, 0, "above the limit"},
		{`"-1.00"`, 0, "negative"},
		{`-5`, 0, "negative"},
		{`"1.005"`, 0, "more than two decimals"},
		{`0.1234`, 0, "lose precision"},
		{`1e5`, 0, "exponent"},
		{`"1.2E3"`, 0, "exponent"},
		{`"NaN"`, 0, "not a number"},
		{`"Infinity"`, 0, "not a number"},
		{`"1,000.00"`, 0, "not a decimal amount"},
		{`"abc"`, 0, "not a decimal amount"},
		{`"1000000000000000"`, 0, "not a decimal amount"},
		{`""`, 0, "empty"},
		{`null`, 0, "missing"},
		{``, 0, "missing"},
		{`true`, 0, "not a decimal amount"},
		{`"12."`, 0, "not a decimal amount"},
		{`".5"`, 0, "not a decimal amount"},
	}
	for _, c := range cases {
		got, err := ParseAmount(json.RawMessage(c.raw))
		if c.err == "" {
			if err != nil || got != c.want {
				t.Errorf("ParseAmount(%s) = %v, %v; want %v", c.raw, got, err, c.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("ParseAmount(%s) error %v, want one containing %q", c.raw, err, c.err)
		}
	}
}

func TestParseRulesErrors(t *testing.T) {
	cases := []struct{ body, want string }{
		{``, "empty body"},
		{`[]`, "want"},
		{`{}`, `"rules" is missing`},
		{`{"rules": [], "extra": 1}`, `unknown field "extra"`},
		{`{"rules": []} {}`, "unexpected data after"},
		{`{"rules": [{"name": "a", "when": {"score_gte": "high"}, "set": {"grade": "A"}}]}`, "score_gte"},
		{`{"rules": [{"name": "", "when": {"score_gte": 1}, "set": {"grade": "A"}}]}`, `rules[0]: name ""`},
		{`{"rules": [{"name": "bad name!", "when": {"score_gte": 1}, "set": {"grade": "A"}}]}`, "want 1-64 letters"},
		{`{"rules": [{"name": "a", "when": {}, "set": {"grade": "A"}}]}`, "at least one condition"},
		{`{"rules": [{"name": "a", "when": {"score_gte": 1}}]}`, "needs an action"},
		{`{"rules": [{"name": "a", "when": {"score_gte": 1}, "set": {}}]}`, `give "grade" and/or "sdr_class"`},
		{`{"rules": [{"name": "a", "when": {"score_gte": 1}, "set": {"grade": "D"}}]}`, `set.grade "D"`},
		{`{"rules": [{"name": "a", "when": {"score_gte": 1}, "set": {"sdr_class": "hot"}}]}`, `set.sdr_class "hot"`},
		{`{"rules": [{"name": "a", "when": {"predicted_probability_gte": 1.5}, "set": {"grade": "A"}}]}`, "predicted_probability_gte: 1.5 is out of range"},
		{`{"rules": [{"name": "a", "when": {"days_in_stage_gte": -1}, "set": {"grade": "A"}}]}`, "days_in_stage_gte"},
		{`{"rules": [{"name": "a", "when": {"stage_in": ["won"]}, "set": {"grade": "A"}}]}`, `stage_in: "won" is not one of`},
		{`{"rules": [{"name": "a", "when": {"industry_in": []}, "set": {"grade": "A"}}]}`, "industry_in: want 1 to"},
		{`{"rules": [{"name": "a", "when": {"stage_in": ["mql"], "no_activity_days_gte": 45}, "move_to": "nurture"}]}`, "reason: a stage rule must say why"},
		{`{"rules": [{"name": "a", "when": {"no_activity_days_gte": 45}, "move_to": "nurture", "reason": "idle"}]}`, "stage_in: a stage rule must name"},
		{`{"rules": [{"name": "a", "when": {"stage_in": ["mql"]}, "move_to": "visitor", "reason": "x"}]}`, `move_to "visitor"`},
		{`{"rules": [{"name": "a", "when": {"stage_in": ["mql"]}, "move_to": "mql", "reason": "x"}]}`, "contains mql, the stage the rule moves to"},
		{`{"rules": [{"name": "a", "when": {"stage_in": ["mql"]}, "move_to": "nurture", "reason": "x", "set": {"grade": "C"}}]}`, "not both"},
		{`{"rules": [{"name": "a", "when": {"stage_in": ["mql"]}, "move_to": "nurture", "reason": "x", "override_manual": true}]}`, "only rules that set values"},
		{`{"rules": [{"name": "a", "when": {"score_gte": 1}, "set": {"grade": "A"}}, {"name": "a", "when": {"score_gte": 2}, "set": {"grade": "B"}}]}`, `rules[1] (a): name "a" is used twice`},
	}
	for _, c := range cases {
		_, err := ParseRules([]byte(c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseRules(%s) error %v, want one containing %q", c.body, err, c.want)
		}
	}
}

// exampleRules exercises every condition and both kinds of action.
const exampleRules = `{"rules": [
  {"name": "grade-a", "when": {"score_gte": 80, "predicted_probability_gte": 0.5, "has_demo_request": true}, "set": {"grade": "A", "sdr_class": "sql"}},
  {"name": "grade-b-tier", "when": {"score_gte": 50, "account_tier_in": ["A", "B"], "industry_in": ["制造", "金融"]}, "set": {"grade": "B"}, "override_manual": true},
  {"name": "grade-c", "when": {"score_gte": 20, "score_lt": 50}, "set": {"grade": "C", "sdr_class": "ma"}},
  {"name": "stale-sql", "when": {"stage_in": ["sql"], "days_in_stage_gte": 30, "sdr_class_in": ["sql"], "grade_in": ["B", "C"]}, "move_to": "nurture", "reason": "SQL for 30 days without progress"},
  {"name": "recycle", "when": {"stage_in": ["mql"], "no_activity_days_gte": 45}, "move_to": "nurture", "reason": "no activity for 45 days"}
]}`

func TestDecide(t *testing.T) {
	rs, err := ParseRules([]byte(exampleRules))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ago := func(days float64) *time.Time {
		t := now.Add(-time.Duration(days * float64(day)))
		return &t
	}
	prob := func(p float64) *float64 { return &p }
	type want struct {
		grade, class, gradeBy, classBy string
		move                           model.Stage
		keepManual                     bool
	}
	cases := []struct {
		name string
		p    store.LifecyclePerson
		want want
	}{
		{"hot with demo", store.LifecyclePerson{Stage: model.StageMQL, StageAt: ago(1), Score: 85, Predicted: prob(0.6), DemoRequest: true},
			want{grade: "A", class: "sql", gradeBy: "rule:grade-a", classBy: "rule:grade-a", keepManual: true}},
		{"hot without demo falls to tier rule", store.LifecyclePerson{Stage: model.StageMQL, StageAt: ago(1), Score: 85, Predicted: prob(0.6), AccountTier: "a", Industry: "制造"},
			want{grade: "B", gradeBy: "rule:grade-b-tier"}},
		{"no prediction is no match", store.LifecyclePerson{Stage: model.StageMQL, StageAt: ago(1), Score: 85, DemoRequest: true}, want{}},
		{"score band", store.LifecyclePerson{Stage: model.StageLead, StageAt: ago(1), Score: 20},
			want{grade: "C", class: "ma", gradeBy: "rule:grade-c", classBy: "rule:grade-c", keepManual: true}},
		{"score_lt is exclusive", store.LifecyclePerson{Stage: model.StageLead, StageAt: ago(1), Score: 50}, want{}},
		{"recycle after 45 idle days", store.LifecyclePerson{Stage: model.StageMQL, StageAt: ago(60), LastActivity: ago(45)}, want{move: model.StageNurture}},
		{"recent touch keeps an MQL", store.LifecyclePerson{Stage: model.StageMQL, StageAt: ago(60), LastActivity: ago(44.9)}, want{}},
		{"recently entered the stage", store.LifecyclePerson{Stage: model.StageMQL, StageAt: ago(10), LastActivity: ago(100)}, want{}},
		{"no touch at all counts from the stage", store.LifecyclePerson{Stage: model.StageMQL, StageAt: ago(46)}, want{move: model.StageNurture}},
		{"stale SQL", store.LifecyclePerson{Stage: model.StageSQL, StageAt: ago(31), Grade: "B", SDRClass: "sql"}, want{move: model.StageNurture}},
		{"stale SQL of grade A stays", store.LifecyclePerson{Stage: model.StageSQL, StageAt: ago(31), Grade: "A", SDRClass: "sql"}, want{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := rs.Decide(c.p, now, 7)
			var got want
			for _, q := range d.Sets {
				if q.RuleVersion != 7 || !q.At.Equal(now) {
					t.Errorf("set %+v: want version 7 at now", q)
				}
				if q.Field == model.FieldGrade {
					got.grade, got.gradeBy = q.Value, q.Actor
				} else {
					got.class, got.classBy = q.Value, q.Actor
				}
				if q.KeepManual && q.Field == model.FieldGrade {
					got.keepManual = true
				}
				if !q.KeepManual && q.Field == model.FieldSDRClass {
					t.Errorf("sdr class set without KeepManual")
				}
			}
			if d.Move != nil {
				got.move = d.Move.To
				if d.Move.From != c.p.Stage || d.Move.Reason == "" || !strings.HasPrefix(d.Move.Actor, ActorRule) {
					t.Errorf("move %+v", *d.Move)
				}
			}
			if got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}
