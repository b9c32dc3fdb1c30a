package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// Reports: a hard bounce and a complaint suppress at once (the first
// reason stays); soft bounces suppress at the third within 7 days, not
// when spread wider; a reply suppresses nothing; un-suppressing forgets
// the soft bounces counted. Addresses compare case-insensitively.
func TestEmailReportsAndSuppressions(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		report := func(email, typ, key string, at time.Time) store.EmailReportResult {
			t.Helper()
			r, err := s.ReportEmail(ctx, store.EmailReport{Email: email, Type: typ, MessageKey: key, At: at}, "test")
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		if r := report("A@x.cn", store.EmailHardBounce, "", t0); !r.Suppressed || r.Reason != store.SuppressHardBounce || r.Email != "a@x.cn" {
			t.Errorf("hard: %+v", r)
		}
		if r := report("a@x.cn", store.EmailComplaint, "", t0); r.Reason != store.SuppressHardBounce {
			t.Errorf("the first reason must stay: %+v", r)
		}
		if r := report("c@x.cn", store.EmailComplaint, "", t0); r.Reason != store.SuppressComplaint {
			t.Errorf("complaint: %+v", r)
		}
		// Soft bounces on days 0, 3 and 8: never three within 7 days.
		for _, d := range []int{0, 3, 8} {
			if r := report("s@x.cn", store.EmailSoftBounce, "", t0.AddDate(0, 0, d)); r.Suppressed {
				t.Errorf("soft on day %d suppressed: %+v", d, r)
			}
		}
		// Day 9: days 3, 8 and 9 are within 7 days.
		if r := report("s@x.cn", store.EmailSoftBounce, "", t0.AddDate(0, 0, 9)); !r.Suppressed || r.Reason != store.SuppressSoftBounce {
			t.Errorf("third soft bounce in 7 days: %+v", r)
		}
		if r := report("r@x.cn", store.EmailReply, "", t0); r.Suppressed {
			t.Errorf("a reply suppressed: %+v", r)
		}
		if _, err := s.ReportEmail(ctx, store.EmailReport{Email: "a@x.cn", Type: "bounce", At: t0}, ""); err == nil {
			t.Error("unknown type accepted")
		}
		list, err := s.EmailSuppressions(ctx, "", 10)
		if err != nil || len(list) != 3 {
			t.Fatalf("%+v %v", list, err)
		}
		if list[0].Email != "s@x.cn" || list[0].CreatedAt != t0.AddDate(0, 0, 9) || list[0].CreatedBy != "test" {
			t.Errorf("newest first: %+v", list[0])
		}
		if l, _ := s.EmailSuppressions(ctx, "C@", 10); len(l) != 1 || l[0].Email != "c@x.cn" {
			t.Errorf("filtered: %+v", l)
		}
		if why, _ := s.EmailSuppressed(ctx, " S@X.cn "); why != store.SuppressSoftBounce {
			t.Errorf("suppressed: %q", why)
		}
		if ok, err := s.UnsuppressEmail(ctx, "S@x.cn"); !ok || err != nil {
			t.Fatalf("unsuppress: %v %v", ok, err)
		}
		if ok, _ := s.UnsuppressEmail(ctx, "s@x.cn"); ok {
			t.Error("unsuppressed twice")
		}
		// The soft bounces before were forgotten: one more does not suppress.
		if r := report("s@x.cn", store.EmailSoftBounce, "", t0.AddDate(0, 0, 10)); r.Suppressed {
			t.Errorf("old soft bounces still counted: %+v", r)
		}
		if added, err := s.SuppressEmail(ctx, "m@x.cn", store.SuppressManual, "asked by phone", "admin", t0); !added || err != nil {
			t.Errorf("manual: %v %v", added, err)
		}
		if added, _ := s.SuppressEmail(ctx, "M@x.cn", store.SuppressManual, "", "admin", t0); added {
			t.Error("added twice")
		}
		if _, err := s.SuppressEmail(ctx, "m@x.cn", "whim", "", "", t0); err == nil {
			t.Error("unknown reason accepted")
		}
	})
}

// Outcomes: the first of each kind per message is kept; a report with a
// message key records its outcome for the person whose address it is;
// MessageOutcome answers per key and kind.
func TestMessageOutcomes(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		if err := s.ExecForTest(ctx, `INSERT INTO persons (id, email, stage, first_seen_at, created_at) VALUES (5, 'Ann@x.cn', 'lead', ?, ?)`, t0, t0); err != nil {
			t.Fatal(err)
		}
		first, err := s.RecordMessageEvent(ctx, "k1", store.MessageOpened, 5, "", t0)
		if err != nil || !first {
			t.Fatal(first, err)
		}
		if again, _ := s.RecordMessageEvent(ctx, "k1", store.MessageOpened, 5, "", t0.Add(time.Hour)); again {
			t.Error("second open recorded as first")
		}
		if _, err := s.RecordMessageEvent(ctx, "k1", "read", 5, "", t0); err == nil {
			t.Error("unknown kind accepted")
		}
		if _, err := s.ReportEmail(ctx, store.EmailReport{Email: "ann@x.cn", Type: store.EmailReply, MessageKey: "k1", At: t0.Add(2 * time.Hour)}, ""); err != nil {
			t.Fatal(err)
		}
		for kind, want := range map[string]bool{store.MessageOpened: true, store.MessageReplied: true, store.MessageClicked: false, store.MessageBounced: false} {
			if got, err := s.MessageOutcome(ctx, "k1", kind); got != want || err != nil {
				t.Errorf("k1 %s: %v %v, want %v", kind, got, err, want)
			}
		}
		if got, _ := s.MessageOutcome(ctx, "k2", store.MessageOpened); got {
			t.Error("k2 opened")
		}
		if _, err := s.MessageOutcome(ctx, "k1", "nope"); err == nil {
			t.Error("unknown kind asked")
		}
		ev, err := s.MessageEvents(ctx, "k1")
		if err != nil || len(ev) != 2 || ev[0].Kind != "opened" || ev[0].At != t0 || ev[1].Kind != "replied" || ev[1].PersonID != 5 {
			t.Errorf("%+v %v", ev, err)
		}
		// An outcome for a person who no longer exists is kept without them.
		if first, err := s.RecordMessageEvent(ctx, "k3", store.MessageClicked, 404, "https://x.cn", t0); err != nil || !first {
			t.Errorf("unknown person: %v %v", first, err)
		}
		if ev, _ := s.MessageEvents(ctx, "k3"); len(ev) != 1 || ev[0].PersonID != 0 || ev[0].Detail != "https://x.cn" {
			t.Errorf("%+v", ev)
		}
		// The recipient read for an email: the suppression shows.
		if _, err := s.SuppressEmail(ctx, "ANN@x.cn", store.SuppressComplaint, "", "", t0); err != nil {
			t.Fatal(err)
		}
		rec, err := s.EmailRecipient(ctx, 5)
		if err != nil || rec.Email != "Ann@x.cn" || rec.Suppressed != store.SuppressComplaint {
			t.Errorf("%+v %v", rec, err)
		}
		if _, err := s.EmailRecipient(ctx, 6); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown person: %v", err)
		}
		k1, err := s.EmailLinkKey(ctx)
		k2, _ := s.EmailLinkKey(ctx)
		if err != nil || len(k1) != 32 || string(k1) != string(k2) {
			t.Errorf("link key: %d bytes, stable %v, %v", len(k1), string(k1) == string(k2), err)
		}
	})
}
