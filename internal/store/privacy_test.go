package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// A new database anonymises client addresses from the start; a database
// that already holds data keeps what it had when it is migrated.
func TestAnonymizeIPDefaultOnlyForNewDatabases(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		var on bool
		if ok, err := s.Setting(ctx, "collector.anonymize_ip", &on); err != nil || !ok || !on {
			t.Fatalf("new database: anonymize_ip set %v, on %v, err %v", ok, on, err)
		}
		// As an older revloop left a database in use: data, no setting.
		if err := s.MigrateDownForTest(ctx, 20); err != nil {
			t.Fatal(err)
		}
		if err := s.ExecForTest(ctx, "DELETE FROM settings"); err != nil {
			t.Fatal(err)
		}
		if err := s.ExecForTest(ctx, "INSERT INTO users (email, role, created_at) VALUES ('a@x.cn', 'admin', ?)", day0); err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.Setting(ctx, "collector.anonymize_ip", &on); err != nil || ok {
			t.Fatalf("migrated database in use: anonymize_ip set %v (%v)", ok, err)
		}
	})
}

func privacyEvents(t *testing.T, s *store.Store) int64 {
	t.Helper()
	kid, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "site", Key: "wk_privacy"})
	if err != nil {
		t.Fatal(err)
	}
	var evs []model.Event
	for i := range 2500 {
		received := day0.AddDate(0, 0, i/100) // 100 events a day for 25 days
		evs = append(evs, model.Event{WriteKeyID: kid, MessageID: fmt.Sprintf("m-%d", i), Type: model.EventTrack, Name: "Viewed",
			AnonymousID: fmt.Sprintf("a-%d", i%7), Timestamp: received, ReceivedAt: received, IP: "203.0.113.77", UserAgent: "ua",
			URL: "https://www.example.cn/p", Payload: []byte(fmt.Sprintf(`{"event":"Viewed","n":%d,"context":{"ip":"203.0.113.77","library":{"name":"x"}}}`, i))})
	}
	if _, err := s.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	return kid
}

// Retention empties the payloads, addresses and user agents of processed
// events older than the cutoff, and leaves the rest of the event, newer
// events and unprocessed ones alone.
func TestStripOldPayloads(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		kid := privacyEvents(t, s)
		// Processed: all but the first ten events.
		if err := s.ExecForTest(ctx, "UPDATE events SET processed_at = ? WHERE message_id NOT IN ('m-0','m-1','m-2','m-3','m-4','m-5','m-6','m-7','m-8','m-9')", day0); err != nil {
			t.Fatal(err)
		}
		cutoff := day0.AddDate(0, 0, 20) // events of days 0–19: 2000
		n, err := s.StripOldPayloads(ctx, cutoff)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1990 {
			t.Fatalf("stripped %d events, want 1990", n)
		}
		for _, c := range []struct {
			id      string
			payload bool
		}{{"m-5", true}, {"m-10", false}, {"m-1999", false}, {"m-2000", true}, {"m-2499", true}} {
			e, err := s.EventByMessageID(ctx, kid, c.id)
			if err != nil {
				t.Fatal(err)
			}
			kept := string(e.Payload) != "{}" && e.IP != "" && e.UserAgent != ""
			if kept != c.payload || e.Name != "Viewed" || e.URL == "" {
				t.Errorf("%s: payload %s ip %q ua %q name %q, want payload kept %v", c.id, e.Payload, e.IP, e.UserAgent, e.Name, c.payload)
			}
		}
		if n, err := s.StripOldPayloads(ctx, cutoff); err != nil || n != 0 {
			t.Fatalf("second run stripped %d (%v)", n, err)
		}
	})
}

// Stored addresses are anonymised in the column and in the payload, up
// to the given event, in resumable steps.
func TestAnonymizeStoredIPs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		kid := privacyEvents(t, s)
		anon := func(ip string) string { return strings.Replace(ip, ".77", ".0", 1) }
		upTo, err := s.MaxEventID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		last, n, err := s.AnonymizeStoredIPs(ctx, 0, upTo-500, anon)
		if err != nil || last != upTo-500 || n != 2000 {
			t.Fatalf("first part: last %d (want %d), changed %d, err %v", last, upTo-500, n, err)
		}
		e, _ := s.EventByMessageID(ctx, kid, "m-2499")
		if e.IP != "203.0.113.77" {
			t.Fatalf("an event after upTo was changed: %q", e.IP)
		}
		if last, n, err = s.AnonymizeStoredIPs(ctx, last, upTo, anon); err != nil || last != upTo || n != 500 {
			t.Fatalf("rest: last %d, changed %d, err %v", last, n, err)
		}
		for _, id := range []string{"m-0", "m-1234", "m-2499"} {
			e, err := s.EventByMessageID(ctx, kid, id)
			if err != nil {
				t.Fatal(err)
			}
			if e.IP != "203.0.113.0" || strings.Contains(string(e.Payload), "203.0.113.77") || !strings.Contains(string(e.Payload), `"ip":"203.0.113.0"`) ||
				!strings.Contains(string(e.Payload), `"library":{"name":"x"}`) {
				t.Errorf("%s: ip %q payload %s", id, e.IP, e.Payload)
			}
		}
		if _, n, _ := s.AnonymizeStoredIPs(ctx, 0, upTo, anon); n != 0 {
			t.Errorf("a second pass changed %d events", n)
		}
	})
}

// Consent of a merged person is its survivor's; setting it on the
// merged-away person is refused with the survivor's id.
func TestConsentFollowsMerges(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		err := s.Load(ctx, func(l store.Loader) error {
			return l.Insert("persons", strings.Split("id,stage,first_seen_at,created_at", ","),
				[][]any{{int64(1), "lead", day0, day0}, {int64(2), "lead", day0, day0}})
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetConsents(ctx, 1, []model.ConsentSet{{Channel: "sms", Status: model.ConsentDenied}}, "test", time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MergePersons(ctx, 1, 2, "same", "test"); err != nil {
			t.Fatal(err)
		}
		if st, err := s.Consent(ctx, 2, "sms"); err != nil || st != model.ConsentDenied {
			t.Fatalf("merged person's consent: %v %v", st, err)
		}
		_, err = s.SetConsents(ctx, 2, []model.ConsentSet{{Channel: "sms", Status: model.ConsentGranted}}, "test", time.Now())
		if merged, ok := err.(store.ErrMerged); !ok || merged.Into != 1 {
			t.Fatalf("set on a merged person: %v", err)
		}
		if _, err := s.Consent(ctx, 99, "sms"); err != store.ErrNotFound {
			t.Fatalf("unknown person: %v", err)
		}
	})
}
