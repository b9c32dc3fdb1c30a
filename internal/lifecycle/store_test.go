package lifecycle

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var ctx = context.Background()

var day0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// world is rows to bulk-load, table by table.
type world struct {
	tables []string
	cols   map[string]string
	rows   map[string][][]any
}

func newWorld() *world {
	w := &world{cols: map[string]string{}, rows: map[string][][]any{}}
	w.add("accounts", "id,name,domain,tier,industry,created_at", []any{int64(1), "甲公司", "jia.cn", "A", "制造", day0})
	w.add("users", "id,email,role,created_at", []any{int64(1), "sales@x.cn", "sales", day0})
	return w
}

func (w *world) add(table, cols string, rows ...[]any) {
	if _, ok := w.cols[table]; !ok {
		w.tables = append(w.tables, table)
		w.cols[table] = cols
	}
	w.rows[table] = append(w.rows[table], rows...)
}

// person adds a person of account 1 in a stage since at.
func (w *world) person(id int64, stage model.Stage, at time.Time, channel string) {
	w.add("persons", "id,account_id,stage,stage_at,first_seen_at,first_touch_channel,created_at",
		[]any{id, int64(1), string(stage), at, at, channel, at})
}

func (w *world) load(t *testing.T, s *store.Store) {
	t.Helper()
	order := []string{"accounts", "users", "persons", "touchpoints", "opportunities", "opportunity_contacts", "stage_changes"}
	err := s.Load(ctx, func(l store.Loader) error {
		for _, table := range order {
			if rows := w.rows[table]; len(rows) > 0 {
				if err := l.Insert(table, strings.Split(w.cols[table], ","), rows); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func history(t *testing.T, s *store.Store, id int64) []model.StageChange {
	t.Helper()
	h, err := s.StageHistory(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func stageOf(t *testing.T, s *store.Store, id int64) model.Stage {
	t.Helper()
	st, _, err := s.PersonStage(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestMoveAndHistory(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		w := newWorld()
		w.person(10, model.StageLead, day0, "")
		w.load(t, s)

		steps := []struct {
			from, to      model.Stage
			reason, actor string
			moved         bool
			refused       bool
		}{
			{model.StageLead, model.StageMQL, "", ActorScoring, true, false},                          // forward: automatic, no reason
			{model.StageMQL, model.StageLead, "recycled", ActorSystem, false, true},                   // backward: not by the system
			{model.StageMQL, model.StageLead, "", "user:1", false, true},                              // backward: not without a reason
			{model.StageMQL, model.StageLead, "wrong MQL: a student", "user:1", true, false},          // backward by a person with a reason
			{model.StageLead, model.StageNurture, "no budget this year", "apikey:crm", true, false},   // side state by an API key
			{model.StageLead, model.StageSQL, "", "user:1", false, false},                             // stale from: moved meanwhile
			{model.StageNurture, model.StageMQL, "budget approved", "rule:revive", true, false},       // out of a side state by a rule
			{model.StageMQL, model.StageSQL, "", "user:1", true, false},                               // an SDR accepts
			{model.StageSQL, model.StageDisqualified, "competitor", ActorScoring, false, true},        // side state: not by scoring
			{model.StageSQL, model.StageDisqualified, "competitor", "rule:competitors", true, false},  // by a rule with a reason
			{model.StageDisqualified, model.StageCustomer, "signed", ActorSystem, false, true},        // no automatic exit from a side state
			{model.StageDisqualified, model.StageCustomer, "signed after all", "user:1", true, false}, // a person may
		}
		for i, st := range steps {
			at := day0.Add(time.Duration(i+1) * time.Hour)
			moved, err := Move(ctx, s, 10, st.from, st.to, at, st.reason, st.actor, 0)
			if st.refused != (err != nil) || (err != nil && !errors.Is(err, ErrNotAllowed)) {
				t.Fatalf("step %d %s→%s by %s: err %v, want refused=%v", i, st.from, st.to, st.actor, err, st.refused)
			}
			if moved != st.moved {
				t.Fatalf("step %d %s→%s by %s: moved %v, want %v", i, st.from, st.to, st.actor, moved, st.moved)
			}
		}
		h := history(t, s, 10)
		var got []string
		for _, c := range h {
			got = append(got, string(c.FromStage)+">"+string(c.ToStage)+" "+c.Actor+" "+c.Reason)
		}
		want := []string{
			"lead>mql scoring ",
			"mql>lead user:1 wrong MQL: a student",
			"lead>nurture apikey:crm no budget this year",
			"nurture>mql rule:revive budget approved",
			"mql>sql user:1 ",
			"sql>disqualified rule:competitors competitor",
			"disqualified>customer user:1 signed after all",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if !h[0].ChangedAt.Equal(day0.Add(time.Hour)) {
			t.Errorf("first change at %s", h[0].ChangedAt)
		}
		if st := stageOf(t, s, 10); st != model.StageCustomer {
			t.Errorf("stage %s", st)
		}
	})
}

func TestRunRulesRecycleAndManualValues(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		w := newWorld()
		w.person(20, model.StageMQL, day0, "") // touched on day 10
		w.person(21, model.StageMQL, day0, "") // never touched
		w.person(22, model.StageLead, day0, "")
		w.person(23, model.StageLead, day0, "")
		w.person(24, model.StageLead, day0, "")
		w.add("touchpoints", "id,person_id,occurred_at,type,channel,url",
			[]any{int64(1), int64(20), day0.AddDate(0, 0, 10), "email_click", "email", ""},
			[]any{int64(2), int64(24), day0.AddDate(0, 0, 1), "form_submit", "direct", "https://www.x.cn/demo/?src=nav"},
			[]any{int64(3), int64(23), day0.AddDate(0, 0, 1), "form_submit", "direct", "https://www.x.cn/demolition"})
		w.load(t, s)
		if _, err := s.SetQualifications(ctx, []model.QualificationSet{{PersonID: 23, Field: model.FieldGrade, Value: "B", At: day0, Actor: "user:1", Reason: "met them at the fair"}}); err != nil {
			t.Fatal(err)
		}
		rules := `{"rules": [
			{"name": "demo-a", "when": {"has_demo_request": true}, "set": {"grade": "A", "sdr_class": "sql"}},
			{"name": "leads-c", "when": {"stage_in": ["lead"]}, "set": {"grade": "C"}},
			{"name": "recycle", "when": {"stage_in": ["mql"], "no_activity_days_gte": 45}, "move_to": "nurture", "reason": "no activity for 45 days"}
		]}`
		parsed, err := ParseRules([]byte(rules))
		if err != nil {
			t.Fatal(err)
		}
		// The dry run counts what the run below does, and writes nothing.
		p, err := PreviewRules(ctx, s, parsed, day0.AddDate(0, 0, 50), 10)
		if err != nil {
			t.Fatal(err)
		}
		if p.Evaluated != 5 || p.Persons != 3 || p.GradeChanges != 2 || p.SDRClassChanges != 1 || p.KeptManual != 1 || p.Moves != 1 || len(p.Sample) != 4 ||
			p.Sample[0] != (Change{PersonID: 21, Field: "stage", Before: "mql", After: "nurture", Rule: "recycle"}) {
			t.Fatalf("preview %+v", p)
		}
		if q, err := s.PersonQualification(ctx, 22); err != nil || q.Grade != "" || stageOf(t, s, 21) != model.StageMQL {
			t.Fatalf("the preview wrote: %+v %v, 21 in %s", q, err, stageOf(t, s, 21))
		}
		v1, err := s.SaveRuleSet(ctx, model.LifecycleRuleSets, []byte(rules), "user:1", day0, nil)
		if err != nil {
			t.Fatal(err)
		}

		res, err := RunRules(ctx, s, day0.AddDate(0, 0, 50))
		if err != nil {
			t.Fatal(err)
		}
		// 22 → C, 24 → A + sql (demo page); 23 keeps the hand-set B; 21 idle
		// for 50 days is recycled, 20 (idle 40 days) is not yet.
		want := RunResult{Version: v1.Version, Evaluated: 5, GradeChanges: 2, SDRClassChanges: 1, KeptManual: 1, Moves: 1}
		if res != want {
			t.Fatalf("run at day 50: %+v, want %+v", res, want)
		}
		if stageOf(t, s, 20) != model.StageMQL || stageOf(t, s, 21) != model.StageNurture {
			t.Fatalf("stages after day 50: %s %s", stageOf(t, s, 20), stageOf(t, s, 21))
		}
		h := history(t, s, 21)
		if len(h) != 1 || h[0].Actor != "rule:recycle" || h[0].Reason != "no activity for 45 days" || !h[0].ChangedAt.Equal(day0.AddDate(0, 0, 50)) {
			t.Fatalf("history of 21: %+v", h)
		}
		for id, want := range map[int64]model.PersonQualification{
			22: {Grade: "C", GradeSetBy: "rule:leads-c"},
			23: {Grade: "B", GradeSetBy: "user:1"},
			24: {Grade: "A", GradeSetBy: "rule:demo-a", SDRClass: "sql", SDRClassSetBy: "rule:demo-a"},
		} {
			q, err := s.PersonQualification(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if q.Grade != want.Grade || q.GradeSetBy != want.GradeSetBy || q.SDRClass != want.SDRClass || q.SDRClassSetBy != want.SDRClassSetBy {
				t.Errorf("person %d: %+v, want %+v", id, q, want)
			}
		}

		// The same run again changes nothing; 16 days later 20 is idle too.
		if res, err = RunRules(ctx, s, day0.AddDate(0, 0, 50)); err != nil || res.GradeChanges+res.SDRClassChanges+res.Moves != 0 {
			t.Fatalf("second run: %+v %v", res, err)
		}
		if res, err = RunRules(ctx, s, day0.AddDate(0, 0, 56)); err != nil || res.Moves != 1 || stageOf(t, s, 20) != model.StageNurture {
			t.Fatalf("run at day 56: %+v %v, 20 in %s", res, err, stageOf(t, s, 20))
		}

		// A rule that says so overrides the hand-set grade.
		rules2 := `{"rules": [{"name": "leads-c", "when": {"stage_in": ["lead"]}, "set": {"grade": "C"}, "override_manual": true}]}`
		v2, err := s.SaveRuleSet(ctx, model.LifecycleRuleSets, []byte(rules2), "user:1", day0.AddDate(0, 0, 60), nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err = RunRules(ctx, s, day0.AddDate(0, 0, 60))
		if err != nil || res.Version != v2.Version || res.GradeChanges != 2 || res.KeptManual != 0 {
			t.Fatalf("override run: %+v %v", res, err)
		}
		hist, err := s.QualificationHistory(ctx, 23)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 2 || hist[0].Actor != "user:1" || hist[0].Reason != "met them at the fair" || hist[1].Old != "B" || hist[1].New != "C" ||
			hist[1].Actor != "rule:leads-c" || hist[1].RuleVersion != v2.Version {
			t.Fatalf("qualification history of 23: %+v", hist)
		}
	})
}

func TestOpportunityMovesContacts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		w := newWorld()
		w.person(30, model.StageSQL, day0, "")
		w.person(31, model.StageMQL, day0, "")
		w.person(32, model.StageNurture, day0, "")
		w.person(33, model.StageSQL, day0, "")
		w.load(t, s)
		now := day0.AddDate(0, 0, 30)
		created := day0.AddDate(0, 0, 10)
		in := store.OpportunityUpsert{ExternalID: "crm-1", AccountID: 1, Name: "甲公司 CDP", OwnerID: 1, Stage: "proposal",
			Amount: model.Yuan(120000), CreatedAt: created, ContactIDs: []int64{31, 30, 32}}
		out, err := s.UpsertOpportunity(ctx, in, ContactMoves(now))
		if err != nil {
			t.Fatal(err)
		}
		if !out.Created || len(out.Moves) != 2 || !out.Applied[0] || !out.Applied[1] {
			t.Fatalf("create: %+v", out)
		}
		for _, id := range []int64{30, 31} {
			h := history(t, s, id)
			last := h[len(h)-1]
			if last.ToStage != model.StageOpportunity || last.Actor != ActorSystem || !strings.Contains(last.Reason, `"甲公司 CDP"`) ||
				!strings.Contains(last.Reason, "crm-1") || !last.ChangedAt.Equal(created) {
				t.Errorf("person %d: %+v", id, last)
			}
		}
		if st := stageOf(t, s, 32); st != model.StageNurture {
			t.Errorf("nurtured contact moved to %s", st)
		}
		if c := out.Opportunity.Contacts; len(c) != 3 || c[0].PersonID != 31 {
			t.Errorf("contacts %+v: want 31 first (primary)", c)
		}

		// Posting it again updates it: no second row, no second move.
		in.Amount, in.ContactIDs = model.Yuan(150000), nil
		again, err := s.UpsertOpportunity(ctx, in, ContactMoves(now))
		if err != nil {
			t.Fatal(err)
		}
		if again.Created || again.Opportunity.ID != out.Opportunity.ID || again.Opportunity.Amount != model.Yuan(150000) || len(again.Moves) != 0 || len(again.Opportunity.Contacts) != 3 {
			t.Fatalf("re-post: %+v", again)
		}

		// Won: contacts in opportunity move on to customer.
		won := day0.AddDate(0, 0, 20)
		upd, err := s.UpdateOpportunity(ctx, out.Opportunity.ID, func(o *model.Opportunity) error {
			o.Stage, o.ClosedAt = model.OppStageClosedWon, &won
			return nil
		}, ContactMoves(now))
		if err != nil {
			t.Fatal(err)
		}
		if len(upd.Moves) != 2 || stageOf(t, s, 30) != model.StageCustomer || stageOf(t, s, 31) != model.StageCustomer {
			t.Fatalf("won: %+v", upd)
		}
		if h := history(t, s, 30); !strings.HasSuffix(h[len(h)-1].Reason, " won") || !h[len(h)-1].ChangedAt.Equal(won) {
			t.Errorf("won move %+v", h[len(h)-1])
		}

		// A deal won as it arrives takes its contact through both stages.
		in2 := store.OpportunityUpsert{ExternalID: "crm-2", AccountID: 1, Name: "renewal", Stage: model.OppStageClosedWon,
			Amount: model.Yuan(1), CreatedAt: created, ClosedAt: &won, ContactIDs: []int64{33}}
		out2, err := s.UpsertOpportunity(ctx, in2, ContactMoves(now))
		if err != nil {
			t.Fatal(err)
		}
		h := history(t, s, 33)
		if len(out2.Moves) != 2 || len(h) != 2 || h[0].ToStage != model.StageOpportunity || h[1].ToStage != model.StageCustomer {
			t.Fatalf("won on arrival: %+v; history %+v", out2.Moves, h)
		}

		// Orders: idempotent on external_id; a missing contact is refused whole.
		o1, err := s.UpsertOrder(ctx, store.OrderUpsert{ExternalID: "ord-1", OpportunityID: out.Opportunity.ID, AccountID: 1, Amount: model.Yuan(100000), Kind: "new", OrderedAt: won}, OrderContactMoves(now, "ord-1", won))
		if err != nil || !o1.Created || len(o1.Moves) != 0 {
			t.Fatalf("order: %+v %v", o1, err)
		}
		o2, err := s.UpsertOrder(ctx, store.OrderUpsert{ExternalID: "ord-1", OpportunityID: out.Opportunity.ID, AccountID: 1, Amount: model.Yuan(120000), Kind: "upsell", OrderedAt: won}, OrderContactMoves(now, "ord-1", won))
		if err != nil || o2.Created || o2.ID != o1.ID {
			t.Fatalf("order again: %+v %v", o2, err)
		}
		tot, err := s.Totals(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tot.Orders != 1 || tot.Opportunities != 2 || tot.WonRevenue != model.Yuan(120000) {
			t.Fatalf("totals %+v", tot)
		}
		bad := store.OpportunityUpsert{ExternalID: "crm-3", AccountID: 1, Name: "x", Stage: "proposal", CreatedAt: created, ContactIDs: []int64{30, 999}}
		if _, err := s.UpsertOpportunity(ctx, bad, ContactMoves(now)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing contact: %v", err)
		}
		if _, err := s.OpportunityIDByExternal(ctx, "crm-3"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a refused opportunity was stored: %v", err)
		}
	})
}
