package web

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

var journeyInLocation = regexp.MustCompile(`^/journeys/(\d+)\?done=saved$`)

// The journeys' pages as a person uses them: the editor's form (the
// definition as JSON, named by the name field), its errors, a new version
// of a live journey, activation and pause, the move of persons in flight
// with its preview, a person's timeline, and who may do what.
func TestJourneyPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnvOver(t, s)
		mc := e.loginAs(t, model.RoleMarketer)
		vc := e.loginAs(t, model.RoleViewer)
		sc := e.loginAs(t, model.RoleSales)

		page := func(c *http.Cookie, target string, want int) string {
			t.Helper()
			res := e.do(t, req{target: target, cookies: []*http.Cookie{c}})
			body := bodyOf(t, res)
			if res.StatusCode != want {
				t.Fatalf("GET %s: %d, want %d: %s", target, res.StatusCode, want, body)
			}
			return body
		}
		post := func(c *http.Cookie, target string, form url.Values) *http.Response {
			t.Helper()
			return e.do(t, req{method: http.MethodPost, target: target, form: form, cookies: []*http.Cookie{c}})
		}

		body := page(mc, "/journeys/new?lang=en", http.StatusOK)
		for _, want := range []string{`id="journey-definition"`, "Whitepaper Downloaded", `id="journey-editor-i18n"`, `"type.email":"Email"`} {
			if !strings.Contains(body, want) {
				t.Errorf("editor lacks %s", want)
			}
		}
		page(vc, "/journeys/new", http.StatusForbidden)
		page(sc, "/journeys", http.StatusForbidden)
		page(vc, "/journeys", http.StatusOK)

		def := `{"name": "ignored", "trigger": {"event": "Webinar Attended"}, "steps": [
			{"id": "a", "type": "email", "subject": "Thanks {{person.first_name}}", "html": "<p>Slides</p>"},
			{"id": "w", "type": "wait", "for": "2d"},
			{"id": "b", "type": "webhook", "url": "https://crm.example.test/hook"}]}`
		for _, c := range []struct{ def, want string }{
			{`{"name": "x", "trigger": {"event": "E"}, "steps": [{"id": "a", "type": "wait"}]}`, "steps[0] (a): a wait needs exactly one of"},
			{`{"name": "x", "steps": [`, "not valid JSON"},
			{`{"name": "x", "trigger": {"event": "E"}, "steps": [{"id": "a", "type": "exit"}], "colour": 1}`, `unknown field`},
		} {
			res := post(mc, "/journeys/new?lang=en", url.Values{"name": {"Webinar follow-up"}, "definition": {c.def}})
			b := bodyOf(t, res)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(b, c.want) || !strings.Contains(b, "journey-error") {
				t.Errorf("%s: %d, want 400 naming %q", c.def, res.StatusCode, c.want)
			}
			if !strings.Contains(b, "Webinar follow-up") {
				t.Errorf("the failed form lost what was typed")
			}
		}
		if res := post(vc, "/journeys/new", url.Values{"definition": {def}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("a viewer saved a journey: %d", res.StatusCode)
		}

		res := post(mc, "/journeys/new", url.Values{"name": {"Webinar <follow-up>"}, "definition": {def}})
		m := journeyInLocation.FindStringSubmatch(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || m == nil {
			t.Fatalf("create: %d %s %s", res.StatusCode, res.Header.Get("Location"), bodyOf(t, res))
		}
		id := m[1]
		body = page(mc, "/journeys/"+id+"?lang=en", http.StatusOK)
		for _, want := range []string{"Webinar &lt;follow-up&gt;", `data-status="draft"`, `id="journey-activate"`, "Event “Webinar Attended”"} {
			if !strings.Contains(body, want) {
				t.Errorf("journey page lacks %s", want)
			}
		}
		if strings.Contains(body, "Webinar <follow-up>") {
			t.Error("the journey's name is not escaped")
		}
		if res := post(mc, "/journeys/"+id+"/status", url.Values{"status": {"live"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("activate: %d", res.StatusCode)
		}
		jid := int64(0)
		fmt.Sscan(id, &jid)
		j, err := s.Journey(ctx, jid)
		if err != nil || j.Status != model.JourneyLive || j.LiveVersion != 1 || j.Name != "Webinar <follow-up>" {
			t.Fatalf("after activation %+v %v", j, err)
		}

		// Two persons enter and wait at step w of version 1.
		now := e.srv.app.Now()
		for _, pid := range []int64{1, 2} {
			q := "INSERT INTO persons (id, stage, first_seen_at, created_at) VALUES (?, 'lead', ?, ?)"
			if s.Dialect() == store.Postgres {
				q = "INSERT INTO persons (id, stage, first_seen_at, created_at) VALUES ($1, 'lead', $2, $3)"
			}
			if _, err := s.WriterDB().ExecContext(ctx, q, pid, now, now); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.EnterJourneys(ctx, []store.JourneyEntrant{{JourneyID: jid, PersonID: 1, At: now}, {JourneyID: jid, PersonID: 2, At: now}}, "", 0); err != nil {
			t.Fatal(err)
		}
		work, err := s.ClaimJourneySteps(ctx, "test", now, time.Minute, 10)
		if err != nil || len(work) != 2 {
			t.Fatalf("claimed %d %v", len(work), err)
		}
		var done []store.JourneyStepDone
		for _, w := range work {
			done = append(done, store.JourneyStepDone{Work: w, Status: model.LedgerDone, Result: "sent", Next: "w", NextType: model.StepWait})
		}
		if _, err := s.CompleteJourneySteps(ctx, "test", now, done); err != nil {
			t.Fatal(err)
		}

		// A new version while live: the form edits it, persons stay on v1.
		v2 := strings.Replace(def, `"id": "w", "type": "wait", "for": "2d"`, `"id": "w2", "type": "wait", "for": "1d"`, 1)
		if res := post(mc, "/journeys/"+id+"/edit", url.Values{"name": {"Webinar follow-up"}, "definition": {v2}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("edit: %d %s", res.StatusCode, bodyOf(t, res))
		}
		body = page(mc, "/journeys/"+id+"?lang=en", http.StatusOK)
		if !strings.Contains(body, `id="migrate-form"`) || !strings.Contains(body, `name="map_w"`) {
			t.Fatalf("no move form for the persons on v1")
		}
		res = post(mc, "/journeys/"+id+"/migrate?lang=en", url.Values{"from": {"1"}, "map_w": {"w2"}})
		body = bodyOf(t, res)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `data-move="w"`) {
			t.Fatalf("preview: %d", res.StatusCode)
		}
		if st, _ := s.JourneyStats(ctx, jid, now); movedAt(st, 1, "w") != 2 {
			t.Fatalf("the preview moved someone: %+v", st.Steps)
		}
		res = post(mc, "/journeys/"+id+"/migrate", url.Values{"from": {"1"}, "map_w": {"w2"}, "move": {"1"}})
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "done=moved&n=2") {
			t.Fatalf("move: %d %s", res.StatusCode, loc)
		}

		if res := e.do(t, req{target: "/journeys/" + id + "?export=steps", cookies: []*http.Cookie{vc}}); res.StatusCode != http.StatusOK ||
			!strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(bodyOf(t, res), "w2") {
			t.Errorf("steps export: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		body = page(vc, "/journeys/"+id+"/persons/1?lang=en", http.StatusOK)
		for _, want := range []string{`data-entry="1"`, `data-step="a"`, `data-status="done"`, "Entry 1 · version 2", `data-step="w2"`} {
			if !strings.Contains(body, want) {
				t.Errorf("timeline lacks %s", want)
			}
		}
		if res := e.do(t, req{target: "/journeys/" + id + "/person?pid=2", cookies: []*http.Cookie{vc}}); res.Header.Get("Location") != "/journeys/"+id+"/persons/2" {
			t.Errorf("person lookup went to %q", res.Header.Get("Location"))
		}
		if res := post(mc, "/journeys/"+id+"/status", url.Values{"status": {"paused"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("pause: %d", res.StatusCode)
		}
		body = page(mc, "/journeys?lang=en", http.StatusOK)
		if !strings.Contains(body, "Webinar follow-up") || !strings.Contains(body, "paused") {
			t.Errorf("list lacks the paused journey")
		}
		page(mc, "/journeys/999999", http.StatusNotFound)
	})
}

// movedAt is the waiting and due rows of a version's step.
func movedAt(st model.JourneyStats, version int, step string) int64 {
	for _, x := range st.Steps {
		if x.Version == version && x.StepID == step {
			return x.Waiting + x.Due
		}
	}
	return 0
}

// A journey is checked against what its channels and segments say: an
// email template that does not parse, an account list as a trigger, a
// segment that does not exist, an inline filter naming no field — each
// refused by the API and the editor's form, naming the field.
func TestJourneyChecks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnvOver(t, s)
		mk := e.marketerKey(t)
		mc := e.loginAs(t, model.RoleMarketer)
		accounts, err := s.CreateSegment(ctx, model.Segment{Name: "Tier A", Kind: model.SegmentAccounts,
			Filter: []byte(`{"field": "tier", "op": "eq", "value": "A"}`)}, e.srv.app.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ def, want string }{
			{`{"name": "x", "trigger": {"event": "E"}, "steps": [{"id": "a", "type": "email", "subject": "Hi {{person.first_name", "text": "x"}]}`, "steps[0] (a): subject"},
			{fmt.Sprintf(`{"name": "x", "trigger": {"segment": %d}, "steps": [{"id": "a", "type": "exit"}]}`, accounts.ID), "lists accounts"},
			{`{"name": "x", "trigger": {"segment": 987654}, "steps": [{"id": "a", "type": "exit"}]}`, "trigger: segment: no segment 987654"},
			{`{"name": "x", "trigger": {"event": "E"}, "steps": [{"id": "a", "type": "branch", "if": {"filter": {"field": "colour", "op": "eq", "value": 1}}}]}`, "steps[0] (a): if: filter"},
			{`{"name": "x", "trigger": {"event": "E"}, "steps": [{"id": "a", "type": "webhook", "url": "https://u:p@example.test/"}]}`, "steps[0] (a): url"},
			{`{"name": "x", "trigger": {"event": "E"}, "steps": [{"id": "a", "type": "wecom", "kind": "external", "content": "hi", "to_user": "lisi"}]}`, "steps[0] (a): to_user"},
		} {
			res := e.send(t, "POST", "/api/v1/journeys", mk, "application/json", c.def)
			b := bodyOf(t, res)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(b, c.want) {
				t.Errorf("API %s: %d %s, want 400 naming %q", c.def, res.StatusCode, b, c.want)
			}
			res = e.do(t, req{method: http.MethodPost, target: "/journeys/new?lang=en", form: url.Values{"name": {"x"}, "definition": {c.def}}, cookies: []*http.Cookie{mc}})
			if b := bodyOf(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(b, html.EscapeString(c.want)) {
				t.Errorf("form %s: %d, want 400 naming %q", c.def, res.StatusCode, c.want)
			}
		}
		// A journey entered from a segment of persons names it.
		hot, err := s.CreateSegment(ctx, model.Segment{Name: "High intent <MQL>", Kind: model.SegmentPersons,
			Filter: []byte(`{"field": "stage", "op": "eq", "value": "mql"}`)}, e.srv.app.Now())
		if err != nil {
			t.Fatal(err)
		}
		res := e.send(t, "POST", "/api/v1/journeys", mk, "application/json", fmt.Sprintf(`{"name": "From a segment", "trigger": {"segment": %d}, "steps": [{"id": "a", "type": "exit"}]}`, hot.ID))
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("segment trigger: %d %s", res.StatusCode, bodyOf(t, res))
		}
		if b := bodyOf(t, e.do(t, req{target: "/journeys?lang=en", cookies: []*http.Cookie{mc}})); !strings.Contains(b, "Enters segment “High intent &lt;MQL&gt;”") {
			t.Errorf("the list does not name the segment")
		}
	})
}
