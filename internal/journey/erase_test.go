package journey_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/journey"
	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// A person's export holds their way through journeys; erasing the person
// takes it with them: the
// ledger rows (whose message keys and results name them), the entries,
// and the sends counted against their frequency caps; another person's
// stay.
func TestErasureRemovesJourneyTraces(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		now := time.Now().UTC().Truncate(time.Second)
		addPersons(t, s, 1, 2, "lead", "{}", now)
		for _, p := range []string{"1", "2"} {
			exec(t, s, "INSERT INTO consents (person_id, channel, status, source, updated_at) VALUES (?, 'email', 'granted', 'test', ?)", p, now)
		}
		exec(t, s, `INSERT INTO settings (key, value, updated_at) VALUES ('message.caps', '{"email": {"per_day": 5}}', ?)`, now)
		j := newJourney(t, s, `{"name": "n", "trigger": {"event": "E"}, "steps": [
			{"id": "a", "type": "email", "subject": "s", "text": "t"}, {"id": "w", "type": "wait", "for": "1d"}]}`, now)
		enter(t, s, j.ID, now, 1, 2)
		snd := &sender{}
		r := journey.NewRunner(s, journey.Options{Now: func() time.Time { return now },
			Sender: &message.Dispatcher{Gate: message.NewGate(s), Senders: map[string]message.Sender{message.ChannelEmail: snd}}})
		drain(t, r)
		if count(t, s, "SELECT COUNT(*) FROM message_sends WHERE scope = 'email' AND subject = '1'") != 1 || count(t, s, "SELECT COUNT(*) FROM journey_ledger WHERE person_id = 1") != 2 {
			t.Fatalf("before: %s", steps(t, s, j.ID, 1))
		}
		var export bytes.Buffer
		if err := s.ExportPerson(ctx, 1, &export); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Entries []map[string]any `json:"journey_entries"`
			Steps   []map[string]any `json:"journey_steps"`
		}
		if err := json.Unmarshal(export.Bytes(), &got); err != nil || len(got.Entries) != 1 || len(got.Steps) != 2 {
			t.Errorf("the export's journeys: %d entries, %d steps (%v)", len(got.Entries), len(got.Steps), err)
		}
		if _, err := s.ErasePerson(ctx, 1, "admin", now); err != nil {
			t.Fatal(err)
		}
		for q, want := range map[string]int64{
			"SELECT COUNT(*) FROM journey_ledger WHERE person_id = 1":                    0,
			"SELECT COUNT(*) FROM journey_entries WHERE person_id = 1":                   0,
			"SELECT COUNT(*) FROM message_sends WHERE scope = 'email' AND subject = '1'": 0,
			"SELECT COUNT(*) FROM journey_ledger WHERE person_id = 2":                    2,
			"SELECT COUNT(*) FROM message_sends WHERE scope = 'email' AND subject = '2'": 1,
		} {
			if got := count(t, s, q); got != want {
				t.Errorf("%s: %d, want %d", q, got, want)
			}
		}
	})
}
