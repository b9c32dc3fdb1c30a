package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Accounts as the accounts list and an account's page read them: the
// account rows by keyset on (name, id), and the figures of a page's
// accounts from their people, opportunities and touches, each bounded by
// the account (persons_account_stage, opportunities_account,
// touchpoints_person_time).

// AccountQuery filters and pages the accounts list.
type AccountQuery struct {
	Q        string // in name, English name or domain, any case
	Industry string
	Tier     string
	OwnerID  int64
	// After is the (name, id) of the last row of the previous page.
	AfterName string
	AfterID   int64
	Limit     int
}

// AccountRow is an account with its owner's name.
type AccountRow struct {
	ID                   int64
	Name, NameEN, Domain string
	Industry, SizeBand   string
	Employees            int
	Region, City, Tier   string
	OwnerID              int64
	Owner                string
	CreatedAt            time.Time
}

const accountCols = `a.id, a.name, a.name_en, a.domain, a.industry, a.size_band, a.employees, a.region, a.city, a.tier,
	COALESCE(a.owner_id, 0), COALESCE(CASE WHEN u.name <> '' THEN u.name ELSE u.email END, ''), a.created_at`

func scanAccount(r rowScanner) (AccountRow, error) {
	var a AccountRow
	err := r.Scan(&a.ID, &a.Name, &a.NameEN, &a.Domain, &a.Industry, &a.SizeBand, &a.Employees, &a.Region, &a.City, &a.Tier,
		&a.OwnerID, &a.Owner, &a.CreatedAt)
	if err == sql.ErrNoRows {
		return a, ErrNotFound
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return a, err
}

// Accounts lists at most q.Limit accounts after q's cursor, by name then
// id.
func (s *Store) Accounts(ctx context.Context, q AccountQuery) ([]AccountRow, error) {
	where, args := s.accountWhere(q)
	where = "(a.name > ? OR (a.name = ? AND a.id > ?)) AND " + where
	args = append([]any{q.AfterName, q.AfterName, q.AfterID}, args...)
	args = append(args, q.Limit)
	if strings.TrimSpace(q.Q) != "" {
		args = s.planPerText(args)
	}
	return orEmpty(scanAll(ctx, s, s.r, "SELECT "+accountCols+" FROM accounts a LEFT JOIN users u ON u.id = a.owner_id WHERE "+
		where+" ORDER BY a.name, a.id LIMIT ?", args, scanAccount))
}

// CountAccounts counts the accounts q's filters match (its cursor and
// limit aside).
func (s *Store) CountAccounts(ctx context.Context, q AccountQuery) (int64, error) {
	where, args := s.accountWhere(q)
	if strings.TrimSpace(q.Q) != "" {
		args = s.planPerText(args)
	}
	var n int64
	err := s.r.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM accounts a WHERE "+where), args...).Scan(&n)
	return n, err
}

// accountWhere is the condition of q's filters on accounts a.
func (s *Store) accountWhere(q AccountQuery) (string, []any) {
	where := []string{"1 = 1"}
	var args []any
	if v := strings.TrimSpace(q.Q); v != "" {
		// The persons search's match and indexes (personsearch.go).
		cond, cargs := s.accountTextCond(v)
		where, args = append(where, "("+cond+")"), append(args, cargs...)
	}
	if q.Industry != "" {
		where = append(where, "a.industry = ?")
		args = append(args, q.Industry)
	}
	if q.Tier != "" {
		where = append(where, "a.tier = ?")
		args = append(args, q.Tier)
	}
	if q.OwnerID != 0 {
		where = append(where, "a.owner_id = ?")
		args = append(args, q.OwnerID)
	}
	return strings.Join(where, " AND "), args
}

// AccountByID finds an account.
func (s *Store) AccountByID(ctx context.Context, id int64) (AccountRow, error) {
	return scanAccount(s.r.QueryRowContext(ctx, s.q("SELECT "+accountCols+" FROM accounts a LEFT JOIN users u ON u.id = a.owner_id WHERE a.id = ?"), id))
}

// AccountFacets are the industries and tiers the filters offer.
func (s *Store) AccountFacets(ctx context.Context) (industries, tiers []string, err error) {
	if industries, err = scanAll(ctx, s, s.r, distinctValues("accounts", "industry"), nil, scanValue[string]); err != nil {
		return nil, nil, err
	}
	tiers, err = scanAll(ctx, s, s.r, distinctValues("accounts", "tier"), nil, scanValue[string])
	return industries, tiers, err
}

// distinctValues is a query for the distinct non-empty values of an
// indexed text column, in order: one index lookup per value (the next
// after the last) rather than a read of every row.
func distinctValues(table, col string) string {
	return fmt.Sprintf(`WITH RECURSIVE v(x) AS (
		SELECT MIN(%[2]s) FROM %[1]s WHERE %[2]s > ''
		UNION ALL
		SELECT (SELECT MIN(%[2]s) FROM %[1]s WHERE %[2]s > v.x) FROM v WHERE v.x IS NOT NULL)
		SELECT x FROM v WHERE x IS NOT NULL ORDER BY x`, table, col)
}

// AccountStats are an account's figures over a window.
type AccountStats struct {
	People       int64
	Leads        int64 // its people who became leads in the window
	MQLs         int64 // of them, reached MQL or later by now
	OpenPipeline model.Money
	WonRevenue   model.Money
	LastTouch    *time.Time
	Engagement   int64 // its people's touches in the 90 days to the window's end
}

// EngagementDays is how far back an account's engagement counts.
const EngagementDays = 90

// AccountStatsOf computes the figures of the given accounts over [from, to).
func (s *Store) AccountStatsOf(ctx context.Context, ids []int64, from, to time.Time) (map[int64]*AccountStats, error) {
	out := map[int64]*AccountStats{}
	for _, id := range ids {
		out[id] = &AccountStats{}
	}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList("p.account_id", ids)
	mqlPlus := stageListSQL(model.StageMQL)
	err := s.each(ctx, `SELECT p.account_id, COUNT(*),
		SUM(CASE WHEN p.lead_at >= ? AND p.lead_at < ? THEN 1 ELSE 0 END),
		SUM(CASE WHEN p.lead_at >= ? AND p.lead_at < ? AND EXISTS (SELECT 1 FROM stage_changes sc WHERE sc.person_id = p.id AND sc.to_stage IN (`+mqlPlus+`)) THEN 1 ELSE 0 END)
		FROM persons p WHERE `+in+` AND p.merged_into_id IS NULL GROUP BY p.account_id`,
		append([]any{utc(from), utc(to), utc(from), utc(to)}, args...), func(r *sql.Rows) error {
			var id, people, leads, mqls int64
			if err := r.Scan(&id, &people, &leads, &mqls); err != nil {
				return err
			}
			st := out[id]
			st.People, st.Leads, st.MQLs = people, leads, mqls
			return nil
		})
	if err != nil {
		return nil, err
	}
	oin, oargs := inList("o.account_id", ids)
	err = s.each(ctx, `SELECT o.account_id,
		COALESCE(SUM(CASE WHEN o.created_at < ? AND (o.closed_at IS NULL OR o.closed_at >= ?) THEN o.amount_fen ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN o.stage = 'closed_won' AND o.closed_at >= ? AND o.closed_at < ? THEN o.amount_fen ELSE 0 END), 0)
		FROM opportunities o WHERE `+oin+` GROUP BY o.account_id`, append([]any{utc(to), utc(to), utc(from), utc(to)}, oargs...), func(r *sql.Rows) error {
		var id, open, won int64
		if err := r.Scan(&id, &open, &won); err != nil {
			return err
		}
		out[id].OpenPipeline, out[id].WonRevenue = model.Money(open), model.Money(won)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Touches of each account's people, through the (person, time) index.
	since := to.AddDate(0, 0, -EngagementDays)
	err = s.each(ctx, `SELECT p.account_id, MAX(t.occurred_at), SUM(CASE WHEN t.occurred_at >= ? THEN 1 ELSE 0 END)
		FROM persons p JOIN touchpoints t ON t.person_id = p.id AND t.occurred_at < ?
		WHERE `+in+` GROUP BY p.account_id`, append([]any{utc(since), utc(to)}, args...), func(r *sql.Rows) error {
		var id, n int64
		var last storedTime // an aggregate: SQLite gives it as text
		if err := r.Scan(&id, &last, &n); err != nil {
			return err
		}
		if !last.t.IsZero() {
			t := last.t.UTC()
			out[id].LastTouch = &t
		}
		out[id].Engagement = n
		return nil
	})
	return out, err
}

// stageListSQL is the quoted list of stage and every later lifecycle
// stage.
func stageListSQL(from model.Stage) string {
	var parts []string
	for _, st := range model.LifecycleStages {
		if st.Rank() >= from.Rank() {
			parts = append(parts, "'"+string(st)+"'")
		}
	}
	return strings.Join(parts, ", ")
}

// AccountPerson is a person of an account.
type AccountPerson struct {
	ID                 int64
	Name, Email, Title string
	Stage              model.Stage
	Grade              string
	Score              float64
	Owner              string
	FirstTouchChannel  string
	LeadAt             *time.Time
}

// AccountPeople lists an account's people (at most limit), furthest stage
// first.
func (s *Store) AccountPeople(ctx context.Context, id int64, limit int) ([]AccountPerson, error) {
	return scanAll(ctx, s, s.r, `SELECT p.id, p.name, p.email, p.title, p.stage, p.grade, p.score,
		COALESCE(CASE WHEN u.name <> '' THEN u.name ELSE u.email END, ''), p.first_touch_channel, p.lead_at
		FROM persons p LEFT JOIN users u ON u.id = p.owner_id WHERE p.account_id = ? AND p.merged_into_id IS NULL
		ORDER BY p.score DESC, p.id LIMIT ?`, []any{id, limit}, func(r rowScanner) (AccountPerson, error) {
		var p AccountPerson
		var lead sql.NullTime
		err := r.Scan(&p.ID, &p.Name, &p.Email, &p.Title, &p.Stage, &p.Grade, &p.Score, &p.Owner, &p.FirstTouchChannel, &lead)
		if lead.Valid {
			t := lead.Time.UTC()
			p.LeadAt = &t
		}
		return p, err
	})
}

// AccountTouchTimes calls fn with the time and channel of every touch of
// an account's people in [from, to).
func (s *Store) AccountTouchTimes(ctx context.Context, id int64, from, to time.Time, fn func(at time.Time, channel string)) error {
	return s.each(ctx, `SELECT t.occurred_at, t.channel FROM persons p JOIN touchpoints t ON t.person_id = p.id
		WHERE p.account_id = ? AND t.occurred_at >= ? AND t.occurred_at < ?`, []any{id, utc(from), utc(to)}, func(r *sql.Rows) error {
		var at time.Time
		var ch string
		if err := r.Scan(&at, &ch); err != nil {
			return err
		}
		fn(at.UTC(), ch)
		return nil
	})
}

// AccountOpportunity is an opportunity of an account with its primary
// contact, the channel of that contact's first touch, and the channel the
// first-touch model credits.
type AccountOpportunity struct {
	ID                  int64
	Name, Stage, Owner  string
	Amount              model.Money
	CreatedAt           time.Time
	ClosedAt            *time.Time
	PrimaryID           int64
	Primary             string
	PrimaryFirstChannel string
	FirstTouchChannel   string // of the first-touch model's credited touch; "" when not credited
}

// AccountOpportunities lists an account's opportunities, newest first.
func (s *Store) AccountOpportunities(ctx context.Context, id int64) ([]AccountOpportunity, error) {
	return scanAll(ctx, s, s.r, `SELECT o.id, o.name, o.stage, COALESCE(CASE WHEN u.name <> '' THEN u.name ELSE u.email END, ''), o.amount_fen, o.created_at, o.closed_at,
		COALESCE(p.id, 0), COALESCE(CASE WHEN p.name <> '' THEN p.name ELSE p.email END, ''), COALESCE(p.first_touch_channel, ''),
		COALESCE((SELECT ac.channel FROM attribution_credits ac WHERE ac.kind = 'opportunity' AND ac.conversion_id = o.id AND ac.first_touch > 0 ORDER BY ac.first_touch DESC LIMIT 1), '')
		FROM opportunities o LEFT JOIN users u ON u.id = o.owner_id
		LEFT JOIN opportunity_contacts oc ON oc.opportunity_id = o.id AND oc.is_primary = `+s.boolLit(true)+`
		LEFT JOIN persons p ON p.id = oc.person_id
		WHERE o.account_id = ? ORDER BY o.created_at DESC, o.id DESC`, []any{id}, func(r rowScanner) (AccountOpportunity, error) {
		var o AccountOpportunity
		var closed sql.NullTime
		err := r.Scan(&o.ID, &o.Name, &o.Stage, &o.Owner, &o.Amount, &o.CreatedAt, &closed, &o.PrimaryID, &o.Primary, &o.PrimaryFirstChannel, &o.FirstTouchChannel)
		o.CreatedAt = o.CreatedAt.UTC()
		if closed.Valid {
			t := closed.Time.UTC()
			o.ClosedAt = &t
		}
		return o, err
	})
}

// boolLit is a boolean literal of the dialect.
func (s *Store) boolLit(b bool) string {
	switch {
	case s.dialect == Postgres && b:
		return "TRUE"
	case s.dialect == Postgres:
		return "FALSE"
	case b:
		return "1"
	}
	return "0"
}

// AccountOrder is an order of an account.
type AccountOrder struct {
	ID            int64
	OpportunityID int64
	Amount        model.Money
	OrderedAt     time.Time
}

// AccountOrders lists an account's orders, newest first.
func (s *Store) AccountOrders(ctx context.Context, id int64) ([]AccountOrder, error) {
	return scanAll(ctx, s, s.r, `SELECT id, COALESCE(opportunity_id, 0), amount_fen, ordered_at FROM orders WHERE account_id = ? ORDER BY ordered_at DESC, id DESC`,
		[]any{id}, func(r rowScanner) (AccountOrder, error) {
			var o AccountOrder
			err := r.Scan(&o.ID, &o.OpportunityID, &o.Amount, &o.OrderedAt)
			o.OrderedAt = o.OrderedAt.UTC()
			return o, err
		})
}
