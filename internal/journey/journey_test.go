package journey_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/journey"
	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The journey: a tracked "Whitepaper Downloaded" enters the
// person in the transaction that processes the event; the runner sends
// the email, then the webhook, each once, with the ledger row's key; a
// second download does not enter again (re-entry never); other events
// enter nobody.
func TestEventTriggerRunsEachStepOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		now := time.Now().UTC().Truncate(time.Second)
		j := newJourney(t, s, `{"name": "Whitepaper nurture", "trigger": {"event": "Whitepaper Downloaded"}, "steps": [
			{"id": "a", "type": "email", "subject": "Your whitepaper", "html": "<p>Hi</p>", "text": "Hi"},
			{"id": "b", "type": "webhook", "url": "https://crm.example.test/hook"}]}`, now)
		kid, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "site", Key: "wk_journey"})
		if err != nil {
			t.Fatal(err)
		}
		seq := 0
		track := func(user, name string) {
			seq++
			ev := model.Event{WriteKeyID: kid, MessageID: fmt.Sprintf("m%d", seq), Type: model.EventTrack, Name: name, UserID: user,
				Timestamp: now, ReceivedAt: now, Payload: []byte(`{}`)}
			if _, err := s.AppendEvents(ctx, []model.Event{ev}); err != nil {
				t.Fatal(err)
			}
		}
		track("u1", "Whitepaper Downloaded")
		track("u2", "Whitepaper Downloaded")
		track("u3", "Pricing Viewed")
		if _, err := process.ProcessPending(ctx, s); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM journey_entries"); n != 2 {
			t.Fatalf("%d entries, want 2 (u1, u2)", n)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM journey_ledger WHERE step_id = 'a' AND status = 'due'"); n != 2 {
			t.Fatalf("%d first rows due, want 2", n)
		}
		clk := &clock{t: now.Add(time.Minute)}
		snd := &sender{}
		r := journey.NewRunner(s, journey.Options{Sender: snd, Now: clk.Now})
		if n := drain(t, r); n != 4 {
			t.Fatalf("ran %d steps, want 4", n)
		}
		var p1 int64
		if err := s.WriterDB().QueryRowContext(ctx, "SELECT person_id FROM identities WHERE value = 'u1'").Scan(&p1); err != nil {
			t.Fatal(err)
		}
		p2 := p1 + 1
		if err := s.WriterDB().QueryRowContext(ctx, "SELECT person_id FROM identities WHERE value = 'u2'").Scan(&p2); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%d:a %d:b %d:a %d:b", p1, p1, p2, p2)
		if p2 < p1 {
			want = fmt.Sprintf("%d:a %d:b %d:a %d:b", p2, p2, p1, p1)
		}
		if got := snd.log(); got != want {
			t.Fatalf("sent %q, want %q", got, want)
		}
		for _, req := range snd.sent {
			wantKey := fmt.Sprintf("j%d.v1.%s.p%d.e1", j.ID, req.StepID, req.PersonID)
			if req.Key != wantKey || req.Channel != map[string]string{"a": "email", "b": "webhook"}[req.StepID] {
				t.Fatalf("request %+v, want key %s", req, wantKey)
			}
			var st model.JourneyStep
			if err := json.Unmarshal(req.Step, &st); err != nil || st.ID != req.StepID {
				t.Fatalf("step %s: %v", req.Step, err)
			}
		}
		if got := steps(t, s, j.ID, p1); got != "a=done/sent b=done/sent |completed" {
			t.Fatalf("person %d: %s", p1, got)
		}
		// Nothing runs twice, and a second download enters nobody.
		track("u1", "Whitepaper Downloaded")
		if _, err := process.ProcessPending(ctx, s); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Hour)
		if n := drain(t, r); n != 0 || len(snd.sent) != 4 {
			t.Fatalf("ran %d more steps, %d sends; want none", n, len(snd.sent))
		}
	})
}

// Waits on a fake clock, a branch on an event done since entering, an
// update, the time of day in the person's zone, and the outcome of an
// earlier step.
func TestWaitsBranchesAndUpdates(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) // a Monday
		addPersons(t, s, 1, 2, "lead", `{"timezone":"Asia/Shanghai"}`, t0)
		addPersons(t, s, 3, 1, "lead", `{}`, t0)
		exec(t, s, "INSERT INTO users (id, email, name, role, created_at) VALUES (7, 'rep@example.test', 'Rep', 'sales', ?)", t0)
		j := newJourney(t, s, `{"name": "Demo follow-up", "trigger": {"segment": 1}, "steps": [
			{"id": "mail", "type": "email", "subject": "Hello", "text": "Hi"},
			{"id": "wait2d", "type": "wait", "for": "2d"},
			{"id": "morning", "type": "wait", "until": "09:00"},
			{"id": "hot", "type": "branch", "if": {"event": "Demo Requested"}, "then": "handoff", "else": "opened"},
			{"id": "handoff", "type": "update", "stage": "sql", "owner": "rep@example.test", "task": "Call them", "trait": "nurtured", "value": true, "next": "end"},
			{"id": "opened", "type": "branch", "if": {"step": "mail", "outcome": "skipped"}, "then": "end", "else": "reminder"},
			{"id": "reminder", "type": "email", "subject": "Still there?", "text": "Hi again"},
			{"id": "end", "type": "exit"}]}`, t0)
		clk := &clock{t: t0}
		snd := &sender{answer: func(r message.Request) (message.Result, error) {
			if r.PersonID == 3 && r.StepID == "mail" {
				return message.Result{Status: message.Skipped, Reason: "no_consent"}, nil
			}
			return message.Result{Status: message.Sent}, nil
		}}
		r := journey.NewRunner(s, journey.Options{Sender: snd, Now: clk.Now})
		if n := enter(t, s, j.ID, t0, 1, 2, 3); n != 3 {
			t.Fatalf("entered %d", n)
		}
		drain(t, r) // mail, then the 2-day wait armed
		if got := snd.log(); got != "1:mail 2:mail 3:mail" {
			t.Fatalf("sent %q", got)
		}
		clk.Add(47 * time.Hour)
		if n := drain(t, r); n != 0 {
			t.Fatalf("%d steps ran before the wait ended", n)
		}
		// Person 1 asks for a demo during the wait (a tracked event).
		kid, _ := s.CreateWriteKey(ctx, model.WriteKey{Name: "k", Key: "wk_demo"})
		exec(t, s, `INSERT INTO events (write_key_id, message_id, type, name, ts, received_at, payload, person_id, processed_at)
			VALUES (?, 'd1', 'track', 'Demo Requested', ?, ?, '{}', 1, ?)`, kid, clk.Now(), clk.Now(), clk.Now())
		clk.Add(time.Hour) // Wed 10:00 UTC: the 2 days are over
		drain(t, r)
		// "until 09:00": person 1 and 2 in Shanghai (UTC+8) wake Thu 01:00
		// UTC, person 3 in the team's zone (Asia/Shanghai by default too,
		// unless set): the same.
		var wakes []time.Time
		for _, p := range []int64{1, 2, 3} {
			tl, _ := s.JourneyTimeline(ctx, j.ID, p)
			rows := tl.Entries[0].Steps
			last := rows[len(rows)-1]
			if last.StepID != "morning" || last.WaitUntil == nil {
				t.Fatalf("person %d: %+v", p, last)
			}
			wakes = append(wakes, *last.WaitUntil)
		}
		cal, _ := s.Calendar(ctx)
		want3 := journey.NextClock(clk.Now(), 9*60, cal.Loc)
		if want := time.Date(2026, 3, 5, 1, 0, 0, 0, time.UTC); !wakes[0].Equal(want) || !wakes[1].Equal(want) || !wakes[2].Equal(want3) {
			t.Fatalf("wakes %v, want %v, %v", wakes, want, want3)
		}
		clk.Add(16 * time.Hour)
		drain(t, r)
		if got := steps(t, s, j.ID, 1); got != "mail=done/sent wait2d=done/waited morning=done/waited hot=done/then handoff=done/updated end=done/exit |exited" {
			t.Fatalf("person 1: %s", got)
		}
		if got := steps(t, s, j.ID, 2); got != "mail=done/sent wait2d=done/waited morning=done/waited hot=done/else opened=done/else reminder=done/sent end=done/exit |exited" {
			t.Fatalf("person 2: %s", got)
		}
		if got := steps(t, s, j.ID, 3); got != "mail=skipped/skipped wait2d=done/waited morning=done/waited hot=done/else opened=done/then end=done/exit |exited" {
			t.Fatalf("person 3: %s", got)
		}
		if got := snd.log(); got != "1:mail 2:mail 2:reminder 3:mail" {
			t.Fatalf("sent %q", got)
		}
		var stage, traits string
		var owner int64
		if err := s.WriterDB().QueryRowContext(ctx, "SELECT stage, owner_id, traits FROM persons WHERE id = 1").Scan(&stage, &owner, &traits); err != nil {
			t.Fatal(err)
		}
		if stage != "sql" || owner != 7 || traits != `{"nurtured":true,"timezone":"Asia/Shanghai"}` {
			t.Fatalf("person 1: stage %s owner %d traits %s", stage, owner, traits)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM tasks WHERE kind = 'journey' AND person_id = 1 AND assignee_id = 7 AND title = 'Call them'"); n != 1 {
			t.Fatalf("%d tasks", n)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM stage_changes WHERE person_id = 1 AND to_stage = 'sql' AND actor = 'journey:"+fmt.Sprint(j.ID)+"'"); n != 1 {
			t.Fatalf("%d stage changes", n)
		}
	})
}

// A wait for an event ends when the event is processed (in the processing
// transaction), else at its time-out.
func TestWaitForEvent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		now := time.Now().UTC().Truncate(time.Second)
		kid, _ := s.CreateWriteKey(ctx, model.WriteKey{Name: "k", Key: "wk_wait"})
		seq := 0
		track := func(user, name string) {
			seq++
			ev := model.Event{WriteKeyID: kid, MessageID: fmt.Sprintf("w%d", seq), Type: model.EventTrack, Name: name, UserID: user,
				Timestamp: now, ReceivedAt: now, Payload: []byte(`{}`)}
			if _, err := s.AppendEvents(ctx, []model.Event{ev}); err != nil {
				t.Fatal(err)
			}
			if _, err := process.ProcessPending(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		j := newJourney(t, s, `{"name": "Webinar", "trigger": {"event": "Webinar Registered"}, "steps": [
			{"id": "w", "type": "wait", "until_event": "Webinar Attended", "timeout": "3d"},
			{"id": "thanks", "type": "branch", "if": {"step": "w", "outcome": "sent"}, "then": "x"},
			{"id": "x", "type": "exit"}]}`, now)
		track("a", "Webinar Registered")
		track("b", "Webinar Registered")
		clk := &clock{t: now.Add(time.Second)}
		r := journey.NewRunner(s, journey.Options{Now: clk.Now})
		drain(t, r)
		clk.Add(time.Hour)
		track("a", "Webinar Attended")
		if n := drain(t, r); n != 3 { // a's wait, branch, exit
			t.Fatalf("ran %d, want 3", n)
		}
		clk.Add(72 * time.Hour)
		drain(t, r)
		var pa, pb int64
		s.WriterDB().QueryRowContext(ctx, "SELECT person_id FROM identities WHERE value = 'a'").Scan(&pa)
		s.WriterDB().QueryRowContext(ctx, "SELECT person_id FROM identities WHERE value = 'b'").Scan(&pb)
		if got := steps(t, s, j.ID, pa); got != "w=done/event thanks=done/else x=done/exit |exited" {
			t.Fatalf("a: %s", got)
		}
		if got := steps(t, s, j.ID, pb); got != "w=done/timeout thanks=done/else x=done/exit |exited" {
			t.Fatalf("b: %s", got)
		}
	})
}

// Re-entry policies and exit conditions.
func TestReEntryAndExit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		addPersons(t, s, 1, 2, "lead", `{}`, t0)
		clk := &clock{t: t0}
		r := journey.NewRunner(s, journey.Options{Sender: &sender{}, Now: clk.Now})
		for _, c := range []struct {
			policy string
			want   []int // entries after each of 3 triggers: while active, after the end, again
		}{
			{"never", []int{1, 1, 1}},
			{"after_exit", []int{1, 2, 2}},
			{"always", []int{2, 3, 4}},
		} {
			j := newJourney(t, s, `{"name": "R `+c.policy+`", "reentry": "`+c.policy+`", "trigger": {"segment": 9}, "steps": [
				{"id": "w", "type": "wait", "for": "1h"}]}`, t0)
			enter(t, s, j.ID, clk.Now(), 1)
			drain(t, r)
			var got []int
			enter(t, s, j.ID, clk.Now(), 1)
			got = append(got, int(count(t, s, fmt.Sprintf("SELECT COUNT(*) FROM journey_entries WHERE journey_id = %d", j.ID))))
			clk.Add(2 * time.Hour)
			drain(t, r)
			enter(t, s, j.ID, clk.Now(), 1)
			got = append(got, int(count(t, s, fmt.Sprintf("SELECT COUNT(*) FROM journey_entries WHERE journey_id = %d", j.ID))))
			drain(t, r) // arms the new entry's wait
			enter(t, s, j.ID, clk.Now(), 1)
			got = append(got, int(count(t, s, fmt.Sprintf("SELECT COUNT(*) FROM journey_entries WHERE journey_id = %d", j.ID))))
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%s: entries %v, want %v", c.policy, got, c.want)
			}
		}
		// Exit: reaching SQL during the wait ends the entry before the mail.
		j := newJourney(t, s, `{"name": "Exit", "trigger": {"segment": 9}, "exit": [{"stage": "sql"}], "steps": [
			{"id": "w", "type": "wait", "for": "1d"}, {"id": "m", "type": "email", "subject": "s", "text": "t"}]}`, clk.Now())
		enter(t, s, j.ID, clk.Now(), 1, 2)
		drain(t, r)
		if _, err := s.MoveStages(ctx, []model.StageMove{{PersonID: 2, From: "lead", To: "sql", At: clk.Now(), Actor: "test"}}); err != nil {
			t.Fatal(err)
		}
		clk.Add(25 * time.Hour)
		drain(t, r)
		if got := steps(t, s, j.ID, 1); got != "w=done/waited m=done/sent |completed" {
			t.Fatalf("person 1: %s", got)
		}
		if got := steps(t, s, j.ID, 2); got != "w=skipped/exit |exited" {
			t.Fatalf("person 2: %s", got)
		}
	})
}

// A stage trigger enters in the transaction of the stage move.
func TestStageTrigger(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		addPersons(t, s, 1, 3, "lead", `{}`, t0)
		j := newJourney(t, s, `{"name": "MQL", "trigger": {"stage": "mql"}, "steps": [{"id": "m", "type": "email", "subject": "s", "text": "t"}]}`, t0)
		if _, err := s.MoveStages(ctx, []model.StageMove{{PersonID: 1, From: "lead", To: "mql", At: t0, Actor: "test"},
			{PersonID: 2, From: "lead", To: "sql", At: t0, Actor: "test"}, {PersonID: 3, From: "mql", To: "sql", At: t0, Actor: "test"}}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, fmt.Sprintf("SELECT COUNT(*) FROM journey_entries WHERE journey_id = %d AND person_id = 1", j.ID)); n != 1 {
			t.Fatalf("person 1: %d entries", n)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM journey_entries"); n != 1 {
			t.Fatalf("%d entries, want 1", n)
		}
		// A paused journey takes nobody in and runs nothing.
		if _, err := s.PauseJourney(ctx, j.ID, t0); err != nil {
			t.Fatal(err)
		}
		snd := &sender{}
		r := journey.NewRunner(s, journey.Options{Sender: snd, Now: func() time.Time { return t0.Add(time.Minute) }})
		if n := drain(t, r); n != 0 {
			t.Fatalf("paused journey ran %d steps", n)
		}
		if _, err := s.ActivateJourney(ctx, j.ID, t0); err != nil {
			t.Fatal(err)
		}
		if n := drain(t, r); n != 1 || snd.log() != "1:m" {
			t.Fatalf("ran %d: %s", n, snd.log())
		}
	})
}

// Transient failures are retried with back-off and the same key; after
// the last attempt the step is failed and the journey goes on.
func TestRetriesThenFails(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		addPersons(t, s, 1, 2, "lead", `{}`, t0)
		j := newJourney(t, s, `{"name": "Retry", "trigger": {"segment": 3}, "steps": [
			{"id": "h", "type": "webhook", "url": "https://x.example.test/"}, {"id": "m", "type": "email", "subject": "s", "text": "t"}]}`, t0)
		clk := &clock{t: t0}
		calls := map[string]int{}
		snd := &sender{}
		snd.answer = func(r message.Request) (message.Result, error) {
			calls[r.Key]++
			if r.StepID == "h" && (r.PersonID == 2 || calls[r.Key] < 3) {
				return message.Result{}, errors.New("connection refused")
			}
			return message.Result{Status: message.Sent}, nil
		}
		r := journey.NewRunner(s, journey.Options{Sender: snd, Now: clk.Now, MaxAttempts: 4,
			Backoff: func(n int) time.Duration { return time.Duration(n) * time.Minute }})
		enter(t, s, j.ID, t0, 1, 2)
		for range 10 {
			drain(t, r)
			clk.Add(time.Minute)
		}
		k1 := fmt.Sprintf("j%d.v1.h.p1.e1", j.ID)
		k2 := fmt.Sprintf("j%d.v1.h.p2.e1", j.ID)
		if calls[k1] != 3 || calls[k2] != 4 {
			t.Fatalf("calls %v", calls)
		}
		if got := steps(t, s, j.ID, 1); got != "h=done/sent m=done/sent |completed" {
			t.Fatalf("person 1: %s", got)
		}
		if got := steps(t, s, j.ID, 2); got != "h=failed/failed m=done/sent |completed" {
			t.Fatalf("person 2: %s", got)
		}
	})
}

// A claim whose lease ran out is taken over; the late completion of the
// first claimer changes nothing, so the step is recorded once.
func TestExpiredLeaseIsReclaimed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		addPersons(t, s, 1, 1, "lead", `{}`, t0)
		j := newJourney(t, s, `{"name": "Lease", "trigger": {"segment": 3}, "steps": [{"id": "m", "type": "email", "subject": "s", "text": "t"},
			{"id": "n", "type": "email", "subject": "s2", "text": "t"}]}`, t0)
		enter(t, s, j.ID, t0, 1)
		work, err := s.ClaimJourneySteps(ctx, "dead", t0, time.Minute, 10)
		if err != nil || len(work) != 1 {
			t.Fatalf("claimed %d: %v", len(work), err)
		}
		if again, _ := s.ClaimJourneySteps(ctx, "other", t0.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
			t.Fatalf("a leased row was claimed again")
		}
		snd := &sender{}
		r := journey.NewRunner(s, journey.Options{Sender: snd, Now: func() time.Time { return t0.Add(2 * time.Minute) }, Worker: "alive"})
		drain(t, r)
		n, err := s.CompleteJourneySteps(ctx, "dead", t0.Add(3*time.Minute), []store.JourneyStepDone{{Work: work[0], Status: "done", Result: "sent", Next: "n", NextType: "email"}})
		if err != nil || n != 0 {
			t.Fatalf("late completion: %d, %v", n, err)
		}
		if got := steps(t, s, j.ID, 1); got != "m=done/sent n=done/sent |completed" {
			t.Fatalf("%s", got)
		}
		if snd.log() != "1:m 1:n" {
			t.Fatalf("sent %s", snd.log())
		}
	})
}
