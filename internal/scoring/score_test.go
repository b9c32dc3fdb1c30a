package scoring

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
)

func mustParse(t *testing.T, raw string) *Rules {
	t.Helper()
	r, err := Parse([]byte(raw))
	if err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	return r
}

// issueRules is the rule set of the product brief.
const issueRules = `{
  "mql_threshold": 60,
  "decay_half_life_days": 30,
  "fit": [
    {"field": "industry", "in": ["制造", "金融"], "points": 15},
    {"field": "employees", "gte": 500, "points": 10},
    {"field": "title", "matches": "(?i)总监|director|vp|cto|ceo", "points": 15},
    {"field": "email_domain", "in": ["competitor.com"], "points": -50}
  ],
  "engagement": [
    {"event": "Whitepaper Downloaded", "points": 10, "max_per_day": 20},
    {"event": "page", "path_prefix": "/pricing", "points": 5},
    {"event": "Webinar Attended", "points": 15},
    {"event": "Unsubscribed", "points": -20}
  ]
}`

func TestParseIssueRulesAndRoundTrip(t *testing.T) {
	r := mustParse(t, issueRules)
	if r.MQLThreshold != 60 || r.DecayHalfLifeDays != 30 || len(r.Fit) != 4 || len(r.Engagement) != 4 {
		t.Fatalf("parsed %+v", r)
	}
	if r.Location().String() != "Asia/Shanghai" {
		t.Fatalf("default zone %s", r.Location())
	}
	again := mustParse(t, string(r.JSON()))
	if string(again.JSON()) != string(r.JSON()) {
		t.Fatalf("canonical JSON is not stable:\n%s\n%s", r.JSON(), again.JSON())
	}
	if !strings.Contains(string(r.JSON()), `"in":["制造","金融"]`) {
		t.Fatalf("canonical JSON %s", r.JSON())
	}
}

func TestDefaultRulesParse(t *testing.T) {
	r := Default()
	if r.MQLThreshold != 46 || len(r.Engagement) == 0 {
		t.Fatalf("default %+v", r)
	}
}

func TestParseErrors(t *testing.T) {
	base := func(extra string) string {
		return `{"mql_threshold": 60, "decay_half_life_days": 30` + extra + `}`
	}
	long := strings.Repeat("a", 501)
	many := "[" + strings.TrimSuffix(strings.Repeat(`{"event":"x","points":1},`, 201), ",") + "]"
	for _, c := range []struct{ raw, want string }{
		{``, "not valid JSON"},
		{`{"mql_threshold": 60,`, "not valid JSON"},
		{`[]`, "want a JSON object"},
		{`{"mql_threshold": 60, "decay_half_life_days": 30} {}`, "more than one JSON value"},
		{`{"decay_half_life_days": 30}`, "mql_threshold: missing"},
		{`{"mql_threshold": 60}`, "decay_half_life_days: missing"},
		{`{"mql_threshold": "60", "decay_half_life_days": 30}`, `mql_threshold: want a number, got "60"`},
		{`{"mql_threshold": 0, "decay_half_life_days": 30}`, "mql_threshold: must be above 0"},
		{`{"mql_threshold": 1e400, "decay_half_life_days": 30}`, "mql_threshold: want a number"},
		{`{"mql_threshold": 60, "decay_half_life_days": -1}`, "decay_half_life_days: -1 is out of range"},
		{`{"mql_threshold": 60, "decay_half_life_days": null}`, "decay_half_life_days: want a number, got null"},
		{base(`, "extra": 1`), `unknown key "extra"`},
		{base(`, "time_zone": "Mars/Olympus"`), `time_zone: unknown time zone "Mars/Olympus"`},
		{base(`, "fit": {}`), "fit: want a list"},
		{base(`, "fit": [{"field": "industry", "in": ["a"], "points": 1, "weight": 2}]`), `fit[0]: unknown key "weight"`},
		{base(`, "fit": [{"field": "industry", "points": 1}]`), "fit[0]: want exactly one of in, gte, lte, matches, equals, exists; got 0"},
		{base(`, "fit": [{"field": "employees", "gte": 1, "lte": 9, "points": 1}]`), "fit[0]: want exactly one of in, gte, lte, matches, equals, exists; got 2 (gte, lte)"},
		{base(`, "fit": [{"field": "industry", "in": ["a"]}]`), "fit[0].points: missing"},
		{base(`, "fit": [{"in": ["a"], "points": 1}]`), "fit[0].field: missing"},
		{base(`, "fit": [{"field": "bad field!", "in": ["a"], "points": 1}]`), `fit[0].field: "bad field!" is neither`},
		{base(`, "fit": [{"field": "industry", "in": [], "points": 1}]`), "fit[0].in: empty list"},
		{base(`, "fit": [{"field": "industry", "in": [true], "points": 1}]`), "fit[0].in[0]: want a string or a number, got true"},
		{base(`, "fit": [{"field": "industry", "in": ["a"], "points": 1}, {"field": "title", "matches": "(unclosed", "points": 5}]`), "fit[1].matches: invalid regular expression"},
		{base(`, "fit": [{"field": "title", "matches": "` + long + `", "points": 5}]`), "fit[0].matches: longer than 500 bytes"},
		{base(`, "fit": [{"field": "employees", "gte": "500", "points": 5}]`), `fit[0].gte: want a number, got "500"`},
		{base(`, "fit": [{"field": "employees", "gte": 500, "points": 5000}]`), "fit[0].points: 5000 is out of range"},
		{base(`, "fit": [{"field": "x", "exists": "yes", "points": 5}]`), "fit[0].exists: want true or false"},
		{base(`, "fit": [{"field": "x", "equals": null, "points": 5}]`), "fit[0].equals: want a string, a number or true/false, got null"},
		{base(`, "engagement": [{"points": 1}]`), "engagement[0].event: missing"},
		{base(`, "engagement": [{"event": "", "points": 1}]`), "engagement[0].event: empty"},
		{base(`, "engagement": [{"event": "page", "points": 1, "max_per_day": 0}]`), "engagement[0].max_per_day: must be above 0"},
		{base(`, "engagement": [{"event": "page", "points": 1, "path_prefix": "pricing"}]`), `engagement[0].path_prefix: "pricing" must start with /`},
		{base(`, "engagement": [{"event": "page", "points": 1, "path": "/x"}]`), `engagement[0]: unknown key "path"`},
		{base(`, "engagement": [{"event": "x", "points": 1, "properties": {"plan": [1]}}]`), "engagement[0].properties.plan: want a string, a number or true/false"},
		{base(`, "engagement": [{"event": "x", "points": 1, "properties": {}}]`), "engagement[0].properties: want 1 to 20 properties"},
		{base(`, "engagement": ` + many), "engagement: 201 entries, more than the 200 allowed"},
		{base(`, "engagement": [{"event": "Event Attended", "points": 10, "min_watch_minutes": 0}]`), "engagement[0].min_watch_minutes: must be above 0"},
		{base(`, "engagement": [{"event": "Event Attended", "points": 10, "min_watch_minutes": 2000}]`), "engagement[0].min_watch_minutes: 2000 is out of range"},
		{base(`, "engagement": [{"event": "Event Attended", "points": 10, "min_watch_minutes": "30"}]`), `engagement[0].min_watch_minutes: want a number, got "30"`},
	} {
		_, err := Parse([]byte(c.raw))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%.80s): error %v, want it to contain %q", c.raw, err, c.want)
		}
	}
}

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestFitRuleKinds(t *testing.T) {
	r := mustParse(t, `{"mql_threshold": 60, "decay_half_life_days": 30, "fit": [
		{"field": "industry", "in": ["制造", "Finance"], "points": 15},
		{"field": "employees", "gte": 500, "points": 10},
		{"field": "employees", "lte": 50, "points": -5},
		{"field": "title", "matches": "(?i)总监|director", "points": 15},
		{"field": "email_domain", "in": ["competitor.com"], "points": -50},
		{"field": "region", "equals": "East", "points": 3},
		{"field": "traits.plan", "equals": "enterprise", "points": 7},
		{"field": "seats", "gte": 100, "points": 4},
		{"field": "traits.partner", "equals": true, "points": 2},
		{"field": "tier", "exists": true, "points": 1},
		{"field": "city", "exists": false, "points": 1},
		{"field": "stage", "in": ["lead", "subscriber"], "points": 1}
	]}`)
	cases := []struct {
		name string
		p    Profile
		want float64
		hit  []int
	}{
		{"empty profile: only city missing", Profile{}, 1, []int{10}},
		{"case-insensitive in, gte, matches", Profile{Industry: "finance", Employees: 500, Title: "Marketing Director", City: "上海"},
			15 + 10 + 15, []int{0, 1, 3}},
		{"lte, competitor, equals folds case", Profile{Employees: 20, Email: "Li@Competitor.COM", Region: "east", City: "北京"},
			-5 - 50 + 3, []int{2, 4, 5}},
		{"traits: dotted, bare, numeric string, bool", Profile{City: "x", Traits: map[string]any{"plan": "Enterprise", "seats": "150", "partner": true}},
			7 + 4 + 2, []int{6, 7, 8}},
		{"trait number below bound", Profile{City: "x", Traits: map[string]any{"seats": 99.0}}, 0, nil},
		{"tier exists, stage in", Profile{City: "x", Tier: "A", Stage: model.StageLead}, 2, []int{9, 11}},
	}
	for _, c := range cases {
		b := r.Evaluate(c.p, nil, now)
		if b.FitScore != c.want {
			t.Errorf("%s: fit %v, want %v (%+v)", c.name, b.FitScore, c.want, b.Fit)
		}
		var got []int
		for _, l := range b.Fit {
			got = append(got, l.Rule)
		}
		if !slices.Equal(got, c.hit) {
			t.Errorf("%s: rules %v, want %v", c.name, got, c.hit)
		}
	}
	b := r.Evaluate(Profile{Industry: "制造", City: "x"}, nil, now)
	if len(b.Fit) != 1 || b.Fit[0].Value != "制造" || b.Fit[0].Field != "industry" || b.Fit[0].Points != 15 {
		t.Fatalf("fit line %+v", b.Fit)
	}
}

func TestEngagementDecay(t *testing.T) {
	r := mustParse(t, `{"mql_threshold": 60, "decay_half_life_days": 30, "engagement": [
		{"event": "Webinar Attended", "points": 10},
		{"event": "Unsubscribed", "points": -20}
	]}`)
	days := func(d float64) time.Time { return now.Add(-time.Duration(d * 24 * float64(time.Hour))) }
	b := r.Evaluate(Profile{}, []Activity{
		{At: days(0), Event: "Webinar Attended"},            // 10
		{At: days(30), Event: "Webinar Attended"},           // 5
		{At: days(60), Event: "Webinar Attended"},           // 2.5
		{At: days(15), Event: "Webinar Attended"},           // 10/√2 = 7.0710678
		{At: now.Add(time.Hour), Event: "Webinar Attended"}, // in the future: 10
		{At: days(90), Event: "Unsubscribed"},               // -20/8 = -2.5
		{At: days(1), Event: "webinar attended"},            // names are exact: not counted
	}, now)
	want := 10 + 5 + 2.5 + 10/math.Sqrt2 + 10 - 2.5
	if math.Abs(b.EngagementScore-round2(want)) > 1e-9 || b.Score != b.EngagementScore {
		t.Fatalf("engagement %v, want %v", b.EngagementScore, round2(want))
	}
	if len(b.Engagement) != 2 {
		t.Fatalf("lines %+v", b.Engagement)
	}
	w := b.Engagement[0]
	if w.Rule != 0 || w.Occurrences != 5 || w.PointsBeforeDecay != 50 || w.PointsNow != 34.57 || w.Capped != 0 {
		t.Fatalf("webinar line %+v", w)
	}
	u := b.Engagement[1]
	if u.Rule != 1 || u.Occurrences != 1 || u.PointsBeforeDecay != -20 || u.PointsNow != -2.5 {
		t.Fatalf("unsubscribe line %+v", u)
	}

	flat := mustParse(t, `{"mql_threshold": 60, "decay_half_life_days": 0, "engagement": [{"event": "x", "points": 4}]}`)
	if b := flat.Evaluate(Profile{}, []Activity{{At: days(400), Event: "x"}}, now); b.EngagementScore != 4 {
		t.Fatalf("no decay: %v", b.EngagementScore)
	}
}

func TestEngagementCapsPerLocalDay(t *testing.T) {
	rules := `{"mql_threshold": 60, "decay_half_life_days": 0, %s "engagement": [
		{"event": "Whitepaper Downloaded", "points": 10, "max_per_day": 25},
		{"event": "Unsubscribed", "points": -20, "max_per_day": 20}
	]}`
	// 15:30 UTC is 23:30 in Shanghai; 16:30 UTC is 00:30 the next day.
	day := time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	acts := []Activity{
		{At: day.Add(2 * time.Hour), Event: "Whitepaper Downloaded"},
		{At: day.Add(15*time.Hour + 30*time.Minute), Event: "Whitepaper Downloaded"},
		{At: day.Add(3 * time.Hour), Event: "Whitepaper Downloaded"},
		{At: day.Add(16*time.Hour + 30*time.Minute), Event: "Whitepaper Downloaded"},
		{At: day.Add(17 * time.Hour), Event: "Whitepaper Downloaded"},
		{At: day.Add(18 * time.Hour), Event: "Whitepaper Downloaded"},
		{At: day.Add(19 * time.Hour), Event: "Whitepaper Downloaded"},
		{At: day.Add(1 * time.Hour), Event: "Unsubscribed"},
		{At: day.Add(2 * time.Hour), Event: "Unsubscribed"},
	}
	for _, c := range []struct {
		zone         string
		wp, capped   float64
		unsubscribed float64
	}{
		// Shanghai: Feb 10 has 02:00Z, 03:00Z, 15:30Z → 10+10+5; Feb 11 has
		// 16:30Z..19:00Z (four) → 10+10+5+0; three capped.
		{`"time_zone": "Asia/Shanghai",`, 50, 3, -20},
		// UTC: all seven on Feb 10 → 25, five of them capped.
		{`"time_zone": "UTC",`, 25, 5, -20},
	} {
		r := mustParse(t, strings.Replace(rules, "%s", c.zone, 1))
		b := r.Evaluate(Profile{}, acts, now)
		if len(b.Engagement) != 2 {
			t.Fatalf("%s: lines %+v", c.zone, b.Engagement)
		}
		wp, un := b.Engagement[0], b.Engagement[1]
		if wp.Occurrences != 7 || wp.PointsNow != c.wp || float64(wp.Capped) != c.capped {
			t.Errorf("%s: whitepaper %+v, want %v points, %v capped", c.zone, wp, c.wp, c.capped)
		}
		if un.Occurrences != 2 || un.PointsNow != c.unsubscribed || un.Capped != 1 {
			t.Errorf("%s: unsubscribed %+v", c.zone, un)
		}
		if b.Score != c.wp+c.unsubscribed {
			t.Errorf("%s: score %v", c.zone, b.Score)
		}
	}
}

func TestPathPrefixAndProperties(t *testing.T) {
	r := mustParse(t, `{"mql_threshold": 60, "decay_half_life_days": 0, "engagement": [
		{"event": "page", "points": 1},
		{"event": "page", "path_prefix": "/pricing", "points": 5},
		{"event": "Form Submitted", "path_prefix": "/demo", "points": 20},
		{"event": "Plan Chosen", "properties": {"plan": "Enterprise", "seats": 50}, "points": 9}
	]}`)
	b := r.Evaluate(Profile{}, []Activity{
		{At: now, Event: "page", Path: "/Pricing/enterprise"}, // 1 + 5
		{At: now, Event: "page", Path: "/blog/pricing"},       // 1
		{At: now, Event: "page"},                              // 1
		{At: now, Event: "Form Submitted", Path: "/demo"},     // 20
		{At: now, Event: "Form Submitted"},                    // no path: 0
		{At: now, Event: "Plan Chosen", Properties: map[string]any{"plan": "enterprise", "seats": 50.0, "other": "x"}}, // 9
		{At: now, Event: "Plan Chosen", Properties: map[string]any{"plan": "enterprise", "seats": 5.0}},                // 0
		{At: now, Event: "Plan Chosen"}, // 0
	}, now)
	if b.EngagementScore != 1+5+1+1+20+9 {
		t.Fatalf("engagement %v: %+v", b.EngagementScore, b.Engagement)
	}
}

// Half an hour of a live session doubles an attendance under the default
// rules; so does it for the demo's touches (watch time on the touch) and
// for imported attendances (watch_seconds on the event).
func TestWatchMinutes(t *testing.T) {
	r := Default()
	for _, c := range []struct {
		act  Activity
		want float64
	}{
		{Activity{At: now, Event: "Event Attended", WatchSeconds: 45 * 60}, 20},
		{Activity{At: now, Event: "Event Attended", WatchSeconds: 30 * 60}, 20},
		{Activity{At: now, Event: "Event Attended", WatchSeconds: 30*60 - 1}, 10},
		{Activity{At: now, Event: "Event Attended"}, 10},
		{Activity{At: now, Event: "Webinar Attended", WatchSeconds: 52 * 60}, 20},
		{Activity{At: now, Event: "Webinar Attended", WatchSeconds: 5 * 60}, 10},
		{Activity{At: now, Event: "Webinar Registered"}, 5},
		{Activity{At: now, Event: "Event Registered"}, 5},
		{Activity{At: now, Event: "Event Checked In"}, 10},
		{Activity{At: now, Event: "Badge Scanned"}, 10},
		{Activity{At: now, Event: "Event Check-in"}, 10},
	} {
		b := r.Evaluate(Profile{}, []Activity{c.act}, now)
		if b.EngagementScore != c.want {
			t.Errorf("%s watched %ds: %v points, want %v (%+v)", c.act.Event, c.act.WatchSeconds, b.EngagementScore, c.want, b.Engagement)
		}
	}
	b := r.Evaluate(Profile{}, []Activity{{At: now, Event: "Event Attended", WatchSeconds: 3600}}, now)
	if len(b.Engagement) != 2 || b.Engagement[1].MinWatchMinutes != 30 {
		t.Errorf("explanation %+v: want the half-hour rule named with its minutes", b.Engagement)
	}
}

func TestURLPath(t *testing.T) {
	for in, want := range map[string]string{
		"":                                       "",
		"https://www.revloop.cn":                 "/",
		"https://www.revloop.cn/pricing?utm=x#a": "/pricing",
		"/demo?x=1":                              "/demo",
		"?x=1":                                   "/",
		"http://h/a/b#frag":                      "/a/b",
	} {
		if got := urlPath(in); got != want {
			t.Errorf("urlPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBreakdownJSON(t *testing.T) {
	r := mustParse(t, issueRules)
	b := r.Evaluate(Profile{Industry: "金融"}, []Activity{{At: now, Event: "Webinar Attended"}}, now)
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"fit":[{"rule":0,"field":"industry","points":15,"value":"金融"}]`,
		`"engagement":[{"rule":2,"event":"Webinar Attended","occurrences":1,"points_before_decay":15,"points_now":15,"capped":0}]`,
		`"fit_score":15`, `"engagement_score":15`, `"score":30`, `"threshold":60`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("breakdown %s lacks %s", raw, want)
		}
	}
}
