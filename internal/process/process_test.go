package process_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/channel"
	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var ctx = context.Background()

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// feed appends Segment-shaped events to a store, one write key, message
// ids in order.
type feed struct {
	t   *testing.T
	s   *store.Store
	kid int64
	seq int
}

func newFeed(t *testing.T, s *store.Store) *feed {
	t.Helper()
	kid, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "site", Key: fmt.Sprintf("wk_%d", time.Now().UnixNano())})
	if err != nil {
		t.Fatal(err)
	}
	return &feed{t: t, s: s, kid: kid}
}

// send stores one event; payload is the message's JSON (traits,
// properties, context), min minutes after t0.
func (f *feed) send(e model.Event, min int, payload string) string {
	f.t.Helper()
	f.seq++
	e.WriteKeyID = f.kid
	if e.MessageID == "" {
		e.MessageID = fmt.Sprintf("m%d", f.seq)
	}
	e.Timestamp = t0.Add(time.Duration(min) * time.Minute)
	e.ReceivedAt = e.Timestamp
	if payload == "" {
		payload = "{}"
	}
	e.Payload = []byte(payload)
	if _, err := f.s.AppendEvents(ctx, []model.Event{e}); err != nil {
		f.t.Fatal(err)
	}
	return e.MessageID
}

func (f *feed) page(anon, user, url, ref string, min int) string {
	src, med := "", ""
	u, c := channel.ParseURL(url)
	src, med = u.Source, u.Medium
	return f.send(model.Event{Type: model.EventPage, AnonymousID: anon, UserID: user, URL: url, Referrer: ref,
		Source: src, Medium: med, Campaign: u.Campaign, Term: u.Term, Content: u.Content, ClickIDType: c.Type, ClickID: c.Value}, min, "")
}

func (f *feed) identify(anon, user string, min int, traits string) string {
	return f.send(model.Event{Type: model.EventIdentify, AnonymousID: anon, UserID: user}, min, `{"traits":`+traits+`}`)
}

func (f *feed) track(anon, user, name string, min int, props string) string {
	return f.send(model.Event{Type: model.EventTrack, Name: name, AnonymousID: anon, UserID: user}, min, `{"properties":`+props+`}`)
}

func processAll(t *testing.T, s *store.Store) int {
	t.Helper()
	n, err := process.ProcessPending(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func person(t *testing.T, s *store.Store, typ model.IdentityType, v string) model.PersonDetail {
	t.Helper()
	p, err := s.PersonByIdentity(ctx, typ, v)
	if err != nil {
		t.Fatalf("person by %s %s: %v", typ, v, err)
	}
	return p
}

// count runs a COUNT query with literal arguments.
func count(t *testing.T, s *store.Store, query string) int64 {
	t.Helper()
	var n int64
	if err := s.WriterDB().QueryRowContext(ctx, query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func identifiers(p model.PersonDetail) string {
	var out []string
	for _, i := range p.Identities {
		out = append(out, string(i.Type)+":"+i.Value)
	}
	return strings.Join(out, " ")
}

func TestAnonymousTouchesJoinIdentifiedPerson(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFeed(t, s)
		f.page("a1", "", "https://www.revloop.cn/?utm_source=baidu&utm_medium=cpc", "", 0)
		f.page("a1", "", "https://www.revloop.cn/pricing", "https://www.revloop.cn/", 5)
		f.identify("a1", "u1", 10, `{"email":" Li.Lei@Acme.cn ","name":"李雷","phone":"138 1234 5679"}`)
		if n := processAll(t, s); n != 3 {
			t.Fatalf("processed %d events, want 3", n)
		}
		p := person(t, s, model.IdentityEmail, "li.lei@acme.cn")
		if got := identifiers(p); got != "anonymous_id:a1 email:li.lei@acme.cn phone:+8613812345679 user_id:u1" {
			t.Fatalf("identifiers: %s", got)
		}
		if p.Touchpoints != 2 || p.Events != 3 {
			t.Fatalf("touchpoints %d, events %d; want 2 and 3", p.Touchpoints, p.Events)
		}
		if p.FirstTouchChannel != model.ChannelPaidSearch || !p.FirstSeenAt.Equal(t0) {
			t.Fatalf("first touch %s at %s", p.FirstTouchChannel, p.FirstSeenAt)
		}
		if p.Stage != model.StageLead || p.LeadAt == nil || !p.LeadAt.Equal(t0.Add(10*time.Minute)) {
			t.Fatalf("stage %s, lead at %v", p.Stage, p.LeadAt)
		}
		if p.Name != "李雷" || p.Email != "li.lei@acme.cn" || p.Phone != "+8613812345679" {
			t.Fatalf("profile %q %q %q", p.Name, p.Email, p.Phone)
		}
		if p.Account == nil || p.Account.Domain != "acme.cn" {
			t.Fatalf("account: %+v", p.Account)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM persons"); n != 1 {
			t.Fatalf("%d persons, want 1", n)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM stage_changes WHERE from_stage = 'visitor' AND to_stage = 'lead'"); n != 1 {
			t.Fatalf("%d lead stage changes", n)
		}
		if n := count(t, s, fmt.Sprintf("SELECT COUNT(*) FROM touchpoints WHERE account_id = %d", p.Account.ID)); n != 2 {
			t.Fatalf("%d touchpoints carry the account", n)
		}
		// The internal navigation is direct, not a referral from ourselves.
		tl, err := s.PersonTimeline(ctx, p.ID, 100)
		if err != nil || len(tl) != 3 {
			t.Fatalf("timeline %v %v", tl, err)
		}
		if tl[0].Channel != "paid_search" || tl[1].Channel != "direct" || tl[2].Type != "identify" || tl[2].Channel != "" {
			t.Fatalf("timeline channels: %+v", tl)
		}
	})
}

// TestLeadsAreStageMoves checks that a lead made by processing is a stage
// move like any other, with a history row that says who moved the person
// and why: for a person new in the batch and for one an earlier batch
// stored.
func TestLeadsAreStageMoves(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFeed(t, s)
		f.identify("a1", "u1", 0, `{"email":"han.mei@acme.cn"}`)
		f.page("a2", "u2", "https://www.revloop.cn/", "", 1)
		processAll(t, s)
		f.track("a2", "u2", "Demo Requested", 5, `{}`)
		processAll(t, s)
		for _, c := range []struct {
			typ    model.IdentityType
			value  string
			at     time.Time
			reason string
		}{
			{model.IdentityEmail, "han.mei@acme.cn", t0, "identified with an email (event "},
			{model.IdentityUserID, "u2", t0.Add(5 * time.Minute), "form fill: Demo Requested (event "},
		} {
			p := person(t, s, c.typ, c.value)
			if p.Stage != model.StageLead || !p.StageAt.Equal(c.at) || p.LeadAt == nil || !p.LeadAt.Equal(c.at) {
				t.Fatalf("%s: stage %s at %v, lead at %v; want lead at %v", c.value, p.Stage, p.StageAt, p.LeadAt, c.at)
			}
			hist, err := s.StageHistory(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(hist) != 1 {
				t.Fatalf("%s: history %+v, want one change", c.value, hist)
			}
			h := hist[0]
			if h.FromStage != model.StageVisitor || h.ToStage != model.StageLead || !h.ChangedAt.Equal(c.at) ||
				h.Actor != lifecycle.ActorProcessing || !strings.HasPrefix(h.Reason, c.reason) || h.RuleVersion != 0 {
				t.Fatalf("%s: stage change %+v, want visitor → lead at %v by %s because %q...", c.value, h, c.at, lifecycle.ActorProcessing, c.reason)
			}
			if err := lifecycle.Check(h.FromStage, h.ToStage, h.Reason, h.Actor); err != nil {
				t.Fatalf("%s: the lead's move fails the check other moves pass: %v", c.value, err)
			}
		}
		// A replay finds both past visitor and moves nobody again.
		if _, err := s.ReplayEvents(ctx, 0, 0); err != nil {
			t.Fatal(err)
		}
		processAll(t, s)
		if n := count(t, s, "SELECT COUNT(*) FROM stage_changes"); n != 2 {
			t.Fatalf("%d stage changes after a replay, want 2", n)
		}
	})
}

func TestReturningUserOnNewDeviceIsStitchedAndUndoable(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFeed(t, s)
		f.identify("laptop", "u7", 0, `{"email":"wang@beta.cn"}`)
		f.page("laptop", "u7", "https://www.revloop.cn/", "https://www.zhihu.com/question/1", 1)
		f.page("phone", "", "https://www.revloop.cn/?bd_vid=123", "", -60) // earlier, on another device
		f.page("phone", "", "https://www.revloop.cn/case", "", 20)
		processAll(t, s)
		anon := person(t, s, model.IdentityAnonymousID, "phone")
		known := person(t, s, model.IdentityUserID, "u7")
		if anon.ID == known.ID {
			t.Fatal("an anonymous device joined a person before it was identified")
		}
		f.identify("phone", "u7", 30, `{}`)
		processAll(t, s)
		p := person(t, s, model.IdentityAnonymousID, "phone")
		if p.ID != known.ID {
			t.Fatalf("device person %d, want %d", p.ID, known.ID)
		}
		if p.Touchpoints != 3 || p.FirstTouchChannel != model.ChannelPaidSearch || !p.FirstSeenAt.Equal(t0.Add(-time.Hour)) {
			t.Fatalf("after stitching: %d touchpoints, first %s at %s", p.Touchpoints, p.FirstTouchChannel, p.FirstSeenAt)
		}
		merges, err := s.PersonMerges(ctx, 10)
		if err != nil || len(merges) != 1 || merges[0].IntoID != known.ID || merges[0].FromID != anon.ID {
			t.Fatalf("merges %+v %v", merges, err)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM identity_conflicts"); n != 0 {
			t.Fatalf("stitching recorded %d conflicts", n)
		}
		gone, err := s.PersonDetail(ctx, anon.ID)
		if err != nil || gone.MergedIntoID != known.ID || gone.LeadAt != nil {
			t.Fatalf("merged person: %+v %v", gone, err)
		}

		if _, err := s.UndoMerge(ctx, merges[0].ID); err != nil {
			t.Fatal(err)
		}
		back := person(t, s, model.IdentityAnonymousID, "phone")
		if back.ID != anon.ID || back.MergedIntoID != 0 || back.Touchpoints != 2 || back.FirstTouchChannel != model.ChannelPaidSearch {
			t.Fatalf("after undo the device person is %+v", back)
		}
		k := person(t, s, model.IdentityUserID, "u7")
		if k.ID != known.ID || k.Touchpoints != 1 || k.FirstTouchChannel != model.ChannelOrganicSocial || !k.FirstSeenAt.Equal(t0) {
			t.Fatalf("after undo the known person is %d with %d touchpoints, first %s at %s", k.ID, k.Touchpoints, k.FirstTouchChannel, k.FirstSeenAt)
		}
		if _, err := s.UndoMerge(ctx, merges[0].ID); !errors.Is(err, store.ErrMergeRefused) {
			t.Fatalf("second undo: %v", err)
		}
		if _, err := s.UndoMerge(ctx, 999); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("undo of a missing merge: %v", err)
		}
		// A split pair is not merged back automatically: the next event
		// that links them records a conflict for review.
		f.track("phone", "u7", "Pricing Viewed", 40, `{}`)
		processAll(t, s)
		if n := count(t, s, "SELECT COUNT(*) FROM person_merges WHERE undone_at IS NULL"); n != 0 {
			t.Fatalf("undone pair merged again (%d merges)", n)
		}
	})
}

func TestNeverMergeDifferentIdentifiersOfOneKind(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFeed(t, s)
		f.identify("d1", "u1", 0, `{"email":"zhang@acme.cn"}`)
		f.identify("d2", "u2", 1, `{"email":"zhao@acme.cn"}`)
		f.identify("d3", "", 2, `{"email":"sun@acme.cn","unionid":"UNION-A"}`)
		f.identify("d4", "", 3, `{"email":"qian@acme.cn","unionid":"UNION-B"}`)
		processAll(t, s)
		// Two user ids: the event links u1 to u2's email.
		f.track("d1", "u1", "Form Submitted", 10, `{"email":"zhao@acme.cn"}`)
		// Two UnionIDs: sun's email with qian's UnionID.
		f.identify("", "", 11, `{"email":"sun@acme.cn","unionid":"UNION-B"}`)
		// Two emails: a phone seen with zhou, then with wu.
		f.identify("d5", "", 4, `{"email":"zhou@acme.cn"}`)
		f.identify("d6", "", 5, `{"email":"wu@acme.cn"}`)
		f.identify("", "", 12, `{"email":"zhou@acme.cn","phone":"13912345670"}`)
		f.identify("", "", 13, `{"email":"wu@acme.cn","phone":"13912345670"}`)
		processAll(t, s)
		if n := count(t, s, "SELECT COUNT(*) FROM person_merges"); n != 0 {
			t.Fatalf("%d persons merged", n)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM persons"); n != 6 {
			t.Fatalf("%d persons, want 6", n)
		}
		cs, err := s.IdentityConflicts(ctx, false, 10)
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]bool{}
		for _, c := range cs {
			types[c.Type] = true
			if c.PersonA >= c.PersonB || c.EventID == 0 || c.Reason == "" {
				t.Errorf("conflict %+v", c)
			}
		}
		if len(cs) != 3 || !types["user_id"] || !types["wechat_unionid"] || !types["email"] {
			t.Fatalf("conflicts: %+v", cs)
		}
		u1 := person(t, s, model.IdentityUserID, "u1")
		if got := identifiers(u1); got != "anonymous_id:d1 email:zhang@acme.cn user_id:u1" {
			t.Fatalf("u1 identifiers: %s", got)
		}
		// The phone stays with the first person; wu's person keeps its own.
		zhou, wu := person(t, s, model.IdentityEmail, "zhou@acme.cn"), person(t, s, model.IdentityEmail, "wu@acme.cn")
		if identifiers(zhou) != "anonymous_id:d5 email:zhou@acme.cn phone:+8613912345670" || identifiers(wu) != "anonymous_id:d6 email:wu@acme.cn" {
			t.Fatalf("zhou: %s; wu: %s", identifiers(zhou), identifiers(wu))
		}
		// The form fill counted for u1, whose user id is the strongest identifier.
		if u1.Stage != model.StageLead || u1.Events != 2 {
			t.Fatalf("u1 stage %s, %d events", u1.Stage, u1.Events)
		}
		// Replaying the same events adds no second conflict.
		if _, err := s.ReplayEvents(ctx, 0, 0); err != nil {
			t.Fatal(err)
		}
		processAll(t, s)
		if cs2, _ := s.IdentityConflicts(ctx, true, 10); len(cs2) != 3 {
			t.Fatalf("%d conflicts after replay", len(cs2))
		}
	})
}

func TestSharedDeviceMovesForward(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFeed(t, s)
		f.page("kiosk", "", "https://www.revloop.cn/?utm_source=weibo&utm_medium=social", "", 0)
		f.identify("kiosk", "alice", 1, `{"email":"alice@acme.cn"}`)
		f.page("kiosk", "", "https://www.revloop.cn/docs", "", 2)
		processAll(t, s)
		alice := person(t, s, model.IdentityUserID, "alice")
		if alice.Touchpoints != 2 {
			t.Fatalf("alice has %d touchpoints", alice.Touchpoints)
		}
		// Bob signs in on the same browser.
		f.identify("kiosk", "bob", 10, `{"email":"bob@beta.cn"}`)
		f.page("kiosk", "", "https://www.revloop.cn/?utm_source=newsletter&utm_medium=email", "", 11)
		processAll(t, s)
		bob := person(t, s, model.IdentityUserID, "bob")
		if bob.ID == alice.ID {
			t.Fatal("bob merged into alice")
		}
		if dev := person(t, s, model.IdentityAnonymousID, "kiosk"); dev.ID != bob.ID {
			t.Fatalf("the device belongs to %d, want bob %d", dev.ID, bob.ID)
		}
		alice = person(t, s, model.IdentityUserID, "alice")
		if alice.Touchpoints != 2 || alice.Events != 3 || alice.FirstTouchChannel != model.ChannelOrganicSocial {
			t.Fatalf("alice's history changed: %d touchpoints, %d events, first %s", alice.Touchpoints, alice.Events, alice.FirstTouchChannel)
		}
		if bob.Touchpoints != 1 || bob.Events != 2 || bob.FirstTouchChannel != model.ChannelEmail || !bob.FirstSeenAt.Equal(t0.Add(10*time.Minute)) {
			t.Fatalf("bob: %d touchpoints, %d events, first %s at %s", bob.Touchpoints, bob.Events, bob.FirstTouchChannel, bob.FirstSeenAt)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM person_merges") + count(t, s, "SELECT COUNT(*) FROM identity_conflicts"); n != 0 {
			t.Fatalf("a shared device made %d merges or conflicts", n)
		}
		// A form typed on the shared device with a third email is a third person.
		f.track("kiosk", "", "Form Submitted", 20, `{"email":"carol@gamma.cn"}`)
		processAll(t, s)
		carol := person(t, s, model.IdentityEmail, "carol@gamma.cn")
		if carol.ID == bob.ID || carol.ID == alice.ID || carol.Stage != model.StageLead {
			t.Fatalf("carol %+v", carol)
		}
	})
}

func TestAccounts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFeed(t, s)
		f.identify("", "p1", 0, `{"email":"a@qq.com"}`)
		f.identify("", "p2", 1, `{"email":"b@163.com"}`)
		f.identify("", "p3", 2, `{"email":"c@gmail.com"}`)
		f.identify("", "p4", 3, `{"email":"d@delta.com.cn","company":"德尔塔科技"}`)
		f.identify("", "p5", 4, `{"email":"e@delta.com.cn"}`)
		f.send(model.Event{Type: model.EventGroup, UserID: "p1", GroupID: "acct-9"}, 5,
			`{"traits":{"name":"欧米伽集团","website":"https://www.omega.cn/","industry":"manufacturing","email":"info@omega.cn"}}`)
		f.send(model.Event{Type: model.EventGroup, UserID: "p2", GroupID: "acct-9"}, 6, `{"traits":{"industry":"automotive"}}`)
		processAll(t, s)
		for _, free := range []string{"p2", "p3"} {
			if p := person(t, s, model.IdentityUserID, free); free == "p3" && p.Account != nil {
				t.Fatalf("free-mail person %s placed in %+v", free, p.Account)
			}
		}
		d, e := person(t, s, model.IdentityUserID, "p4"), person(t, s, model.IdentityUserID, "p5")
		if d.Account == nil || e.Account == nil || d.Account.ID != e.Account.ID || d.Account.Name != "德尔塔科技" || d.Account.Domain != "delta.com.cn" {
			t.Fatalf("business domain accounts: %+v %+v", d.Account, e.Account)
		}
		p1, p2 := person(t, s, model.IdentityUserID, "p1"), person(t, s, model.IdentityUserID, "p2")
		if p1.Account == nil || p2.Account == nil || p1.Account.ID != p2.Account.ID {
			t.Fatalf("group accounts: %+v %+v", p1.Account, p2.Account)
		}
		if a := p1.Account; a.Name != "欧米伽集团" || a.Domain != "omega.cn" || a.Industry != "automotive" {
			t.Fatalf("group traits: %+v", a)
		}
		// Group traits are the company's: info@omega.cn is nobody's email.
		if _, err := s.PersonByIdentity(ctx, model.IdentityEmail, "info@omega.cn"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("group email became an identifier: %v", err)
		}
		// A later colleague with a business email at the group's domain joins it.
		f.identify("", "p6", 10, `{"email":"f@omega.cn"}`)
		processAll(t, s)
		if p6 := person(t, s, model.IdentityUserID, "p6"); p6.Account == nil || p6.Account.ID != p1.Account.ID {
			t.Fatalf("colleague account: %+v", p6.Account)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM accounts"); n != 2 {
			t.Fatalf("%d accounts, want 2", n)
		}
	})
}

func TestProcessingIsIdempotentAndReplayable(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFeed(t, s)
		f.page("a1", "", "https://www.revloop.cn/?utm_source=sogou&utm_medium=cpc", "", 0)
		f.page("a2", "", "https://www.revloop.cn/", "https://m.sm.cn/s?q=cdp", 1)
		f.identify("a1", "u1", 2, `{"email":"x@acme.cn"}`)
		f.identify("a2", "u1", 3, `{}`)
		f.track("a2", "u1", "Signed Up", 4, `{}`)
		f.send(model.Event{Type: model.EventPage, AnonymousID: "bot", Bot: true, URL: "https://www.revloop.cn/"}, 5, "")
		f.send(model.Event{Type: model.EventAlias, UserID: "u1", PreviousID: "old-anon"}, 6, "")
		f.send(model.Event{Type: model.EventPage, AnonymousID: "null"}, 7, "") // junk id: no person
		// A flagged identify (the person's own user agent is a crawler's)
		// gives nobody identifiers or traits.
		f.send(model.Event{Type: model.EventIdentify, UserID: "srv-1", Bot: true}, 8, `{"traits":{"email":"srv@acme.cn"}}`)
		if n := processAll(t, s); n != 9 {
			t.Fatalf("processed %d", n)
		}
		if n := processAll(t, s); n != 0 {
			t.Fatalf("processed %d events again", n)
		}
		snapshot := func() string {
			var b strings.Builder
			for _, q := range []string{"persons", "persons WHERE merged_into_id IS NULL", "identities", "touchpoints", "touchpoints WHERE person_id IS NULL",
				"stage_changes", "person_merges", "identity_conflicts", "accounts", "events WHERE processed_at IS NULL", "events WHERE process_error <> ''"} {
				fmt.Fprintf(&b, "%s=%d\n", q, count(t, s, "SELECT COUNT(*) FROM "+q))
			}
			rows, err := s.WriterDB().QueryContext(ctx, "SELECT id, COALESCE(person_id, 0), channel, source, medium FROM touchpoints ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var id, pid int64
				var ch, src, med string
				rows.Scan(&id, &pid, &ch, &src, &med)
				fmt.Fprintf(&b, "tp %d %d %s %s %s\n", id, pid, ch, src, med)
			}
			return b.String()
		}
		before := snapshot()
		// Four touches (the bot's is none), one without a person (junk id),
		// one lead (u1; not the bot's srv-1), one merge (a2 stitched into u1), shenma organic search.
		for _, want := range []string{"touchpoints=4\n", "touchpoints WHERE person_id IS NULL=1\n", "stage_changes=1\n", "person_merges=1\n", "organic_search shenma organic"} {
			if !strings.Contains(before, want) {
				t.Fatalf("state lacks %q:\n%s", want, before)
			}
		}
		if p := person(t, s, model.IdentityAnonymousID, "old-anon"); p.ID != person(t, s, model.IdentityUserID, "u1").ID {
			t.Fatal("alias did not link the previous id")
		}
		if _, err := s.PersonByIdentity(ctx, model.IdentityAnonymousID, "bot"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a bot's page view made a person: %v", err)
		}
		for _, id := range []struct {
			typ model.IdentityType
			v   string
		}{{model.IdentityEmail, "srv@acme.cn"}, {model.IdentityUserID, "srv-1"}} {
			if _, err := s.PersonByIdentity(ctx, id.typ, id.v); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a bot's identify linked %s: %v", id.v, err)
			}
		}
		n, err := s.ReplayEvents(ctx, 0, 0)
		if err != nil || n != 9 {
			t.Fatalf("replay %d %v", n, err)
		}
		if n := processAll(t, s); n != 9 {
			t.Fatalf("replay processed %d", n)
		}
		if after := snapshot(); after != before {
			t.Fatalf("replay changed the derived state:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

func TestCampaignKeywordPromoter(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		err := s.Load(ctx, func(l store.Loader) error {
			if err := l.Insert("users", []string{"id", "email", "role", "created_at"}, [][]any{{int64(5), "rep@revloop.cn", "sales", t0}}); err != nil {
				return err
			}
			if err := l.Insert("campaigns", []string{"id", "code", "name", "channel", "created_at"}, [][]any{
				{int64(1), "bd-brand", "百度搜索-品牌词", "paid_search", t0}, {int64(2), "web-0315", "3月线上研讨会", "webinar", t0}}); err != nil {
				return err
			}
			return l.Insert("keywords", []string{"id", "campaign_id", "text"}, [][]any{{int64(9), int64(1), "营销自动化"}})
		})
		if err != nil {
			t.Fatal(err)
		}
		f := newFeed(t, s)
		f.page("a", "", "https://www.revloop.cn/?utm_source=baidu&utm_medium=cpc&utm_campaign=BD-Brand&utm_term=%E8%90%A5%E9%94%80%E8%87%AA%E5%8A%A8%E5%8C%96", "", 0)
		f.page("b", "", "https://www.revloop.cn/?utm_campaign=3月线上研讨会", "", 1)
		f.send(model.Event{Type: model.EventPage, AnonymousID: "c", URL: "https://www.revloop.cn/", Source: "wechat", Medium: "social"}, 2,
			`{"properties":{"promoter":"Rep@Revloop.cn"}}`)
		processAll(t, s)
		rows, err := s.WriterDB().QueryContext(ctx, "SELECT channel, COALESCE(campaign_id, 0), COALESCE(keyword_id, 0), COALESCE(promoter_id, 0) FROM touchpoints ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var ch string
			var c, k, p int64
			rows.Scan(&ch, &c, &k, &p)
			got = append(got, fmt.Sprintf("%s/%d/%d/%d", ch, c, k, p))
		}
		want := "paid_search/1/9/0 webinar/2/0/0 employee_sharing/0/0/5"
		if strings.Join(got, " ") != want {
			t.Fatalf("touchpoints %v, want %s", got, want)
		}
		if p := person(t, s, model.IdentityAnonymousID, "a"); p.FirstTouchCampaign != 1 {
			t.Fatalf("first touch campaign %d", p.FirstTouchCampaign)
		}
	})
}

func TestReclassifyAfterRuleChange(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFeed(t, s)
		f.page("a", "", "https://www.revloop.cn/?utm_source=partner-x", "", 0)
		f.page("b", "", "https://www.revloop.cn/?utm_source=partner-x&utm_medium=cpc", "", 1)
		f.page("c", "", "https://www.revloop.cn/", "", 2)
		processAll(t, s)
		if p := person(t, s, model.IdentityAnonymousID, "a"); p.FirstTouchChannel != model.ChannelUnknown {
			t.Fatalf("before: %s", p.FirstTouchChannel)
		}
		rs := channel.DefaultRulesJSON()
		// Partners are referrals, whatever medium they use: a rule first in line.
		custom := strings.Replace(string(rs), `"rules": [`, `"rules": [{"name":"Partners","channel":"referral","medium":"partner","when":[{"field":"source","match":"prefix","value":"partner-"}]},`, 1)
		parsed, err := channel.ParseRules([]byte(custom))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveRuleSet(ctx, model.ChannelRuleSets, []byte(custom), "test", time.Now(), nil); err != nil {
			t.Fatal(err)
		}
		res, err := process.Reclassify(ctx, s, parsed, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Examined != 3 || res.Changed != 2 || res.Updated != 2 {
			t.Fatalf("reclassify: %+v", res)
		}
		for _, anon := range []string{"a", "b"} {
			if p := person(t, s, model.IdentityAnonymousID, anon); p.FirstTouchChannel != model.ChannelReferral {
				t.Fatalf("%s after: %s", anon, p.FirstTouchChannel)
			}
		}
		if n := count(t, s, "SELECT COUNT(*) FROM touchpoints WHERE medium = 'partner'"); n != 2 {
			t.Fatalf("%d touchpoints got the rule's medium", n)
		}
		// New events use the saved rules too, and a second pass changes nothing.
		f.page("d", "", "https://www.revloop.cn/?utm_source=partner-y", "", 3)
		processAll(t, s)
		if p := person(t, s, model.IdentityAnonymousID, "d"); p.FirstTouchChannel != model.ChannelReferral {
			t.Fatalf("new event: %s", p.FirstTouchChannel)
		}
		if res, err := process.Reclassify(ctx, s, parsed, nil); err != nil || res.Changed != 0 || res.Examined != 4 {
			t.Fatalf("second pass: %+v %v", res, err)
		}
	})
}

func TestFailingEventDoesNotBlockOthers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFeed(t, s)
		for i := range 5 {
			f.page(fmt.Sprintf("a%d", i), "", "https://www.revloop.cn/", "", i)
		}
		poison := errors.New("cannot derive this one")
		var seen []string
		fn := func(p *store.ProcessTx, ev *model.Event) error {
			seen = append(seen, ev.MessageID)
			if ev.MessageID == "m3" {
				return poison
			}
			return nil
		}
		for {
			n, err := s.ProcessEvents(ctx, 10, fn)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		// m3 fails: the batch rolls back and m3 alone is marked failed;
		// the next batch takes the others again.
		if got := strings.Join(seen, " "); got != "m1 m2 m3 m1 m2 m4 m5" {
			t.Fatalf("processing order %s", got)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM events WHERE processed_at IS NULL"); n != 0 {
			t.Fatalf("%d events left unprocessed", n)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM events WHERE process_error = 'cannot derive this one' AND message_id = 'm3'"); n != 1 {
			t.Fatalf("the failure was not recorded on m3 (%v)", seen)
		}
		// The real processor replays the failed event after a fix.
		if _, err := s.ReplayEvents(ctx, 3, 3); err != nil {
			t.Fatal(err)
		}
		if n := processAll(t, s); n != 1 {
			t.Fatalf("replayed %d", n)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM events WHERE process_error <> ''"); n != 0 {
			t.Fatalf("%d errors left after replay", n)
		}
	})
}

// A touchpoint that cannot be written (here: a campaign that does not
// exist) fails when the batch's deferred writes are flushed; the batch is
// retried writing each at once, so that the failure is pinned on its event
// and the others are processed.
func TestFailingDeferredWriteIsPinnedOnItsEvent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFeed(t, s)
		for i := range 5 {
			f.page(fmt.Sprintf("a%d", i), "", "https://www.revloop.cn/", "", i)
		}
		fn := func(p *store.ProcessTx, ev *model.Event) error {
			tp := model.Touchpoint{AnonymousID: ev.AnonymousID, OccurredAt: ev.Timestamp, Type: "page_view", Channel: model.Channel("direct")}
			if ev.MessageID == "m3" {
				tp.CampaignID = 987654
			}
			return p.UpsertTouchpoint(tp, ev.ID)
		}
		for {
			n, err := s.ProcessEvents(ctx, 10, fn)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		if n := count(t, s, "SELECT COUNT(*) FROM events WHERE processed_at IS NULL"); n != 0 {
			t.Fatalf("%d events left unprocessed", n)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM events WHERE process_error <> '' AND message_id = 'm3'"); n != 1 {
			t.Fatal("the failure was not recorded on m3")
		}
		if n := count(t, s, "SELECT COUNT(*) FROM events WHERE process_error <> ''"); n != 1 {
			t.Fatalf("%d events failed, want 1", n)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM touchpoints"); n != 4 {
			t.Fatalf("%d touchpoints, want 4", n)
		}
	})
}
