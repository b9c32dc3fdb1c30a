package message_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// exec runs a statement written with ? placeholders on either engine.
func exec(t *testing.T, s *store.Store, q string, args ...any) {
	t.Helper()
	if s.Dialect() == store.Postgres {
		var b strings.Builder
		n := 0
		for _, c := range q {
			if c == '?' {
				n++
				fmt.Fprintf(&b, "$%d", n)
				continue
			}
			b.WriteRune(c)
		}
		q = b.String()
	}
	if _, err := s.WriterDB().ExecContext(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
}

func addPerson(t *testing.T, s *store.Store, id int64) {
	t.Helper()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	exec(t, s, `INSERT INTO persons (id, name, email, stage, first_seen_at, created_at) VALUES (?, ?, ?, 'lead', ?, ?)`,
		id, fmt.Sprintf("P%d", id), fmt.Sprintf("p%d@example.cn", id), now, now)
}

// countingSender accepts every message and counts them.
type countingSender struct{ n atomic.Int32 }

func (c *countingSender) Send(context.Context, message.Request) (message.Result, error) {
	c.n.Add(1)
	return message.Result{Status: message.Sent}, nil
}

func TestGateConsent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for id := int64(1); id <= 3; id++ {
			addPerson(t, s, id)
		}
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		set := func(id int64, ch string, st model.ConsentStatus) {
			if _, err := s.SetConsents(ctx, id, []model.ConsentSet{{Channel: ch, Status: st, Source: "form"}}, "test", now); err != nil {
				t.Fatal(err)
			}
		}
		set(1, "email", model.ConsentGranted)
		set(2, "email", model.ConsentDenied)
		// person 3 never answered
		g := message.NewGate(s)
		external := json.RawMessage(`{"id":"w","type":"wecom","kind":"external","content":"hi"}`)
		check := func(id int64, ch string, wantOK bool, wantReason string) {
			t.Helper()
			ok, reason, err := g.Allow(ctx, message.Request{Key: fmt.Sprintf("k-%d-%s", id, ch), Channel: ch, PersonID: id, Now: now, Step: external})
			if err != nil || ok != wantOK || reason != wantReason {
				t.Fatalf("person %d on %s: %v %q %v, want %v %q", id, ch, ok, reason, err, wantOK, wantReason)
			}
		}
		check(1, "email", true, "")
		check(2, "email", false, message.ReasonWithdrawn)
		check(3, "email", false, message.ReasonNoConsent)
		check(3, "wecom", false, message.ReasonNoConsent)
		check(3, "webhook", true, "") // systems, not persons
		// A WeCom app message goes to the person's owner, not the person.
		if ok, _, err := g.Allow(ctx, message.Request{Key: "app", Channel: "wecom", PersonID: 3, Now: now,
			Step: json.RawMessage(`{"id":"w","type":"wecom","kind":"app","content":"call them"}`)}); !ok || err != nil {
			t.Fatalf("app message about person 3: %v %v", ok, err)
		}
		check(99, "email", false, message.ReasonNoPerson)

		// unless_withdrawn lets the unknown through, never the denied.
		if err := s.SetSetting(ctx, message.SettingConsent, json.RawMessage(`{"email":"unless_withdrawn"}`)); err != nil {
			t.Fatal(err)
		}
		g.Reload()
		check(3, "email", true, "")
		check(2, "email", false, message.ReasonWithdrawn)
		check(3, "wecom", false, message.ReasonNoConsent) // still opt_in
	})
}

// A cap of 1 a day, 2 a week, through the Dispatcher: the second message
// of the day is skipped; the next day one more goes; the third of the
// week is skipped. With 12 workers racing for one person's last slot,
// exactly one message leaves.
func TestGateCaps(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		addPerson(t, s, 1)
		addPerson(t, s, 2)
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		for _, id := range []int64{1, 2} {
			if _, err := s.SetConsents(ctx, id, []model.ConsentSet{{Channel: "wecom", Status: model.ConsentGranted}}, "test", now); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetSetting(ctx, message.SettingCaps, json.RawMessage(`{"wecom":{"per_day":1,"per_week":2}}`)); err != nil {
			t.Fatal(err)
		}
		external := json.RawMessage(`{"id":"w","type":"wecom","kind":"external","content":"hi"}`)
		snd := &countingSender{}
		d := &message.Dispatcher{Gate: message.NewGate(s), Senders: map[string]message.Sender{"wecom": snd}}
		send := func(key string, at time.Time) message.Result {
			t.Helper()
			res, err := d.Send(ctx, message.Request{Key: key, Channel: "wecom", PersonID: 1, Now: at, Step: external})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		if r := send("a", now); r.Status != message.Sent {
			t.Fatalf("first: %+v", r)
		}
		if r := send("b", now.Add(time.Hour)); r.Status != message.Skipped || r.Reason != message.ReasonFrequencyCap {
			t.Fatalf("second the same day: %+v", r)
		}
		if r := send("c", now.Add(24*time.Hour+time.Second)); r.Status != message.Sent {
			t.Fatalf("next day: %+v", r)
		}
		if r := send("d", now.Add(48*time.Hour+2*time.Second)); r.Status != message.Skipped || r.Reason != message.ReasonFrequencyCap {
			t.Fatalf("third in the week: %+v", r)
		}
		if n := snd.n.Load(); n != 2 {
			t.Fatalf("sender got %d messages, want 2", n)
		}

		snd.n.Store(0)
		var wg sync.WaitGroup
		var sent atomic.Int32
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := d.Send(ctx, message.Request{Key: fmt.Sprintf("race-%d", i), Channel: "wecom", PersonID: 2, Now: now, Step: external})
				if err != nil {
					t.Error(err)
					return
				}
				if res.Status == message.Sent {
					sent.Add(1)
				}
			}()
		}
		wg.Wait()
		if sent.Load() != 1 || snd.n.Load() != 1 {
			t.Fatalf("%d sent, sender got %d, want 1 of 12 racing workers", sent.Load(), snd.n.Load())
		}
	})
}

// failingSender refuses every message for good.
type failingSender struct{}

func (failingSender) Send(context.Context, message.Request) (message.Result, error) {
	return message.Result{Status: message.Failed, Reason: "invalid_user"}, nil
}

// A message its sender refused gives its cap slot back at once.
func TestGateReleasesFailed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		addPerson(t, s, 1)
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		if _, err := s.SetConsents(ctx, 1, []model.ConsentSet{{Channel: "email", Status: model.ConsentGranted}}, "test", now); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSetting(ctx, message.SettingCaps, json.RawMessage(`{"email":{"per_day":1}}`)); err != nil {
			t.Fatal(err)
		}
		g := message.NewGate(s)
		failing := &message.Dispatcher{Gate: g, Senders: map[string]message.Sender{"email": failingSender{}}}
		if res, err := failing.Send(ctx, message.Request{Key: "a", Channel: "email", PersonID: 1, Now: now}); err != nil || res.Status != message.Failed {
			t.Fatalf("failing: %+v %v", res, err)
		}
		ok := &message.Dispatcher{Gate: g, Senders: map[string]message.Sender{"email": &countingSender{}}}
		if res, err := ok.Send(ctx, message.Request{Key: "b", Channel: "email", PersonID: 1, Now: now.Add(time.Minute)}); err != nil || res.Status != message.Sent {
			t.Fatalf("after a failed one, the slot is free: %+v %v", res, err)
		}
		if res, _ := ok.Send(ctx, message.Request{Key: "c", Channel: "email", PersonID: 1, Now: now.Add(2 * time.Minute)}); res.Status != message.Skipped {
			t.Fatalf("cap of 1 after one sent: %+v", res)
		}
	})
}

func TestParseSettings(t *testing.T) {
	for _, bad := range []string{`{"sms":"opt_in"}`, `{"email":"maybe"}`, `[]`, `{"email":"opt_in"} {}`} {
		if _, err := message.ParseConsentPolicy([]byte(bad)); err == nil {
			t.Errorf("consent %s accepted", bad)
		}
	}
	for _, bad := range []string{`{"email":{"per_day":-1}}`, `{"email":{"per_day":101}}`, `{"email":{"per_week":701}}`,
		`{"webhook":{"per_day":1}}`, `{"email":{"per_day":3,"per_week":2}}`, `{"email":{"per_hour":1}}`} {
		if _, err := message.ParseCaps([]byte(bad)); err == nil {
			t.Errorf("caps %s accepted", bad)
		}
	}
	c, err := message.ParseCaps([]byte(`{"email":{"per_day":1,"per_week":3},"wecom":{}}`))
	if err != nil || c["email"].PerWeek != 3 || c["wecom"].PerDay != 0 {
		t.Fatalf("caps: %+v %v", c, err)
	}
}
