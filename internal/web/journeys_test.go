package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The journeys' API as a client calls it: the example, bad
// definitions naming the field, roles, versions, migration preview,
// figures and a person's timeline.
func TestJourneysAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnvOver(t, s)
		mk := e.marketerKey(t)
		read := func(res *http.Response, want int, v any) string {
			t.Helper()
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != want {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, want, b)
			}
			if v != nil {
				if err := json.Unmarshal(b, v); err != nil {
					t.Fatalf("%s: %v", b, err)
				}
			}
			return string(b)
		}
		example := `{"name": "Whitepaper nurture", "trigger": {"event": "Whitepaper Downloaded"}, "steps": [{"id": "a", "type": "email", "subject": "Your whitepaper", "html": "<p>Here it is</p>", "text": "Here it is"}, {"id": "b", "type": "webhook", "url": "https://crm.example.test/hook"}]}`
		var d model.JourneyDetail
		read(e.send(t, "POST", "/api/v1/journeys", mk, "application/json", example), http.StatusCreated, &d)
		if d.ID == 0 || d.Status != "draft" || d.LatestVersion != 1 || len(d.Definition.Steps) != 2 || d.Definition.ReEntry != "never" {
			t.Fatalf("created %+v", d)
		}
		id := fmt.Sprint(d.ID)

		for _, c := range []struct{ body, want string }{
			{`{"name": "x", "trigger": {"event": "E"}, "steps": [{"id": "a", "type": "webhook", "url": "ftp://x"}]}`, "steps[0] (a): url"},
			{`{"name": "x", "trigger": {}, "steps": [{"id": "a", "type": "exit"}]}`, "trigger: exactly one of"},
			{`{"name": "x", "trigger": {"event": "E"}, "steps": []}`, "steps: at least one step"},
			{`{"name": "", "trigger": {"event": "E"}, "steps": [{"id": "a", "type": "exit"}]}`, "name: required"},
			{`{"name": "x", "trigger": {"event": "E"}, "steps": [{"id": "a", "type": "wait", "for": "soon"}]}`, "steps[0] (a): for"},
			{`{"name": "x", "trigger": {"event": "E"}, "steps": [{"id": "a", "type": "exit"}], "colour": "red"}`, `unknown field "colour"`},
			{`{"name": "x", "trigger": {"event": "E"}, "steps": [{"id": "a", "type": "branch", "if": {"step": "zz", "outcome": "opened"}}]}`, `if: step: no step "zz"`},
			{`[1]`, "body must be a JSON object"},
		} {
			res := e.send(t, "POST", "/api/v1/journeys", mk, "application/json", c.body)
			var ae apiError
			if read(res, http.StatusBadRequest, &ae); !strings.Contains(ae.Error, c.want) {
				t.Errorf("%s: %s, want %q", c.body, ae.Error, c.want)
			}
		}
		huge := `{"name": "x", "trigger": {"event": "E"}, "steps": [{"id": "a", "type": "email", "subject": "s", "text": "` + strings.Repeat("x", 2<<20) + `"}]}`
		read(e.send(t, "POST", "/api/v1/journeys", mk, "application/json", huge), http.StatusRequestEntityTooLarge, nil)
		read(e.send(t, "POST", "/api/v1/journeys", e.key, "application/json", example), http.StatusForbidden, nil)
		read(e.send(t, "POST", "/api/v1/journeys", "", "application/json", example), http.StatusUnauthorized, nil)

		var j model.Journey
		read(e.send(t, "POST", "/api/v1/journeys/"+id+"/activate", mk, "", ""), http.StatusOK, &j)
		if j.Status != "live" || j.LiveVersion != 1 {
			t.Fatalf("activated %+v", j)
		}
		var list struct{ Journeys []model.JourneySummary }
		read(e.send(t, "GET", "/api/v1/journeys", e.key, "", ""), http.StatusOK, &list)
		if len(list.Journeys) != 1 || list.Journeys[0].Trigger.Event != "Whitepaper Downloaded" || list.Journeys[0].Status != "live" {
			t.Fatalf("list %+v", list)
		}
		// Two persons entered and waiting at step a.
		q := "INSERT INTO persons (id, stage, first_seen_at, created_at) VALUES (1, 'lead', ?, ?), (2, 'lead', ?, ?)"
		if s.Dialect() == store.Postgres {
			q = "INSERT INTO persons (id, stage, first_seen_at, created_at) VALUES (1, 'lead', $1, $2), (2, 'lead', $3, $4)"
		}
		now := e.srv.app.Now()
		if _, err := s.WriterDB().ExecContext(ctx, q, now, now, now, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EnterJourneys(ctx, []store.JourneyEntrant{{JourneyID: d.ID, PersonID: 1, At: e.srv.app.Now()},
			{JourneyID: d.ID, PersonID: 2, At: e.srv.app.Now()}}, "", 0); err != nil {
			t.Fatal(err)
		}
		v2 := strings.Replace(strings.Replace(example, `"id": "a"`, `"id": "a2"`, 1), "Your whitepaper", "The whitepaper", 1)
		read(e.send(t, "PUT", "/api/v1/journeys/"+id, mk, "application/json", v2), http.StatusOK, &d)
		if d.LatestVersion != 2 || d.LiveVersion != 2 || len(d.Versions) != 2 || d.Definition.Steps[0].ID != "a2" || d.Stats.Entered != 2 {
			t.Fatalf("after PUT %+v", d)
		}
		var plan model.JourneyMigrationPlan
		read(e.send(t, "POST", "/api/v1/journeys/"+id+"/migrate?preview=1", mk, "application/json",
			`{"from_version": 1, "to_version": 2, "mapping": {"a": "a2"}}`), http.StatusOK, &plan)
		if fmt.Sprint(plan.Moves) != "[{a a2 2}]" || !plan.Preview || plan.Moved != 0 {
			t.Fatalf("preview %+v", plan)
		}
		b := read(e.send(t, "POST", "/api/v1/journeys/"+id+"/migrate?preview=1", mk, "application/json",
			`{"from_version": 1, "to_version": 2, "mapping": {"a": "nope"}}`), http.StatusBadRequest, nil)
		if !strings.Contains(b, `mapping[\"a\"]: version 2 has no step \"nope\"`) {
			t.Fatalf("bad mapping: %s", b)
		}
		read(e.send(t, "POST", "/api/v1/journeys/"+id+"/migrate", mk, "application/json", `{"to_version": 2}`), http.StatusBadRequest, nil)
		read(e.send(t, "POST", "/api/v1/journeys/"+id+"/migrate", mk, "application/json",
			`{"from_version": 1, "to_version": 2, "mapping": {"a": "a2"}}`), http.StatusOK, &plan)
		if plan.Moved != 2 {
			t.Fatalf("migrated %+v", plan)
		}
		var st model.JourneyStats
		read(e.send(t, "GET", "/api/v1/journeys/"+id+"/stats", e.key, "", ""), http.StatusOK, &st)
		if st.Entered != 2 || st.Active != 2 || len(st.Steps) != 2 || st.GoalStage != "sql" {
			t.Fatalf("stats %+v", st)
		}
		var tl model.JourneyTimeline
		read(e.send(t, "GET", "/api/v1/journeys/"+id+"/persons/1", e.key, "", ""), http.StatusOK, &tl)
		if len(tl.Entries) != 1 || len(tl.Entries[0].Steps) != 2 || tl.Entries[0].Steps[0].Result != "moved" || tl.Entries[0].Version != 2 {
			t.Fatalf("timeline %+v", tl)
		}
		read(e.send(t, "POST", "/api/v1/journeys/"+id+"/pause", mk, "", ""), http.StatusOK, &j)
		if j.Status != "paused" {
			t.Fatalf("paused %+v", j)
		}
		read(e.send(t, "GET", "/api/v1/journeys/999", e.key, "", ""), http.StatusNotFound, nil)
		read(e.send(t, "GET", "/api/v1/journeys/x", e.key, "", ""), http.StatusBadRequest, nil)
		read(e.send(t, "GET", "/api/v1/journeys/"+id+"/persons/0", e.key, "", ""), http.StatusBadRequest, nil)
		read(e.send(t, "PUT", "/api/v1/journeys/999", mk, "application/json", example), http.StatusNotFound, nil)
	})
}
