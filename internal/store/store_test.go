package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/rollup"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var ctx = context.Background()

func TestMigrateIsIdempotentAndVersioned(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		cur, latest, err := s.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur != latest || latest < 1 {
			t.Fatalf("version %d, latest %d", cur, latest)
		}
	})
}

func TestNewerSchemaIsRefused(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		// Pretend a newer revloop migrated this database.
		if err := s.ExecForTest(ctx, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, ?)", true); err != nil {
			t.Fatal(err)
		}
		err := s.Migrate(ctx)
		if !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("want ErrSchemaTooNew, got %v", err)
		}
		if !strings.Contains(err.Error(), "9999") {
			t.Fatalf("error should name the version: %v", err)
		}
	})
}

func TestOpenRejectsBadDSN(t *testing.T) {
	notDB := filepath.Join(t.TempDir(), "not.db")
	os.WriteFile(notDB, []byte(strings.Repeat("this is not a database\n", 100)), 0o644)
	cases := []struct{ dsn, want string }{
		{"", "no database given"},
		{"mysql://u:secret@h/db", "unsupported database"},
		{"/no/such/dir/x.db", "does not exist"},
		{t.TempDir(), "is a directory"},
		{notDB, "cannot open SQLite"},
		{"postgres://u:secret@127.0.0.1:1/db?connect_timeout=2", "cannot reach PostgreSQL"},
	}
	for _, c := range cases {
		s, err := store.Open(ctx, c.dsn)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", c.dsn)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%q) = %v, want %q", c.dsn, err, c.want)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q) leaks the password: %v", c.dsn, err)
		}
	}
}

func TestUsersSessionsAndKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		now := time.Date(2026, 3, 1, 8, 30, 15, 123456789, time.FixedZone("CST", 8*3600))
		id, err := s.CreateUser(ctx, model.User{Email: "li.na@example.cn", Name: "李娜", Role: model.RoleMarketer, PasswordHash: "h", CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, model.User{Email: "li.na@example.cn", Role: model.RoleViewer, CreatedAt: now}); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("duplicate email: %v", err)
		}
		u, err := s.UserByEmail(ctx, " LI.NA@example.cn ")
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != id || u.Name != "李娜" || u.Role != model.RoleMarketer {
			t.Fatalf("got %+v", u)
		}
		if want := now.UTC().Truncate(time.Microsecond); !u.CreatedAt.Equal(want) || u.CreatedAt.Location() != time.UTC {
			t.Fatalf("created_at %v, want %v in UTC", u.CreatedAt, want)
		}
		if _, err := s.UserByEmail(ctx, "nobody@example.cn"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing user: %v", err)
		}

		if err := s.CreateSession(ctx, model.Session{TokenHash: "abc", UserID: id, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.SessionUser(ctx, "abc", now.Add(30*time.Minute)); err != nil || got.ID != id {
			t.Fatalf("live session: %v %+v", err, got)
		}
		if _, err := s.SessionUser(ctx, "abc", now.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired session: %v", err)
		}
		if err := s.DeleteSession(ctx, "abc"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionUser(ctx, "abc", now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted session: %v", err)
		}

		kid, err := s.CreateAPIKey(ctx, model.APIKey{Name: "ci", Role: model.RoleAdmin, Prefix: "rl_ab", KeyHash: "kh", CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		k, err := s.APIKeyByHash(ctx, "kh")
		if err != nil || k.ID != kid || k.RevokedAt != nil {
			t.Fatalf("key: %v %+v", err, k)
		}
		if err := s.RevokeAPIKey(ctx, kid, now); err != nil {
			t.Fatal(err)
		}
		if k, _ = s.APIKeyByHash(ctx, "kh"); k.RevokedAt == nil {
			t.Fatal("key not revoked")
		}
		if err := s.RevokeAPIKey(ctx, 424242, now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoke unknown: %v", err)
		}
	})
}

func TestLoadIsAllOrNothing(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		boom := errors.New("boom")
		err := s.Load(ctx, func(l store.Loader) error {
			if err := l.Insert("accounts", []string{"id", "name", "created_at"}, [][]any{{int64(1), "华为", time.Now()}}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("got %v", err)
		}
		if empty, err := s.Empty(ctx); err != nil || !empty {
			t.Fatalf("failed load left data behind (empty=%v, err=%v)", empty, err)
		}
		loadFixture(t, s)
		err = s.Load(ctx, func(l store.Loader) error { return nil })
		if !errors.Is(err, store.ErrNotEmpty) {
			t.Fatalf("second load: %v", err)
		}
		// Ids keep counting after explicitly loaded ones.
		id, err := s.CreateUser(ctx, model.User{Email: "new@example.cn", Role: model.RoleViewer})
		if err != nil || id <= 2 {
			t.Fatalf("user after load: id %d, %v", id, err)
		}
	})
}

var day0 = time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)

func at(d, h int) time.Time { return day0.AddDate(0, 0, d).Add(time.Duration(h) * time.Hour) }

// loadFixture loads a tiny world whose figures are easy to count by hand:
// three people, two channels, one won deal.
func loadFixture(t *testing.T, s *store.Store) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table string, cols string, rows ...[]any) error {
			return l.Insert(table, strings.Split(cols, ","), rows)
		}
		steps := []error{
			ins("users", "id,email,role,created_at", []any{int64(1), "a@x.cn", "admin", day0}, []any{int64(2), "s@x.cn", "sales", day0}),
			ins("accounts", "id,name,created_at", []any{int64(1), "甲公司", day0}, []any{int64(2), "乙公司", day0}),
			ins("campaigns", "id,code,name,channel,platform,created_at",
				[]any{int64(1), "baidu-1", "百度搜索", "paid_search", "baidu", day0},
				[]any{int64(2), "web-1", "线上研讨会", "webinar", "", day0}),
			ins("persons", "id,account_id,stage,first_seen_at,first_touch_channel,first_touch_campaign,lead_at,created_at",
				[]any{int64(1), int64(1), "customer", at(0, 1), "paid_search", int64(1), at(1, 0), at(0, 1)},
				[]any{int64(2), int64(2), "mql", at(0, 2), "webinar", int64(2), at(2, 0), at(0, 2)},
				[]any{int64(3), nil, "visitor", at(0, 3), "paid_search", int64(1), nil, at(0, 3)}),
			ins("touchpoints", "id,person_id,occurred_at,type,channel,campaign_id",
				[]any{int64(1), int64(1), at(0, 1), "ad_click", "paid_search", int64(1)},
				[]any{int64(2), int64(1), at(1, 0), "webinar_attend", "webinar", int64(2)},
				[]any{int64(3), int64(2), at(0, 2), "webinar_register", "webinar", int64(2)},
				[]any{int64(4), int64(3), at(0, 3), "ad_click", "paid_search", int64(1)},
				[]any{int64(5), int64(3), at(40, 3), "page_view", "paid_search", int64(1)}),
			ins("daily_costs", "id,day,platform,campaign_id,impressions,clicks,cost_fen",
				[]any{int64(1), day0, "baidu", int64(1), int64(1000), int64(40), int64(123456)},
				[]any{int64(2), day0.AddDate(0, 0, 1), "baidu", int64(1), int64(900), int64(30), int64(100000)}),
			ins("opportunities", "id,account_id,name,owner_id,stage,amount_fen,created_at,closed_at",
				[]any{int64(1), int64(1), "甲公司 CDP", int64(2), "closed_won", int64(50000000), at(5, 0), at(30, 0)}),
			ins("opportunity_contacts", "opportunity_id,person_id,role,is_primary", []any{int64(1), int64(1), "decision_maker", true}),
			ins("orders", "id,opportunity_id,account_id,amount_fen,ordered_at", []any{int64(1), int64(1), int64(1), int64(48000000), at(30, 0)}),
			ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at",
				[]any{int64(1), int64(1), "visitor", "lead", at(1, 0)},
				[]any{int64(2), int64(1), "lead", "mql", at(2, 0)},
				[]any{int64(3), int64(1), "mql", "sql", at(3, 0)},
				[]any{int64(4), int64(1), "sql", "opportunity", at(5, 0)},
				[]any{int64(5), int64(1), "opportunity", "customer", at(30, 0)},
				[]any{int64(6), int64(2), "visitor", "lead", at(2, 0)},
				[]any{int64(7), int64(2), "lead", "mql", at(20, 0)}),
		}
		for _, e := range steps {
			if e != nil {
				return e
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReports(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadFixture(t, s)
		tot, err := s.Totals(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := store.Totals{Persons: 3, KnownPersons: 2, Accounts: 2, Touchpoints: 5, Campaigns: 2, Opportunities: 1, Orders: 1,
			WonRevenue: 48000000, Pipeline: 50000000, Cost: 223456}
		if tot != want {
			t.Fatalf("totals %+v\nwant   %+v", tot, want)
		}

		if _, err := rollup.Refresh(ctx, s, at(50, 0)); err != nil {
			t.Fatal(err)
		}
		cal := model.DefaultCalendar()
		rows, err := s.ChannelSummary(ctx, model.Period{Cal: cal})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].Channel != model.ChannelPaidSearch || rows[1].Channel != model.ChannelWebinar {
			t.Fatalf("rows %+v", rows)
		}
		// Leads count for their lead source: person 1 became a lead with
		// the webinar touch of that moment, not the ad click before it.
		ps := rows[0]
		if ps.Touchpoints != 3 || ps.Leads != 0 || ps.Cost != 223456 || ps.Opportunities != 1 || ps.Pipeline != 50000000 || ps.WonRevenue != 48000000 {
			t.Fatalf("paid search %+v", ps)
		}
		if w := rows[1]; w.Touchpoints != 2 || w.Leads != 2 || w.Cost != 0 || w.WonRevenue != 0 {
			t.Fatalf("webinar %+v", w)
		}
		// Team day 1 only (Asia/Shanghai: 16:00 UTC of day 0 to 16:00 of
		// day 1): one day of cost, the webinar touch and lead of day 1.
		day1 := cal.Day(at(1, 0))
		rows, _ = s.ChannelSummary(ctx, model.Period{From: day1, To: day1, Cal: cal})
		for _, r := range rows {
			if r.Channel == model.ChannelPaidSearch && (r.Cost != 100000 || r.Touchpoints != 0 || r.Leads != 0) {
				t.Fatalf("paid search on day 1: %+v", r)
			}
			if r.Channel == model.ChannelWebinar && (r.Touchpoints != 1 || r.Leads != 1) {
				t.Fatalf("webinar on day 1: %+v", r)
			}
		}
	})
}
