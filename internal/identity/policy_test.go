package identity_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/identity"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var ctx = context.Background()

// policyWorld feeds messages to the OneID resolver, one transaction each,
// as processing does, and reads what it decided.
type policyWorld struct {
	t        *testing.T
	s        *store.Store
	browser  int64 // a browser write key
	server   int64 // a server write key
	seq      int
	resolver identity.Resolver
}

func newPolicyWorld(t *testing.T, s *store.Store) *policyWorld {
	t.Helper()
	w := &policyWorld{t: t, s: s}
	var err error
	if w.browser, err = s.CreateWriteKey(ctx, model.WriteKey{Name: "site", Key: "wk_site"}); err != nil {
		t.Fatal(err)
	}
	if w.server, err = s.CreateWriteKey(ctx, model.WriteKey{Name: "crm", Key: "wk_crm", Server: true}); err != nil {
		t.Fatal(err)
	}
	w.resolver = identity.Resolver{Normaliser: identity.Normaliser{PhoneRegion: "CN"}, Trusted: func(k int64) bool { return k == w.server }}
	return w
}

// identify sends an identify message with key (browser or server).
func (w *policyWorld) identify(key int64, anon, user, traits string) identity.Result {
	w.t.Helper()
	w.seq++
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(w.seq) * time.Minute)
	ev := model.Event{WriteKeyID: key, MessageID: fmt.Sprintf("m%d", w.seq), Type: model.EventIdentify, AnonymousID: anon, UserID: user,
		Timestamp: at, ReceivedAt: at, Payload: []byte(`{"traits":` + traits + `}`)}
	var res identity.Result
	_, err := w.s.IngestProcessed(ctx, []model.Event{ev}, func(*store.ProcessTx, []model.Event) error { return nil },
		func(p *store.ProcessTx, ev *model.Event) error {
			var err error
			res, err = w.resolver.Resolve(p, ev, identity.ParseMessage(ev))
			return err
		})
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

// owner is the person an identifier belongs to (0: nobody).
func (w *policyWorld) owner(t model.IdentityType, v string) int64 {
	w.t.Helper()
	p, err := w.s.PersonByIdentity(ctx, t, v)
	if err != nil {
		return 0
	}
	return p.ID
}

func (w *policyWorld) conflicts() []model.IdentityConflict {
	w.t.Helper()
	cs, err := w.s.IdentityConflicts(ctx, true, 100)
	if err != nil {
		w.t.Fatal(err)
	}
	return cs
}

// The OneID merge policy: one human is one person, and two different
// people are never merged. Each case is a sequence of messages and what
// must hold after it.
func TestMergePolicy(t *testing.T) {
	cases := []struct {
		name  string
		run   func(w *policyWorld)
		check func(t *testing.T, w *policyWorld)
	}{
		{
			name: "an anonymous visitor who identifies stays one person",
			run: func(w *policyWorld) {
				w.identify(w.browser, "a1", "", `{}`)
				w.identify(w.browser, "a1", "", `{"email": "li@acme.cn"}`)
			},
			check: func(t *testing.T, w *policyWorld) {
				if p := w.owner(model.IdentityAnonymousID, "a1"); p == 0 || p != w.owner(model.IdentityEmail, "li@acme.cn") {
					t.Fatalf("anonymous id and email on different persons")
				}
			},
		},
		{
			name: "identifiers of different kinds join two persons into one",
			run: func(w *policyWorld) {
				w.identify(w.server, "laptop", "", `{"email": "li@acme.cn"}`)
				w.identify(w.server, "phone", "", `{"phone": "13812345679"}`)
				if res := w.identify(w.server, "tablet", "", `{"email": "li@acme.cn", "phone": "13812345679"}`); len(res.Merges) != 1 {
					w.t.Errorf("merges %v, want one", res.Merges)
				}
			},
			check: func(t *testing.T, w *policyWorld) {
				if p := w.owner(model.IdentityEmail, "li@acme.cn"); p == 0 || p != w.owner(model.IdentityPhone, "+8613812345679") {
					t.Fatalf("email and phone not joined")
				}
				if len(w.conflicts()) != 0 {
					t.Fatalf("conflicts %+v", w.conflicts())
				}
			},
		},
		{
			name: "two persons with different emails are never merged, and the link is a conflict to review",
			run: func(w *policyWorld) {
				w.identify(w.server, "", "u1", `{"email": "li@acme.cn"}`)
				w.identify(w.server, "w-laptop", "", `{"email": "wang@acme.cn"}`)
				if res := w.identify(w.server, "", "u1", `{"email": "wang@acme.cn"}`); len(res.Merges) != 0 || res.Conflicts != 1 {
					w.t.Errorf("merges %v conflicts %d", res.Merges, res.Conflicts)
				}
			},
			check: func(t *testing.T, w *policyWorld) {
				li, wang := w.owner(model.IdentityEmail, "li@acme.cn"), w.owner(model.IdentityEmail, "wang@acme.cn")
				if li == 0 || wang == 0 || li == wang {
					t.Fatalf("persons %d and %d", li, wang)
				}
				cs := w.conflicts()
				if len(cs) != 1 || cs[0].Type != string(model.IdentityEmail) || cs[0].ResolvedAt != nil {
					t.Fatalf("conflicts %+v", cs)
				}
			},
		},
		{
			name: "a device someone else used moves forward to the new person; what it did before stays",
			run: func(w *policyWorld) {
				w.identify(w.server, "shared-pc", "", `{"email": "li@acme.cn"}`)
				w.identify(w.server, "shared-pc", "", `{"email": "zhao@beta.cn"}`)
			},
			check: func(t *testing.T, w *policyWorld) {
				li, zhao := w.owner(model.IdentityEmail, "li@acme.cn"), w.owner(model.IdentityEmail, "zhao@beta.cn")
				if li == 0 || zhao == 0 || li == zhao || w.owner(model.IdentityAnonymousID, "shared-pc") != zhao {
					t.Fatalf("li %d, zhao %d, device %d", li, zhao, w.owner(model.IdentityAnonymousID, "shared-pc"))
				}
			},
		},
		{
			name: "a merge that was undone is not done again",
			run: func(w *policyWorld) {
				w.identify(w.server, "laptop", "", `{"email": "li@acme.cn"}`)
				w.identify(w.server, "phone", "", `{"phone": "13812345679"}`)
				res := w.identify(w.server, "tablet", "", `{"email": "li@acme.cn", "phone": "13812345679"}`)
				if len(res.Merges) != 1 {
					w.t.Fatalf("merges %v", res.Merges)
				}
				if _, err := w.s.UndoMerge(ctx, res.Merges[0]); err != nil {
					w.t.Fatal(err)
				}
				if res := w.identify(w.server, "desktop", "", `{"email": "li@acme.cn", "phone": "13812345679"}`); len(res.Merges) != 0 || res.Conflicts != 1 {
					w.t.Errorf("after the undo: merges %v conflicts %d", res.Merges, res.Conflicts)
				}
			},
			check: func(t *testing.T, w *policyWorld) {
				if li, ph := w.owner(model.IdentityEmail, "li@acme.cn"), w.owner(model.IdentityPhone, "+8613812345679"); li == ph {
					t.Fatalf("merged again into %d", li)
				}
				if cs := w.conflicts(); len(cs) != 1 || cs[0].Type != "undone_merge" {
					t.Fatalf("conflicts %+v", cs)
				}
			},
		},
		{
			name: "a browser key cannot give a known person a second email; a server key can",
			run: func(w *policyWorld) {
				w.identify(w.server, "", "u1", `{"email": "li@acme.cn"}`)
				if res := w.identify(w.browser, "", "u1", `{"email": "li.private@qq.com"}`); res.Conflicts != 1 {
					w.t.Errorf("browser key: conflicts %d", res.Conflicts)
				}
				w.identify(w.server, "", "u1", `{"email": "li.work@acme.cn"}`)
			},
			check: func(t *testing.T, w *policyWorld) {
				u1 := w.owner(model.IdentityUserID, "u1")
				if u1 == 0 || w.owner(model.IdentityEmail, "li@acme.cn") != u1 {
					t.Fatalf("u1 %d", u1)
				}
				if o := w.owner(model.IdentityEmail, "li.private@qq.com"); o == 0 || o == u1 {
					t.Fatalf("the browser key's second email went to %d (u1 is %d)", o, u1)
				}
				if o := w.owner(model.IdentityEmail, "li.work@acme.cn"); o != u1 {
					t.Fatalf("the server key's second email went to %d, want u1 %d", o, u1)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, s *store.Store) {
				w := newPolicyWorld(t, s)
				c.run(w)
				c.check(t, w)
			})
		})
	}
}
