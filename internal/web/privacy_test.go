package web

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/privacy"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// privacyEnv is a server with viewer, marketer and admin keys and a write
// key for the collector.
type privacyEnv struct {
	*env
	viewer, marketer, admin, wk string
}

func newPrivacyEnv(t *testing.T, s *store.Store) *privacyEnv {
	t.Helper()
	e := newEnv(t, s)
	startApp(t, e.srv) // erasures and the anonymisation of stored addresses are jobs
	wk, err := collect.CreateWriteKey(ctx, s, "site")
	if err != nil {
		t.Fatal(err)
	}
	return &privacyEnv{env: e, viewer: e.key, marketer: e.marketerKey(t), admin: e.adminKey(t), wk: wk.Key}
}

// track posts a message to the collector and checks it was accepted.
func (e *privacyEnv) track(t *testing.T, path, body string) {
	t.Helper()
	if code := e.collect(t, path, e.wk, body); code != http.StatusOK {
		t.Fatalf("POST %s %s: %d", path, body, code)
	}
}

func (e *privacyEnv) personByIdentifier(t *testing.T, id string) (int64, int) {
	t.Helper()
	res := e.send(t, http.MethodGet, "/api/v1/persons?identifier="+id, e.viewer, "", "")
	var p struct {
		ID int64 `json:"id"`
	}
	if res.StatusCode == http.StatusOK {
		decodeJSON(t, res, http.StatusOK, &p)
	}
	return p.ID, res.StatusCode
}

// erase erases a person through the API and waits for the job's receipt.
func (e *privacyEnv) erase(t *testing.T, id int64) model.ErasureReceipt {
	t.Helper()
	var started struct {
		JobID     int64  `json:"job_id"`
		StatusURL string `json:"status_url"`
	}
	res := e.send(t, http.MethodDelete, fmt.Sprintf("/api/v1/persons/%d", id), e.admin, "", "")
	decodeJSON(t, res, http.StatusAccepted, &started)
	if started.JobID == 0 || res.Header.Get("Location") != started.StatusURL {
		t.Fatalf("erasure job %+v, Location %q", started, res.Header.Get("Location"))
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var j struct {
			Kind   string               `json:"kind"`
			State  string               `json:"state"`
			Error  string               `json:"error"`
			Result model.ErasureReceipt `json:"result"`
		}
		decodeJSON(t, e.send(t, http.MethodGet, started.StatusURL, e.viewer, "", ""), http.StatusOK, &j)
		switch j.State {
		case "succeeded":
			if j.Kind != "person.erase" {
				t.Fatalf("job kind %q", j.Kind)
			}
			return j.Result
		case "failed":
			t.Fatalf("erasure failed: %s", j.Error)
		}
		if time.Now().After(deadline) {
			t.Fatalf("erasure job still %s", j.State)
		}
	}
}

func (e *privacyEnv) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	db := rawDB(t, e.store)
	if e.store.Dialect() == store.Postgres {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// A person's consent is read and set per channel; denying tracking makes
// the collector drop their events (counted in /api/v1/stats and
// /metrics) until it is granted again.
func TestPrivacyConsentSuppressesTracking(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newPrivacyEnv(t, s)
		e.track(t, "/v1/identify", `{"anonymousId":"anon-c","userId":"u-77","traits":{"email":"wang@acme.cn","name":"王芳"}}`)
		id, code := e.personByIdentifier(t, "email:wang@acme.cn")
		if code != http.StatusOK {
			t.Fatalf("person not found: %d", code)
		}
		var c consentJSON
		decodeJSON(t, e.send(t, http.MethodGet, fmt.Sprintf("/api/v1/persons/%d/consent", id), e.viewer, "", ""), http.StatusOK, &c)
		if len(c.Consent) != len(model.ConsentChannels) || c.Consent[0].Status != model.ConsentUnknown {
			t.Fatalf("fresh consent %+v", c)
		}
		put := func(key, body string) *http.Response {
			return e.send(t, http.MethodPut, fmt.Sprintf("/api/v1/persons/%d/consent", id), key, "application/json", body)
		}
		for _, bad := range []struct {
			key, body, want string
			code            int
		}{
			{e.viewer, `{"email":"granted"}`, "marketer", http.StatusForbidden},
			{e.marketer, `{}`, "at least one channel", http.StatusBadRequest},
			{e.marketer, `{"fax":"granted"}`, "unknown consent channel", http.StatusBadRequest},
			{e.marketer, `{"email":"maybe"}`, "not a consent status", http.StatusBadRequest},
			{e.marketer, `{"email":true}`, "email: want", http.StatusBadRequest},
		} {
			res := put(bad.key, bad.body)
			if body := bodyOf(t, res); res.StatusCode != bad.code || !strings.Contains(body, bad.want) {
				t.Errorf("PUT %s: %d %s, want %d with %q", bad.body, res.StatusCode, body, bad.code, bad.want)
			}
		}
		decodeJSON(t, put(e.marketer, `{"email":"granted","tracking":"denied","source":"preference centre"}`), http.StatusOK, &c)
		got := map[string]model.ConsentStatus{}
		for _, x := range c.Consent {
			got[x.Channel] = x.Status
		}
		if got["email"] != model.ConsentGranted || got["tracking"] != model.ConsentDenied || got["sms"] != model.ConsentUnknown {
			t.Fatalf("consent after PUT %+v", c.Consent)
		}
		if st, err := s.Consent(ctx, id, "email"); err != nil || st != model.ConsentGranted {
			t.Fatalf("Consent(email) = %v %v", st, err)
		}
		if _, err := s.Consent(ctx, id, "fax"); err == nil {
			t.Fatal("Consent accepted an unknown channel")
		}

		before := e.count(t, "SELECT COUNT(*) FROM events")
		// Each identifier alone is enough, through any endpoint.
		e.track(t, "/v1/track", `{"anonymousId":"anon-c","event":"Viewed"}`)
		e.track(t, "/v1/page", `{"userId":"u-77"}`)
		e.track(t, "/v1/batch", `{"batch":[{"type":"identify","anonymousId":"other-device","traits":{"email":"WANG@acme.cn"}},{"type":"track","event":"kept","anonymousId":"someone-else"}]}`)
		if after := e.count(t, "SELECT COUNT(*) FROM events"); after != before+1 {
			t.Fatalf("events %d → %d: the suppressed person's events were stored", before, after)
		}
		var stats struct {
			Suppressed int64 `json:"suppressed_events"`
		}
		decodeJSON(t, e.send(t, http.MethodGet, "/api/v1/stats", e.viewer, "", ""), http.StatusOK, &stats)
		if stats.Suppressed != 3 {
			t.Errorf("stats suppressed_events = %d, want 3", stats.Suppressed)
		}
		if m := bodyOf(t, e.do(t, req{target: "/metrics"})); !strings.Contains(m, `revloop_collector_events_total{outcome="suppressed"} 3`) {
			t.Errorf("metrics lack the suppressed count")
		}
		// The suppressions hold hashes, never the values.
		if n := e.count(t, "SELECT COUNT(*) FROM suppressions WHERE hash LIKE '%acme%' OR hash LIKE '%anon-c%' OR hash LIKE '%u-77%'"); n != 0 {
			t.Fatalf("suppressions hold identifier values")
		}

		decodeJSON(t, put(e.marketer, `{"tracking":"granted"}`), http.StatusOK, &c)
		e.track(t, "/v1/track", `{"anonymousId":"anon-c","event":"Back"}`)
		if after := e.count(t, "SELECT COUNT(*) FROM events"); after != before+2 {
			t.Fatalf("granting tracking again did not lift the suppression")
		}
	})
}

// An admin erases a person: everything held about them goes, the
// receipt says what, the account's opportunity stays without them, and
// their identifiers are not collected again.
func TestPrivacyErasePerson(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newPrivacyEnv(t, s)
		e.track(t, "/v1/page", `{"anonymousId":"anon-e","properties":{"url":"https://www.revloop.cn/?utm_source=baidu&utm_medium=cpc&utm_campaign=spring"},"context":{"page":{"url":"https://www.revloop.cn/?utm_source=baidu&utm_medium=cpc&utm_campaign=spring"}}}`)
		e.track(t, "/v1/identify", `{"anonymousId":"anon-e","userId":"crm-9","traits":{"email":"li@acme.cn","phone":"13812345679","name":"李雷"}}`)
		e.track(t, "/v1/identify", `{"anonymousId":"anon-k","traits":{"email":"han@acme.cn","name":"韩梅"}}`)
		id, _ := e.personByIdentifier(t, "email:li@acme.cn")
		keep, _ := e.personByIdentifier(t, "email:han@acme.cn")
		if id == 0 || keep == 0 || id == keep {
			t.Fatalf("persons %d %d", id, keep)
		}
		var acct int64
		if err := rawDB(t, s).QueryRowContext(ctx, strings.Replace("SELECT account_id FROM persons WHERE id = ?", "?", fmt.Sprint(id), 1)).Scan(&acct); err != nil {
			t.Fatal(err)
		}
		db := rawDB(t, s)
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO opportunities (id, account_id, name, stage, amount_fen, created_at)
			VALUES (9001, %d, 'ACME CDP', 'proposal', 500000, '2026-01-05 00:00:00')`, acct)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO opportunity_contacts (opportunity_id, person_id, is_primary) VALUES (9001, %d, true), (9001, %d, false)`, id, keep)); err != nil {
			t.Fatal(err)
		}
		if res := e.send(t, http.MethodPost, fmt.Sprintf("/api/v1/persons/%d/stage", id), e.marketer, "application/json", `{"to":"mql","reason":"test"}`); res.StatusCode != http.StatusOK {
			t.Fatalf("stage: %d %s", res.StatusCode, bodyOf(t, res))
		}
		if res := e.send(t, http.MethodPut, fmt.Sprintf("/api/v1/persons/%d/consent", id), e.marketer, "application/json", `{"email":"granted"}`); res.StatusCode != http.StatusOK {
			t.Fatalf("consent: %d", res.StatusCode)
		}

		// The export holds everything, payloads included.
		if res := e.send(t, http.MethodGet, fmt.Sprintf("/api/v1/persons/%d/export", id), e.marketer, "", ""); res.StatusCode != http.StatusForbidden {
			t.Fatalf("a marketer exported a person: %d", res.StatusCode)
		}
		var exp struct {
			PersonID     int64            `json:"person_id"`
			Persons      []map[string]any `json:"persons"`
			Identities   []map[string]any `json:"identities"`
			Consent      []map[string]any `json:"consent"`
			Stages       []map[string]any `json:"stage_changes"`
			Touchpoints  []map[string]any `json:"touchpoints"`
			Events       []map[string]any `json:"events"`
			Opps         []map[string]any `json:"opportunities"`
			Truncated    []string         `json:"truncated"`
			MaxRows      int              `json:"max_rows_per_section"`
			Unrecognised json.RawMessage  `json:"-"`
		}
		res := e.send(t, http.MethodGet, fmt.Sprintf("/api/v1/persons/%d/export", id), e.admin, "", "")
		decodeJSON(t, res, http.StatusOK, &exp)
		if exp.PersonID != id || len(exp.Persons) != 1 || len(exp.Identities) != 4 || len(exp.Consent) != 1 || len(exp.Stages) == 0 ||
			len(exp.Touchpoints) != 1 || len(exp.Events) != 2 || len(exp.Opps) != 1 || len(exp.Truncated) != 0 || exp.MaxRows != store.MaxExportRows {
			t.Fatalf("export: persons %d identities %d consent %d stages %d touchpoints %d events %d opps %d truncated %v",
				len(exp.Persons), len(exp.Identities), len(exp.Consent), len(exp.Stages), len(exp.Touchpoints), len(exp.Events), len(exp.Opps), exp.Truncated)
		}
		if p, _ := exp.Events[1]["payload"].(map[string]any); p == nil || fmt.Sprint(p["traits"]) == "" || !strings.Contains(fmt.Sprint(p["traits"]), "13812345679") {
			t.Fatalf("export event payload %v", exp.Events[1]["payload"])
		}
		if res := e.send(t, http.MethodGet, "/api/v1/persons/999999/export", e.admin, "", ""); res.StatusCode != http.StatusNotFound {
			t.Fatalf("export of an unknown person: %d", res.StatusCode)
		}

		// Erasure is for admins; a merged person is erased through its survivor.
		if res := e.send(t, http.MethodDelete, fmt.Sprintf("/api/v1/persons/%d", id), e.marketer, "", ""); res.StatusCode != http.StatusForbidden {
			t.Fatalf("a marketer erased a person: %d", res.StatusCode)
		}
		rc := e.erase(t, id)
		if rc.PersonID != id || !strings.Contains(rc.Actor, "admin") || rc.Removed["events"] != 2 || rc.Removed["identities"] != 4 ||
			rc.Removed["touchpoints"] != 1 || rc.Removed["persons"] != 1 || rc.Removed["consents"] != 1 || rc.Removed["stage_changes"] == 0 ||
			rc.Detached["opportunity_contacts"] != 1 || rc.Suppressed < 4 || rc.FinishedAt.IsZero() {
			t.Fatalf("receipt %+v", rc)
		}
		if _, code := e.personByIdentifier(t, "email:li@acme.cn"); code != http.StatusNotFound {
			t.Fatalf("erased person still found: %d", code)
		}
		for _, q := range []string{
			"SELECT COUNT(*) FROM events WHERE anonymous_id = 'anon-e' OR user_id = 'crm-9' OR payload LIKE '%li@acme.cn%'",
			"SELECT COUNT(*) FROM identities WHERE value IN ('anon-e', 'crm-9', 'li@acme.cn', '+8613812345679')",
			fmt.Sprintf("SELECT COUNT(*) FROM touchpoints WHERE person_id = %d OR anonymous_id = 'anon-e'", id),
			fmt.Sprintf("SELECT COUNT(*) FROM stage_changes WHERE person_id = %d", id),
			fmt.Sprintf("SELECT COUNT(*) FROM person_changes WHERE person_id = %d", id),
		} {
			if n := e.count(t, q); n != 0 {
				t.Errorf("%s: %d rows left", q, n)
			}
		}
		// What reports need stays, without the person.
		if n := e.count(t, "SELECT COUNT(*) FROM opportunities WHERE id = 9001"); n != 1 {
			t.Fatalf("the opportunity went with the person")
		}
		if n := e.count(t, fmt.Sprintf("SELECT COUNT(*) FROM opportunity_contacts WHERE person_id = %d", keep)); n != 1 {
			t.Fatalf("the other contact went too")
		}
		if got, _ := e.personByIdentifier(t, "email:han@acme.cn"); got != keep {
			t.Fatalf("the other person of the account is gone")
		}
		// The identifiers are not collected again, alone or together.
		before := e.count(t, "SELECT COUNT(*) FROM events")
		e.track(t, "/v1/identify", `{"anonymousId":"new-device","traits":{"phone":"+86 138 1234 5679"}}`)
		e.track(t, "/v1/track", `{"anonymousId":"anon-e","event":"Back"}`)
		e.track(t, "/v1/track", `{"userId":"crm-9","event":"Back"}`)
		if after := e.count(t, "SELECT COUNT(*) FROM events"); after != before {
			t.Fatalf("events of erased identifiers stored: %d → %d", before, after)
		}
		var list struct {
			Erasures []model.ErasureReceipt `json:"erasures"`
		}
		decodeJSON(t, e.send(t, http.MethodGet, "/api/v1/privacy/erasures", e.admin, "", ""), http.StatusOK, &list)
		if len(list.Erasures) != 1 || list.Erasures[0].Removed["events"] != 2 || list.Erasures[0].PersonID != id {
			t.Fatalf("erasures %+v", list.Erasures)
		}
		if res := e.send(t, http.MethodDelete, fmt.Sprintf("/api/v1/persons/%d", id), e.admin, "", ""); res.StatusCode != http.StatusNotFound {
			t.Fatalf("second erasure: %d", res.StatusCode)
		}
	})
}

// A merged person is erased with its survivor: erasing the merged-away
// one names the survivor; erasing the survivor takes both.
func TestPrivacyEraseMergedPerson(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newPrivacyEnv(t, s)
		e.track(t, "/v1/identify", `{"anonymousId":"m-1","traits":{"email":"zhao@acme.cn"}}`)
		e.track(t, "/v1/identify", `{"anonymousId":"m-2","traits":{"phone":"13912345670"}}`)
		a, _ := e.personByIdentifier(t, "email:zhao@acme.cn")
		b, _ := e.personByIdentifier(t, "anonymous_id:m-2")
		if _, err := s.MergePersons(ctx, a, b, "same person", "test"); err != nil {
			t.Fatal(err)
		}
		res := e.send(t, http.MethodDelete, fmt.Sprintf("/api/v1/persons/%d", b), e.admin, "", "")
		if body := bodyOf(t, res); res.StatusCode != http.StatusConflict || !strings.Contains(body, fmt.Sprintf("merged into person %d", a)) {
			t.Fatalf("erase merged: %d %s", res.StatusCode, body)
		}
		if rc := e.erase(t, a); len(rc.Persons) != 2 || rc.Removed["persons"] != 2 || rc.Removed["person_merges"] != 1 {
			t.Fatalf("receipt %+v", rc)
		}
		if n := e.count(t, fmt.Sprintf("SELECT COUNT(*) FROM persons WHERE id IN (%d, %d)", a, b)); n != 0 {
			t.Fatalf("%d persons left", n)
		}
	})
}

// Turning collector.anonymize_ip on anonymises the addresses already
// stored, in the column and in the payload; the retention setting is
// validated.
func TestPrivacyAnonymizeStoredAddresses(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newPrivacyEnv(t, s)
		var on bool
		if ok, err := s.Setting(ctx, collect.SettingAnonymizeIP, &on); err != nil || !ok || !on {
			t.Fatalf("a new database does not anonymise addresses: %v %v %v", ok, on, err)
		}
		e.putSetting(t, e.admin, collect.SettingAnonymizeIP, "false")
		e.track(t, "/v1/track", `{"anonymousId":"ip-1","event":"x","context":{"ip":"203.0.113.99"}}`)
		if n := e.count(t, "SELECT COUNT(*) FROM events WHERE payload LIKE '%203.0.113.99%'"); n != 1 {
			t.Fatalf("address not stored as sent")
		}
		e.putSetting(t, e.admin, collect.SettingAnonymizeIP, "true")
		deadline := time.Now().Add(10 * time.Second)
		for e.count(t, "SELECT COUNT(*) FROM events WHERE payload LIKE '%203.0.113.99%' OR ip = '203.0.113.99'") != 0 {
			if time.Now().After(deadline) {
				t.Fatal("stored addresses not anonymised")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM events WHERE ip = '203.0.113.0' AND payload LIKE '%203.0.113.0%'"); n != 1 {
			t.Fatalf("anonymised address not stored")
		}
		for _, c := range []struct {
			value string
			code  int
		}{{"30", 200}, {"0", 200}, {"-1", 400}, {"36501", 400}, {`"30"`, 400}} {
			if res := e.send(t, http.MethodPut, "/api/v1/settings/"+privacy.SettingRetentionDays, e.admin, "application/json", c.value); res.StatusCode != c.code {
				t.Errorf("retention %s: %d, want %d", c.value, res.StatusCode, c.code)
			}
		}
	})
}

// The hourly privacy task strips the payloads of processed events older
// than collector.retention_days and keeps their touchpoints.
func TestPrivacyTaskAppliesRetention(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newPrivacyEnv(t, s)
		e.track(t, "/v1/page", `{"anonymousId":"old-1","properties":{"url":"https://www.revloop.cn/?utm_source=baidu&utm_medium=cpc"},"context":{"page":{"url":"https://www.revloop.cn/?utm_source=baidu&utm_medium=cpc"},"traits":{"email":"old@acme.cn"}}}`)
		e.track(t, "/v1/page", `{"anonymousId":"new-1","context":{"traits":{"email":"new@acme.cn"}}}`)
		db := rawDB(t, s)
		old := time.Now().UTC().AddDate(0, 0, -40).Format("2006-01-02 15:04:05")
		if _, err := db.ExecContext(ctx, "UPDATE events SET received_at = '"+old+"' WHERE anonymous_id = 'old-1'"); err != nil {
			t.Fatal(err)
		}
		touches := e.count(t, "SELECT COUNT(*) FROM touchpoints")
		if err := privacy.Maintain(ctx, s, time.Now(), slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM events WHERE payload = '{}'"); n != 0 {
			t.Fatalf("retention 0 stripped %d events", n)
		}
		e.putSetting(t, e.admin, privacy.SettingRetentionDays, "30")
		if err := privacy.Maintain(ctx, s, time.Now(), slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM events WHERE anonymous_id = 'old-1' AND payload = '{}' AND ip = '' AND user_agent = '' AND url <> ''"); n != 1 {
			t.Fatalf("old event not stripped")
		}
		if n := e.count(t, "SELECT COUNT(*) FROM events WHERE payload LIKE '%new@acme.cn%'"); n != 1 {
			t.Fatalf("new event stripped")
		}
		if n := e.count(t, "SELECT COUNT(*) FROM touchpoints"); n != touches || n == 0 {
			t.Fatalf("touchpoints %d → %d", touches, n)
		}
	})
}
