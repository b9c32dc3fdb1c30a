package process_test

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
)

// bothPaths stores events through the runner and through intake
// processing, each in its own database of the engine, and checks each.
func bothPaths(t *testing.T, events func(browser, server int64) []model.Event, check func(t *testing.T, s *store.Store)) {
	eachEngine(t, func(t *testing.T, newStore func(testing.TB) *store.Store) {
		for _, path := range []string{"runner", "intake"} {
			t.Run(path, func(t *testing.T) {
				s := newStore(t)
				browser, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "www", Key: "wk_browser"})
				if err != nil {
					t.Fatal(err)
				}
				server, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "backend", Key: "wk_server", Server: true})
				if err != nil {
					t.Fatal(err)
				}
				evs := events(browser, server)
				for i := range evs {
					evs[i].MessageID = fmt.Sprintf("t%03d", i)
					evs[i].Timestamp = t0.Add(time.Duration(i) * time.Minute)
					evs[i].ReceivedAt = evs[i].Timestamp
				}
				if path == "runner" {
					if _, err := s.AppendEvents(ctx, evs); err != nil {
						t.Fatal(err)
					}
					processAll(t, s)
				} else {
					in := process.NewIngester(s, slog.New(slog.DiscardHandler), nil, nil)
					for i := range evs {
						if _, err := in.Ingest(ctx, evs[i:i+1]); err != nil {
							t.Fatal(err)
						}
					}
				}
				check(t, s)
				// Replayed, the events derive the same.
				if n, err := s.ReplayEvents(ctx, 0, 0); err != nil || n != int64(len(evs)) {
					t.Fatalf("replay %d %v", n, err)
				}
				processAll(t, s)
				check(t, s)
			})
		}
	})
}

func identify(key int64, user string, bot bool, traits string) model.Event {
	return model.Event{Type: model.EventIdentify, UserID: user, WriteKeyID: key, Bot: bot, Payload: []byte(`{"traits":` + traits + `}`)}
}

func identityList(p model.PersonDetail) string {
	var out []string
	for _, i := range p.Identities {
		out = append(out, string(i.Type)+":"+i.Value)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// A browser key's identify cannot give a known person a second email; a
// bot's identify changes nothing; a server key's may add an email.
func TestIdentifyTrustByKeyKind(t *testing.T) {
	bothPaths(t, func(browser, server int64) []model.Event {
		return []model.Event{
			identify(browser, "victim", false, `{"email":"v@acme.cn","title":"Engineer"}`),
			// Someone who knows the victim's user id, through the page's key.
			identify(browser, "victim", false, `{"email":"attacker@evil.cn","title":"Engineer"}`),
			// A victim without a lead yet: the claimed email must not make one.
			identify(browser, "quiet", false, `{"phone":"13900139000"}`),
			identify(browser, "quiet", false, `{"phone":"13700137000","email":"claim@evil.cn"}`),
			// A crawler posing as the victim's browser.
			identify(browser, "victim", true, `{"email":"bot@evil.cn","phone":"13800138000","title":"CEO","plan":"enterprise"}`),
			// The backend knows better.
			identify(server, "victim", false, `{"email":"v.work@acme.cn"}`),
		}
	}, func(t *testing.T, s *store.Store) {
		p := person(t, s, model.IdentityUserID, "victim")
		if got, want := identityList(p), "email:v.work@acme.cn email:v@acme.cn user_id:victim"; got != want {
			t.Errorf("victim holds %s, want %s", got, want)
		}
		if p.Title != "Engineer" || p.Email != "v@acme.cn" || p.Phone != "" || p.Traits["plan"] != nil {
			t.Errorf("victim's profile changed: title %q email %q phone %q traits %v", p.Title, p.Email, p.Phone, p.Traits)
		}
		other := person(t, s, model.IdentityEmail, "attacker@evil.cn")
		if other.ID == p.ID || other.MergedIntoID != 0 {
			t.Errorf("the claimed email went to %d (victim %d)", other.ID, p.ID)
		}
		if n := count(t, s, fmt.Sprintf("SELECT COUNT(*) FROM identity_conflicts WHERE type = 'email' AND event_id IS NOT NULL AND person_a IN (%d, %d) AND person_b IN (%d, %d)", p.ID, other.ID, p.ID, other.ID)); n != 1 {
			t.Errorf("%d conflicts recorded, want 1", n)
		}
		q := person(t, s, model.IdentityUserID, "quiet")
		if got, want := identityList(q), "email:claim@evil.cn phone:+8613900139000 user_id:quiet"; got != want {
			t.Errorf("quiet holds %s, want %s", got, want)
		}
		if o := person(t, s, model.IdentityPhone, "+8613700137000"); o.ID == q.ID {
			t.Errorf("the second phone went to quiet")
		}
		for _, v := range []string{"bot@evil.cn", "+8613800138000"} {
			if n := count(t, s, "SELECT COUNT(*) FROM identities WHERE value = '"+v+"'"); n != 0 {
				t.Errorf("the bot's %s was linked", v)
			}
		}
	})
}

// Bidi controls never reach a stored name, title, company or trait.
func TestBidiControlsStripped(t *testing.T) {
	const rlo, pdf, lri, pdi = "\u202e", "\u202c", "\u2066", "\u2069"
	bothPaths(t, func(browser, server int64) []model.Event {
		return []model.Event{
			identify(browser, "u-bidi", false, `{"email":"b@bidi.cn","name":"`+rlo+`gpj.exe`+pdf+`","title":"`+lri+`CTO`+pdi+`","note`+rlo+`":"a`+lri+`b","company":{"name":"`+rlo+`Acme"}}`),
		}
	}, func(t *testing.T, s *store.Store) {
		p := person(t, s, model.IdentityUserID, "u-bidi")
		if p.Name != "gpj.exe" || p.Title != "CTO" || p.Traits["note"] != "ab" {
			t.Errorf("name %q title %q traits %q", p.Name, p.Title, p.Traits)
		}
		if p.Account == nil || p.Account.Name != "Acme" {
			t.Errorf("account %+v", p.Account)
		}
	})
}
