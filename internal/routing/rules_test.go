package routing

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// cst is a wall-clock time in Shanghai. 2026-01-05 is a Monday.
func cst(month time.Month, day, hour, min int) time.Time {
	return time.Date(2026, month, day, hour, min, 0, 0, shanghai)
}

func TestClockAdd(t *testing.T) {
	def, err := NewClock(BusinessHours{Holidays: []string{"2026-01-01"}})
	if err != nil {
		t.Fatal(err)
	}
	london, err := NewClock(BusinessHours{TimeZone: "Europe/London", Start: "09:00", End: "17:00"})
	if err != nil {
		t.Fatal(err)
	}
	weekend, err := NewClock(BusinessHours{Days: []string{"saturday", "sun"}, Start: "10:00", End: "12:00"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		clock *Clock
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		{"inside the day", def, cst(1, 5, 10, 0), 2 * time.Hour, cst(1, 5, 12, 0)},
		{"ends exactly at closing", def, cst(1, 5, 16, 0), 2 * time.Hour, cst(1, 5, 18, 0)},
		{"overnight", def, cst(1, 5, 17, 0), 2 * time.Hour, cst(1, 6, 10, 0)},
		{"after hours", def, cst(1, 6, 22, 0), 2 * time.Hour, cst(1, 7, 11, 0)},
		{"before opening", def, cst(1, 7, 7, 0), 2 * time.Hour, cst(1, 7, 11, 0)},
		{"friday evening to monday", def, cst(1, 9, 17, 30), 2 * time.Hour, cst(1, 12, 10, 30)},
		{"saturday", def, cst(1, 10, 12, 0), 2 * time.Hour, cst(1, 12, 11, 0)},
		{"over a holiday", def, time.Date(2025, 12, 31, 17, 0, 0, 0, shanghai), 2 * time.Hour, cst(1, 2, 10, 0)},
		{"several days", def, cst(1, 5, 9, 0), 20 * time.Hour, cst(1, 7, 11, 0)},
		{"minutes", def, cst(1, 5, 17, 59), 90 * time.Minute, cst(1, 6, 10, 29)},
		// Britain moves to summer time on Sunday 29 March 2026.
		{"across a DST change", london, time.Date(2026, 3, 27, 16, 0, 0, 0, time.UTC), 2 * time.Hour, time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC)},
		{"weekend-only hours", weekend, cst(1, 9, 11, 0), 3 * time.Hour, cst(1, 11, 11, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.clock.Add(c.start, c.d)
			if !got.Equal(c.want) {
				t.Fatalf("Add(%s, %s) = %s, want %s", c.start, c.d, got.In(c.want.Location()), c.want)
			}
			if back := c.clock.Between(c.start, got); back != c.d {
				t.Fatalf("Between(%s, %s) = %s, want %s", c.start, got, back, c.d)
			}
		})
	}
}

func TestClockBetween(t *testing.T) {
	c, err := NewClock(BusinessHours{Holidays: []string{"2026-01-01"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		a, b time.Time
		want time.Duration
	}{
		{cst(1, 5, 8, 0), cst(1, 5, 20, 0), 9 * time.Hour},
		{cst(1, 10, 8, 0), cst(1, 11, 20, 0), 0},                                         // a weekend
		{cst(1, 5, 20, 0), cst(1, 5, 8, 0), 0},                                           // backwards
		{cst(1, 2, 12, 0), cst(1, 12, 12, 0), 6*time.Hour + 5*9*time.Hour + 3*time.Hour}, // Fri pm, a full week, Mon am
		{time.Date(2025, 12, 31, 17, 0, 0, 0, shanghai), cst(1, 2, 10, 0), 2 * time.Hour},
	}
	for _, x := range cases {
		if got := c.Between(x.a, x.b); got != x.want {
			t.Errorf("Between(%s, %s) = %s, want %s", x.a, x.b, got, x.want)
		}
	}
}

func TestParseDefaults(t *testing.T) {
	rs, err := Parse([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	b := rs.SLA.BusinessHours
	if rs.TriggerStage != "sql" || rs.SLA.FirstFollowUp != "2h" || rs.FirstFollowUp() != 2*time.Hour || b.TimeZone != "Asia/Shanghai" ||
		b.Start != "09:00" || b.End != "18:00" || strings.Join(b.Days, ",") != "mon,tue,wed,thu,fri" {
		t.Fatalf("defaults: %+v", rs)
	}
	if got := rs.DueAt(cst(1, 9, 17, 30)); !got.Equal(cst(1, 12, 10, 30)) {
		t.Fatalf("due %s", got)
	}
}

func TestParseRefusesBadRuleSets(t *testing.T) {
	cases := []struct{ body, want string }{
		{``, "empty body"},
		{`{"trigger_stage": "lead"}`, `trigger_stage: "lead" is not a trigger stage`},
		{`{"sla": {"first_follow_up": "two hours"}}`, "sla.first_follow_up"},
		{`{"sla": {"first_follow_up": "10s"}}`, "out of range"},
		{`{"sla": {"business_hours": {"days": ["mon", "funday"]}}}`, `days[1]: "funday" is not a week day`},
		{`{"sla": {"business_hours": {"days": ["mon", "monday"]}}}`, "listed twice"},
		{`{"sla": {"business_hours": {"start": "18:00", "end": "09:00"}}}`, "must be after start"},
		{`{"sla": {"business_hours": {"start": "9am"}}}`, "sla.business_hours.start"},
		{`{"sla": {"business_hours": {"time_zone": "Mars/Olympus"}}}`, "unknown time zone"},
		{`{"sla": {"business_hours": {"holidays": ["2026-13-01"]}}}`, "holidays[0]"},
		{`{"rules": [{"pool": {"team": "east"}}]}`, "rules[0].name"},
		{`{"rules": [{"name": "a", "pool": {"team": "east"}}, {"name": "a", "pool": {"team": "east"}}]}`, "rules[1].name"},
		{`{"rules": [{"name": "fallback", "pool": {"team": "east"}}]}`, "reserved"},
		{`{"rules": [{"name": "a", "pool": {}}]}`, "rules[0].pool: an empty pool"},
		{`{"rules": [{"name": "a", "pool": {"users": [1.5]}}]}`, "not a positive whole number"},
		{`{"rules": [{"name": "a", "pool": {"users": ["nobody"]}}]}`, "rules[0].pool.users[0]"},
		{`{"rules": [{"name": "a", "pool": {"team": "x"}, "method": "random"}]}`, `rules[0].method: unknown method "random"`},
		{`{"rules": [{"name": "a", "pool": {"team": "x"}, "match": {"region": []}}]}`, "rules[0].match.region: an empty list"},
		{`{"rules": [{"name": "a", "pool": {"team": "x"}, "match": {"score_gte": "high"}}]}`, "score_gte"},
		{`{"rules": [{"name": "a", "pool": {"team": "x"}, "match": {"country": ["cn"]}}]}`, "unknown key"},
		{`{"fallback": {"pool": {"team": "x"}, "method": "fastest"}}`, "fallback.method"},
		{`{"trigger": "mql"}`, `unknown key "trigger"`},
		{`{} {}`, "after the rule set"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%s) = %v, want an error containing %q", c.body, err, c.want)
		}
	}
}

func TestResolvePools(t *testing.T) {
	rs, err := Parse([]byte(`{"rules": [{"name": "a", "pool": {"users": [2, "Li@x.cn"], "team": "east"}}], "fallback": {"pool": {"users": [9]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	users := []User{{ID: 2}, {ID: 3, Email: "li@x.cn"}, {ID: 4, Team: "East"}}
	if err := rs.ResolvePools(users); err == nil || !strings.Contains(err.Error(), "fallback.pool.users[0]: no user 9") {
		t.Fatalf("want the unknown fallback user named, got %v", err)
	}
	if err := rs.ResolvePools(append(users, User{ID: 9})); err != nil {
		t.Fatal(err)
	}
	if got := PoolMembers(rs.Rules[0].Pool, users); len(got) != 3 {
		t.Fatalf("members %v", got)
	}
	if err := rs.ResolvePools([]User{{ID: 2}, {ID: 3, Email: "li@x.cn"}, {ID: 9}}); err == nil || !strings.Contains(err.Error(), `no user is in team "east"`) {
		t.Fatalf("want the empty team named, got %v", err)
	}
}

func mustParse(t *testing.T, body string) *RuleSet {
	t.Helper()
	rs, err := Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestDecideMatchKinds(t *testing.T) {
	rs := mustParse(t, `{"rules": [
		{"name": "east", "match": {"region": ["East"]}, "pool": {"users": [1]}},
		{"name": "finance", "match": {"industry": ["financial_services"]}, "pool": {"users": [2]}},
		{"name": "tier-a", "match": {"tier": ["A"]}, "pool": {"users": [3]}},
		{"name": "hot", "match": {"score_gte": 80}, "pool": {"users": [4]}},
		{"name": "north-b-hot", "match": {"region": ["north"], "tier": ["B"], "score_gte": 50}, "pool": {"users": [5]}}
	]}`)
	users := []User{{ID: 1}, {ID: 2}, {ID: 3}, {ID: 4}, {ID: 5}}
	now := cst(1, 5, 10, 0)
	cases := []struct {
		lead Lead
		want int64
		rule string
	}{
		{Lead{Region: "east", Industry: "financial_services", Tier: "A", Score: 90}, 1, "east"},
		{Lead{Region: "south", Industry: "financial_services"}, 2, "finance"},
		{Lead{Region: "south", Tier: "a"}, 3, "tier-a"},
		{Lead{Region: "south", Score: 80}, 4, "hot"},
		{Lead{Region: "south", Score: 79.9}, 0, ""},
		{Lead{Region: "north", Tier: "B", Score: 50}, 5, "north-b-hot"},
		{Lead{Region: "north", Tier: "B", Score: 49}, 0, ""},
		{Lead{Region: "north", Tier: "C", Score: 60}, 0, ""},
	}
	for i, c := range cases {
		d := rs.Decide(c.lead, users, Cursors{}, now)
		if d.UserID != c.want || d.Rule != c.rule {
			t.Errorf("case %d %+v: got %+v, want user %d by %q", i, c.lead, d, c.want, c.rule)
		}
	}
}

func TestRoundRobinIsFair(t *testing.T) {
	rs := mustParse(t, `{"rules": [{"name": "all", "pool": {"team": "east"}}]}`)
	users := []User{{ID: 7, Team: "east"}, {ID: 3, Team: "east"}, {ID: 5, Team: "EAST"}, {ID: 9, Team: "north"}}
	cursors := Cursors{}
	got := map[int64]int{}
	var order []int64
	for i := 0; i < 300; i++ {
		d := rs.Decide(Lead{}, users, cursors, cst(1, 5, 10, 0))
		got[d.UserID]++
		if i < 4 {
			order = append(order, d.UserID)
		}
	}
	if got[3] != 100 || got[5] != 100 || got[7] != 100 || got[9] != 0 {
		t.Fatalf("counts %v, want 100 each for 3, 5, 7", got)
	}
	if want := []int64{3, 5, 7, 3}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	// A user who is away misses turns, and the rotation carries on after
	// them rather than starting over.
	away := cst(1, 5, 0, 0)
	users[2].OutOfOffice = &away // user 5
	cursors["all"] = 3
	order = nil
	for i := 0; i < 3; i++ {
		order = append(order, rs.Decide(Lead{}, users, cursors, cst(1, 5, 10, 0)).UserID)
	}
	if want := []int64{7, 3, 7}; !slices.Equal(order, want) {
		t.Fatalf("with 5 away: order %v, want %v", order, want)
	}
}

func TestLeastBusy(t *testing.T) {
	rs := mustParse(t, `{"rules": [{"name": "lb", "pool": {"users": [1, 2, 3]}, "method": "least_busy"}]}`)
	users := []User{{ID: 1, Open: 3}, {ID: 2, Open: 1}, {ID: 3, Open: 1}}
	cursors := Cursors{}
	var order []int64
	for i := 0; i < 8; i++ {
		d := rs.Decide(Lead{}, users, cursors, cst(1, 5, 10, 0))
		order = append(order, d.UserID)
		users[d.UserID-1].Open++
	}
	// 2 and 3 share the least load and alternate until they reach 1's
	// three; from then on all three take turns.
	if want := []int64{2, 3, 2, 3, 1, 2, 3, 1}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
}

func TestAvailability(t *testing.T) {
	now := cst(1, 5, 10, 0)
	before, after := now.Add(-time.Hour), now.Add(time.Hour)
	cases := []struct {
		name string
		u    User
		want bool
	}{
		{"plain", User{ID: 1}, true},
		{"unlimited", User{ID: 1, Open: 1000}, true},
		{"below capacity", User{ID: 1, Capacity: 2, Open: 1}, true},
		{"at capacity", User{ID: 1, Capacity: 2, Open: 2}, false},
		{"disabled", User{ID: 1, Disabled: true}, false},
		{"viewer", User{ID: 1, Viewer: true}, false},
		{"away now", User{ID: 1, OutOfOffice: &before, BackInOffice: &after}, false},
		{"back already", User{ID: 1, OutOfOffice: &before, BackInOffice: &before}, true},
		{"away from later", User{ID: 1, OutOfOffice: &after}, true},
		{"away open-ended", User{ID: 1, OutOfOffice: &before}, false},
		{"back at a later time", User{ID: 1, BackInOffice: &after}, false},
		{"back exactly now", User{ID: 1, OutOfOffice: &before, BackInOffice: &now}, true},
	}
	for _, c := range cases {
		if got := c.u.Available(now); got != c.want {
			t.Errorf("%s: available %v, want %v", c.name, got, c.want)
		}
	}
}

func TestDecideFallsThrough(t *testing.T) {
	rs := mustParse(t, `{"keep_account_owner": true,
		"rules": [{"name": "east", "match": {"region": ["east"]}, "pool": {"users": [1]}},
		          {"name": "any", "pool": {"users": [2]}}],
		"fallback": {"pool": {"users": [3]}}}`)
	now := cst(1, 5, 10, 0)
	away := now.Add(-time.Hour)
	users := func() []User { return []User{{ID: 1, Capacity: 1}, {ID: 2}, {ID: 3}, {ID: 4}} }
	cases := []struct {
		name  string
		lead  Lead
		setup func(us []User)
		want  int64
		rule  string
	}{
		{"account owner first", Lead{Region: "east", AccountOwnerID: 4}, nil, 4, RuleAccountOwner},
		{"owner away: rules", Lead{Region: "east", AccountOwnerID: 4}, func(us []User) { us[3].OutOfOffice = &away }, 1, "east"},
		{"first rule full: next rule", Lead{Region: "east"}, func(us []User) { us[0].Open = 1 }, 2, "any"},
		{"rules exhausted: fallback", Lead{Region: "east"}, func(us []User) { us[0].Open = 1; us[1].Disabled = true }, 3, RuleFallback},
		{"nobody: waiting", Lead{Region: "east"}, func(us []User) { us[0].Open = 1; us[1].Disabled = true; us[2].OutOfOffice = &away }, 0, ""},
	}
	for _, c := range cases {
		us := users()
		if c.setup != nil {
			c.setup(us)
		}
		d := rs.Decide(c.lead, us, Cursors{}, now)
		if d.UserID != c.want || d.Rule != c.rule {
			t.Errorf("%s: got %+v, want user %d by %q", c.name, d, c.want, c.rule)
		}
	}
	// Without keep_account_owner the owner is ignored.
	rs.KeepAccountOwner = false
	if d := rs.Decide(Lead{Region: "east", AccountOwnerID: 4}, users(), Cursors{}, now); d.UserID != 1 {
		t.Errorf("owner kept although keep_account_owner is off: %+v", d)
	}
}

func TestSpread(t *testing.T) {
	cases := []struct {
		xs       []float64
		med, p90 float64
	}{
		{[]float64{3}, 3, 3},
		{[]float64{10, 1, 4, 2, 3}, 3, 10},
		{[]float64{3, 1}, 2, 3},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 5.5, 9},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 6, 10},
	}
	for _, c := range cases {
		s := spread(c.xs)
		if *s.Median != c.med || *s.P90 != c.p90 {
			t.Errorf("spread(%v) = %v, %v; want %v, %v", c.xs, *s.Median, *s.P90, c.med, c.p90)
		}
	}
	if s := spread(nil); s.Median != nil || s.P90 != nil {
		t.Error("spread of nothing is not null")
	}
}
