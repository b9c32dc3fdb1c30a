package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// The facts of the employee promotion (全员营销) leaderboard: the links
// each employee shared, the touches that name them as promoter, the leads
// whose first touch named them, and the stored credits of those touches.
// A campaign id above 0 narrows each to that campaign (the link's, the
// touch's, the first touch's). docs/metrics.md ("Employee promotion")
// defines the figures; report.Promotion sums them.

// Employee is a user as the leaderboard lists them.
type Employee struct {
	ID       int64
	Email    string
	Name     string
	Team     string
	Role     model.Role
	Disabled bool
}

// MaxEmployees bounds the users the leaderboard reads.
const MaxEmployees = 100_000

// Employees lists every user with their team, by id.
func (s *Store) Employees(ctx context.Context) ([]Employee, error) {
	return scanAll(ctx, s, s.r, `SELECT id, email, name, team, role, disabled_at IS NOT NULL FROM users ORDER BY id LIMIT ?`,
		[]any{MaxEmployees}, func(r rowScanner) (Employee, error) {
			var e Employee
			err := r.Scan(&e.ID, &e.Email, &e.Name, &e.Team, &e.Role, &e.Disabled)
			return e, err
		})
}

// PromoterLinksCreated counts the tracked links with a promoter created in
// w, by promoter.
func (s *Store) PromoterLinksCreated(ctx context.Context, w model.Window, campaignID int64) (map[int64]int64, error) {
	cond, args := windowClause(w, "created_at")
	if campaignID > 0 {
		cond += " AND campaign_id = ?"
		args = append(args, campaignID)
	}
	out := map[int64]int64{}
	err := s.each(ctx, `SELECT promoter_id, COUNT(*) FROM tracked_links WHERE promoter_id IS NOT NULL AND `+cond+` GROUP BY promoter_id`, args,
		func(r *sql.Rows) error {
			var id, n int64
			err := r.Scan(&id, &n)
			out[id] = n
			return err
		})
	return out, err
}

// PromoterVisit is one visitor of one promoter in a window: how many of
// the visitor's touches named the promoter.
type PromoterVisit struct {
	Promoter, Person int64 // Person 0: touches of no person
	Touches          int64
}

// PromoterVisits calls fn with every (promoter, visitor) pair of the
// touches in w that name a promoter. It reads those touches alone
// (touchpoints_promoter_time holds them with the columns it needs).
func (s *Store) PromoterVisits(ctx context.Context, w model.Window, campaignID int64, fn func(PromoterVisit) error) error {
	cond, args := windowClause(w, "occurred_at")
	if campaignID > 0 {
		cond += " AND campaign_id = ?"
		args = append(args, campaignID)
	}
	return s.each(ctx, `SELECT promoter_id, COALESCE(person_id, 0), COUNT(*) FROM touchpoints
		WHERE promoter_id IS NOT NULL AND `+cond+` GROUP BY promoter_id, COALESCE(person_id, 0)`, args, func(r *sql.Rows) error {
		var v PromoterVisit
		if err := r.Scan(&v.Promoter, &v.Person, &v.Touches); err != nil {
			return err
		}
		return fn(v)
	})
}

// PromoterLead is a lead whose first touch named a promoter.
type PromoterLead struct {
	Promoter, Person int64
	LeadAt           time.Time
	// MQL: the person has reached MQL or a later stage by now (a stage
	// change into mql, sql, opportunity or customer).
	MQL bool
}

// PromoterLeads calls fn with the persons (not merged away) who became
// leads in w and whose first touch — the earliest, the lower id on a tie —
// named a promoter and came at or before they became leads.
func (s *Store) PromoterLeads(ctx context.Context, w model.Window, campaignID int64, fn func(PromoterLead) error) error {
	cond, args := windowClause(w, "p.lead_at")
	if campaignID > 0 {
		cond += " AND t.campaign_id = ?"
		args = append(args, campaignID)
	}
	// Only persons with a promoter touch before the window ends can be
	// such leads: found from the promoter touches' index, they spare the
	// first-touch lookup of every other lead of the window.
	candidates := "1=1"
	if !w.To.IsZero() {
		candidates = "y.occurred_at < ?"
		args = append(args, utc(w.To))
	}
	return s.each(ctx, `SELECT t.promoter_id, p.id, p.lead_at, CASE WHEN EXISTS (SELECT 1 FROM stage_changes sc WHERE sc.person_id = p.id
			AND sc.to_stage IN ('mql', 'sql', 'opportunity', 'customer')) THEN 1 ELSE 0 END
		FROM persons p JOIN touchpoints t ON t.id = (SELECT x.id FROM touchpoints x WHERE x.person_id = p.id ORDER BY x.occurred_at, x.id LIMIT 1)
		WHERE p.lead_at IS NOT NULL AND p.merged_into_id IS NULL AND t.promoter_id IS NOT NULL AND t.occurred_at <= p.lead_at AND `+cond+`
		AND p.id IN (SELECT y.person_id FROM touchpoints y WHERE y.promoter_id IS NOT NULL AND `+candidates+`)`,
		args, func(r *sql.Rows) error {
			var l PromoterLead
			var mql int
			if err := r.Scan(&l.Promoter, &l.Person, &l.LeadAt, &mql); err != nil {
				return err
			}
			l.LeadAt, l.MQL = l.LeadAt.UTC(), mql != 0
			return fn(l)
		})
}

// PromoterCredits sums the stored credits of one model column (an index
// into CreditColumns) over the conversions of kind in w, by the promoter
// their credited touches name (as the touchpoints say now): the promoter
// roll-up of StoredCredits, narrowed to the touches of a campaign when
// campaignID is above 0. Values are fen, before rounding.
func (s *Store) PromoterCredits(ctx context.Context, kind model.ConversionKind, column int, w model.Window, campaignID int64) (map[int64]float64, error) {
	if column < 0 || column >= NumCreditModels {
		return nil, fmt.Errorf("promoter credits: unknown model column %d", column)
	}
	if kind != model.ConvOpportunity && kind != model.ConvWon && kind != model.ConvOrder {
		return nil, fmt.Errorf("promoter credits: conversion kind %q has no value", kind)
	}
	convQ, args := storedConversionsSQL(kind, w, "")
	col := "c." + CreditColumns[column]
	campaign := ""
	args = append(args, string(kind))
	if campaignID > 0 {
		campaign = " AND t.campaign_id = ?"
		args = append(args, campaignID)
	}
	// As StoredCredits: the conversions outside, their credits by primary
	// key inside, each touch by primary key.
	out := map[int64]float64{}
	err := s.each(ctx, `WITH conv AS MATERIALIZED (`+convQ+`)
		SELECT t.promoter_id, SUM(`+col+` * conv.value_fen)
		FROM conv CROSS JOIN attribution_credits c JOIN touchpoints t ON t.id = c.touch_id
		WHERE c.kind = ? AND c.conversion_id = conv.conversion_id AND t.promoter_id IS NOT NULL`+campaign+`
		GROUP BY t.promoter_id`, args, func(r *sql.Rows) error {
		var id int64
		var fen float64
		err := r.Scan(&id, &fen)
		out[id] = fen
		return err
	})
	return out, err
}

// LiveShareLink finds a user's newest live (not revoked) tracked link of
// a campaign that names them as promoter and carries no card id: their
// share link. ErrNotFound when they have none.
func (s *Store) LiveShareLink(ctx context.Context, campaignID, userID int64) (model.TrackedLink, error) {
	return scanLink(s.w.QueryRowContext(ctx, s.q(linkSelect+` WHERE l.promoter_id = ? AND l.campaign_id = ? AND l.revoked_at IS NULL
		AND l.card_id = '' ORDER BY l.id DESC LIMIT 1`), userID, campaignID))
}

// MaxShareLinks bounds the links a user's list shows, newest first.
const MaxShareLinks = 1000

// PromoterLinks lists the tracked links that name a user as promoter,
// newest first, at most limit.
func (s *Store) PromoterLinks(ctx context.Context, userID int64, limit int) ([]model.TrackedLink, error) {
	return scanAll(ctx, s, s.r, linkSelect+" WHERE l.promoter_id = ? ORDER BY l.id DESC LIMIT ?", []any{userID, limit},
		func(r rowScanner) (model.TrackedLink, error) { return scanLink(r) })
}
