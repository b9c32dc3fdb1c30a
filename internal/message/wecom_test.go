package message_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// fakeWeCom is the WeCom API as far as revloop uses it.
type fakeWeCom struct {
	mu        sync.Mutex
	tokens    int             // gettoken calls
	valid     map[string]bool // live access tokens
	calls     []string        // "api body" of each message call
	reject    int             // the next n message calls answer errcode code
	rejectErr int
	srv       *httptest.Server
}

func newFakeWeCom(t *testing.T) *fakeWeCom {
	f := &fakeWeCom{valid: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeWeCom) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	answer := func(v map[string]any) { json.NewEncoder(w).Encode(v) }
	if r.URL.Path == "/cgi-bin/gettoken" {
		if r.Method != http.MethodGet || r.URL.Query().Get("corpid") != "ww1234" || r.URL.Query().Get("corpsecret") != "app-secret-XYZ" {
			answer(map[string]any{"errcode": 40001, "errmsg": "invalid credential"})
			return
		}
		f.tokens++
		tok := fmt.Sprintf("tok-%d", f.tokens)
		f.valid[tok] = true
		answer(map[string]any{"errcode": 0, "errmsg": "ok", "access_token": tok, "expires_in": 7200})
		return
	}
	body, _ := io.ReadAll(r.Body)
	api := strings.TrimPrefix(r.URL.Path, "/cgi-bin/")
	f.calls = append(f.calls, api+" "+string(body))
	tok := r.URL.Query().Get("access_token")
	if f.reject > 0 {
		f.reject--
		if f.rejectErr == 40001 {
			delete(f.valid, tok)
		}
		answer(map[string]any{"errcode": f.rejectErr, "errmsg": "rejected"})
		return
	}
	if !f.valid[tok] {
		answer(map[string]any{"errcode": 42001, "errmsg": "access_token expired"})
		return
	}
	switch api {
	case "message/send":
		var m struct {
			ToUser string `json:"touser"`
		}
		json.Unmarshal(body, &m)
		inv := ""
		if strings.Contains(m.ToUser, "ghost") {
			inv = "ghost"
		}
		answer(map[string]any{"errcode": 0, "errmsg": "ok", "invaliduser": inv, "msgid": fmt.Sprintf("m%d", len(f.calls))})
	case "externalcontact/add_msg_template":
		var m struct {
			Ext []string `json:"external_userid"`
		}
		json.Unmarshal(body, &m)
		var fail []string
		if m.Ext[0] == "wmBAD" {
			fail = m.Ext
		}
		answer(map[string]any{"errcode": 0, "errmsg": "ok", "fail_list": fail, "msgid": fmt.Sprintf("msgTPL%d", len(f.calls))})
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeWeCom) stats() (int, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens, append([]string(nil), f.calls...)
}

// wecomSetup stores the app's settings (secret sealed), user 1 with
// member id LiLei owning person 1 (external id wmEXT1) and person 2 (no
// external id), and returns a sender on a fixed clock.
func wecomSetup(t *testing.T, s *store.Store, f *fakeWeCom, now time.Time) *message.WeCom {
	t.Helper()
	ctx := context.Background()
	box := testBox(t)
	sealed, _ := box.Seal([]byte("app-secret-XYZ"))
	if err := s.SetSetting(ctx, message.SettingWeCom, message.WeComSettings{CorpID: "ww1234", AgentID: 1000002, SecretSealed: sealed, BaseURL: f.srv.URL}); err != nil {
		t.Fatal(err)
	}
	uid, err := s.CreateUser(ctx, model.User{Email: "li@example.cn", Name: "Li", Role: model.RoleSales})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetWeComMember(ctx, uid, "LiLei", now); err != nil {
		t.Fatal(err)
	}
	for id := int64(1); id <= 3; id++ {
		addPerson(t, s, id)
		exec(t, s, "UPDATE persons SET owner_id = ? WHERE id = ?", uid, id)
	}
	exec(t, s, `INSERT INTO identities (type, value, person_id, created_at) VALUES ('wecom_external_userid', 'wmEXT1', 1, ?)`, now)
	exec(t, s, `INSERT INTO identities (type, value, person_id, created_at) VALUES ('wecom_external_userid', 'wmBAD', 3, ?)`, now)
	w := message.NewWeCom(s, box)
	w.Now = func() time.Time { return now }
	return w
}

func wecomReq(key string, person int64, kind, content, to string) message.Request {
	step, _ := json.Marshal(model.JourneyStep{ID: "w", Type: "wecom", Kind: kind, Content: content, ToUser: to})
	return message.Request{Key: key, Channel: "wecom", PersonID: person, JourneyID: 3, Version: 1, StepID: "w", Step: step}
}

// App messages: the exact body with the duplicate check; one token for
// many sends, on this node and on another sharing the database.
func TestWeComAppMessages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFakeWeCom(t)
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		w := wecomSetup(t, s, f, now)
		for i := range 20 {
			res, err := w.Send(ctx, wecomReq(fmt.Sprintf("k%d", i), 1, "app", "王先生下载了白皮书，请今天跟进", ""))
			if err != nil || res.Status != message.Sent || res.ProviderID != fmt.Sprintf("m%d", i+1) {
				t.Fatalf("send %d: %+v %v", i, res, err)
			}
		}
		// Another node: its own sender, the same database.
		other := message.NewWeCom(s, testBox(t))
		other.Now = w.Now
		if res, err := other.Send(ctx, wecomReq("k-other", 1, "app", "hello", "ZhangSan|WangWu")); err != nil || res.Status != message.Sent {
			t.Fatalf("other node: %+v %v", res, err)
		}
		tokens, calls := f.stats()
		if tokens != 1 || len(calls) != 21 {
			t.Fatalf("%d gettoken calls for %d messages, want 1", tokens, len(calls))
		}
		want := `message/send {"touser":"LiLei","msgtype":"text","agentid":1000002,"text":{"content":"王先生下载了白皮书，请今天跟进"},"safe":0,"enable_duplicate_check":1,"duplicate_check_interval":1800}`
		if calls[0] != want {
			t.Fatalf("body\n got %s\nwant %s", calls[0], want)
		}
		if !strings.HasPrefix(calls[20], `message/send {"touser":"ZhangSan|WangWu",`) {
			t.Fatalf("to_user: %s", calls[20])
		}
		// The same key again (the journey lost the result): not sent again,
		// the first send's msgid answered.
		if res, err := w.Send(ctx, wecomReq("k3", 1, "app", "王先生下载了白皮书，请今天跟进", "")); err != nil || res.Status != message.Sent || res.ProviderID != "m4" {
			t.Fatalf("resend of k3: %+v %v", res, err)
		}
		if _, calls := f.stats(); len(calls) != 21 {
			t.Fatalf("a resent key reached WeCom: %d calls", len(calls))
		}
		// A recipient WeCom does not know: failed for good.
		if res, err := w.Send(ctx, wecomReq("k-ghost", 1, "app", "hello", "ghost")); err != nil || res.Status != message.Failed || res.Reason != "invalid_user" {
			t.Fatalf("ghost: %+v %v", res, err)
		}
	})
}

// 40001 (token refused): one refresh, one retry, then success; refused
// again after the retry: a transient error, no third call.
func TestWeComTokenRefreshRetry(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFakeWeCom(t)
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		w := wecomSetup(t, s, f, now)
		if _, err := w.Send(ctx, wecomReq("a", 1, "app", "x", "")); err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		f.reject, f.rejectErr = 1, 40001
		f.mu.Unlock()
		res, err := w.Send(ctx, wecomReq("b", 1, "app", "x", ""))
		tokens, calls := f.stats()
		if err != nil || res.Status != message.Sent || tokens != 2 || len(calls) != 3 {
			t.Fatalf("after 40001: %+v %v, %d tokens, %d calls", res, err, tokens, len(calls))
		}
		f.mu.Lock()
		f.reject, f.rejectErr = 2, 40001
		f.mu.Unlock()
		if _, err := w.Send(ctx, wecomReq("c", 1, "app", "x", "")); err == nil {
			t.Fatal("refused twice: no error")
		}
		tokens, calls = f.stats()
		if tokens != 3 || len(calls) != 5 {
			t.Fatalf("refused twice: %d tokens, %d calls; want 3 and 5 (one retry only)", tokens, len(calls))
		}
		// The refreshed token is the one stored for every node.
		st, err := s.WeComToken(ctx, "ww1234/1000002")
		if err != nil || st.Sealed == "" || strings.Contains(st.Sealed, "tok-") || !st.ExpiresAt.Equal(now.Add(2*time.Hour)) {
			t.Fatalf("stored token: %+v %v", st, err)
		}
		// Errcodes: -1 (busy) transient, 60111 (no such user) failed.
		f.mu.Lock()
		f.reject, f.rejectErr = 1, -1
		f.mu.Unlock()
		if res, err := w.Send(ctx, wecomReq("d", 1, "app", "x", "")); err == nil {
			t.Fatalf("busy: %+v, want a transient error", res)
		}
		f.mu.Lock()
		f.reject, f.rejectErr = 1, 60111
		f.mu.Unlock()
		if res, err := w.Send(ctx, wecomReq("e", 1, "app", "x", "")); err != nil || res.Status != message.Failed || res.Reason != "invalid_user" {
			t.Fatalf("60111: %+v %v", res, err)
		}
	})
}

// 30 messages a minute and 1000 an hour per member: the 31st in a
// minute waits for the first to leave it; a retried key does not count
// twice; the hour's limit the same.
func TestWeComMemberLimits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFakeWeCom(t)
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		now := t0
		w := wecomSetup(t, s, f, now)
		w.Now = func() time.Time { return now }
		for i := range 30 {
			now = t0.Add(time.Duration(i) * time.Second)
			if res, err := w.Send(ctx, wecomReq(fmt.Sprintf("k%d", i), 1, "app", "x", "")); err != nil || res.Status != message.Sent {
				t.Fatalf("send %d: %+v %v", i, res, err)
			}
		}
		now = t0.Add(40 * time.Second)
		_, err := w.Send(ctx, wecomReq("k30", 1, "app", "x", ""))
		if at, ok := message.RetryAt(err); !ok || !at.Equal(t0.Add(time.Minute)) {
			t.Fatalf("31st in a minute: %v, want a retry at %v", err, t0.Add(time.Minute))
		}
		if _, calls := f.stats(); len(calls) != 30 {
			t.Fatalf("%d messages reached WeCom, want 30", len(calls))
		}
		// Another member is not limited by LiLei's messages.
		if res, err := w.Send(ctx, wecomReq("k-zs", 1, "app", "x", "ZhangSan")); err != nil || res.Status != message.Sent {
			t.Fatalf("another member: %+v %v", res, err)
		}
		// A minute later it goes.
		now = t0.Add(time.Minute + time.Second)
		if res, err := w.Send(ctx, wecomReq("k30", 1, "app", "x", "")); err != nil || res.Status != message.Sent {
			t.Fatalf("after the minute: %+v %v", res, err)
		}
		// The hour: 1000 sends of ZhangSan spread over the last hour (one
		// real above, 999 written here); the next waits for the oldest.
		for i := range 999 {
			at := t0.Add(-58*time.Minute + time.Duration(i)*3*time.Second)
			exec(t, s, `INSERT INTO message_sends (scope, msg_key, subject, sent_at, confirmed, expires_at) VALUES ('wecom.member', ?, 'ZhangSan', ?, ?, ?)`,
				fmt.Sprintf("h%d", i), at, true, at)
		}
		_, err = w.Send(ctx, wecomReq("k-zs2", 1, "app", "x", "ZhangSan"))
		if at, ok := message.RetryAt(err); !ok || !at.Equal(t0.Add(-58*time.Minute+time.Hour)) {
			t.Fatalf("1001st in an hour: %v (want retry at %v)", err, t0.Add(2*time.Minute))
		}
	})
}

// External-contact messages: sent by the person's owner to the person's
// external user id, exact body; no external id: skipped; WeCom's fail
// list: failed.
func TestWeComExternal(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFakeWeCom(t)
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		w := wecomSetup(t, s, f, now)
		res, err := w.Send(ctx, wecomReq("x1", 1, "external", "您好，白皮书已发送", ""))
		if err != nil || res.Status != message.Sent || res.ProviderID != "msgTPL1" {
			t.Fatalf("external: %+v %v", res, err)
		}
		_, calls := f.stats()
		want := `externalcontact/add_msg_template {"chat_type":"single","external_userid":["wmEXT1"],"sender":"LiLei","text":{"content":"您好，白皮书已发送"}}`
		if calls[0] != want {
			t.Fatalf("body\n got %s\nwant %s", calls[0], want)
		}
		if res, err := w.Send(ctx, wecomReq("x2", 2, "external", "hi", "")); err != nil || res.Status != message.Skipped || res.Reason != "no_address" {
			t.Fatalf("no external id: %+v %v", res, err)
		}
		if res, err := w.Send(ctx, wecomReq("x3", 3, "external", "hi", "")); err != nil || res.Status != message.Failed || res.Reason != "invalid_external_user" {
			t.Fatalf("fail list: %+v %v", res, err)
		}
		if res, err := w.Send(ctx, wecomReq("x4", 1, "sms", "hi", "")); err != nil || res.Status != message.Failed || res.Reason != "bad_step" {
			t.Fatalf("bad kind: %+v %v", res, err)
		}
	})
}

// Two nodes, 24 concurrent first sends: one gettoken.
func TestWeComTokenStampede(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFakeWeCom(t)
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		a := wecomSetup(t, s, f, now)
		b := message.NewWeCom(s, testBox(t))
		b.Now = a.Now
		var wg sync.WaitGroup
		for i := range 24 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				node := a
				if i%2 == 1 {
					node = b
				}
				res, err := node.Send(ctx, wecomReq(fmt.Sprintf("s%d", i), 1, "app", "x", fmt.Sprintf("m%d", i)))
				if err != nil || res.Status != message.Sent {
					t.Errorf("send %d: %+v %v", i, res, err)
				}
			}()
		}
		wg.Wait()
		if tokens, calls := f.stats(); tokens != 1 || len(calls) != 24 {
			t.Fatalf("%d gettoken calls, %d messages; want 1 and 24", tokens, len(calls))
		}
	})
}
