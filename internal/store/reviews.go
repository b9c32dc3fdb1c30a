package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Campaign reviews: targets, action items (each a task of its owner), the
// caller's tasks, and the facts a review reads beside the roll-ups (a
// campaign's leads with their lead source, its members' accounts, its
// promoters, the conversions it influenced, its leads' assignments).

// targetColumns are the review metrics whose target is a column of
// campaigns (the campaign form edits them too): one value, one place.
var targetColumns = []targetColumn{
	{model.MetricLeads, "target_leads", false},
	{model.MetricMQLs, "target_mqls", false},
	{model.MetricOpportunities, "target_opportunities", false},
	{model.MetricWonRevenue, "target_revenue_fen", true},
}

type targetColumn struct {
	metric, column string
	money          bool // fen; else a count
}

// isTargetColumn says whether a metric's target is a column of campaigns.
func isTargetColumn(metric string) bool {
	return slices.ContainsFunc(targetColumns, func(c targetColumn) bool { return c.metric == metric })
}

// ErrTooMany is a list that would grow past its bound.
var ErrTooMany = errors.New("too many")

// CampaignTargets reads a campaign's targets in the catalogue's order:
// those of the campaign's own target columns (0 there is no target) and
// those of campaign_targets. An unknown campaign is ErrNotFound.
func (s *Store) CampaignTargets(ctx context.Context, id int64) ([]model.CampaignTarget, int64, error) {
	return s.campaignTargets(ctx, s.r, id)
}

// rowQuerier reads from the read pool or inside a transaction.
type rowQuerier interface {
	querier
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) campaignTargets(ctx context.Context, q rowQuerier, id int64) ([]model.CampaignTarget, int64, error) {
	cols := make([]string, len(targetColumns))
	vals := make([]int64, len(targetColumns))
	dest := make([]any, 0, len(targetColumns)+1)
	for i, c := range targetColumns {
		cols[i] = c.column
		dest = append(dest, &vals[i])
	}
	var version int64
	dest = append(dest, &version)
	err := q.QueryRowContext(ctx, s.q("SELECT "+strings.Join(cols, ", ")+", version FROM campaigns WHERE id = ?"), id).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, err
	}
	byMetric := map[string]int64{}
	for i, c := range targetColumns {
		if vals[i] == 0 {
			continue
		}
		if c.money {
			byMetric[c.metric] = vals[i]
		} else {
			byMetric[c.metric] = vals[i] * 100
		}
	}
	err = s.eachOn(ctx, q, "SELECT metric, value FROM campaign_targets WHERE campaign_id = ?", []any{id}, func(r *sql.Rows) error {
		var m string
		var v int64
		if err := r.Scan(&m, &v); err != nil {
			return err
		}
		byMetric[m] = v
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	out := []model.CampaignTarget{}
	for _, m := range model.ReviewMetrics {
		if v, ok := byMetric[m.Key]; ok {
			out = append(out, model.CampaignTarget{Metric: m.Key, Value: v})
		}
	}
	return out, version, nil
}

// SetCampaignTargets replaces a campaign's targets with ts (metrics of the
// catalogue, each once, checked by the caller): the target columns take
// theirs (0 when absent), campaign_targets the rest. The campaign's
// version is bumped, as by any edit; with a version, the stored one must
// equal it (else ErrStale). It returns the targets as stored and the new
// version.
func (s *Store) SetCampaignTargets(ctx context.Context, id int64, ts []model.CampaignTarget, version *int64, now time.Time) ([]model.CampaignTarget, int64, error) {
	var out []model.CampaignTarget
	var newVersion int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var cur int64
		err := tx.QueryRowContext(ctx, s.q("SELECT version FROM campaigns WHERE id = ?"), id).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if version != nil && *version != cur {
			return ErrStale
		}
		given := map[string]int64{}
		for _, t := range ts {
			given[t.Metric] = t.Value
		}
		sets := []string{}
		args := []any{}
		for _, c := range targetColumns {
			v := given[c.metric]
			if !c.money {
				v /= 100
			}
			sets = append(sets, c.column+" = ?")
			args = append(args, v)
		}
		args = append(args, utc(now), id, cur)
		res, err := tx.ExecContext(ctx, s.q("UPDATE campaigns SET "+strings.Join(sets, ", ")+", updated_at = ?, version = version + 1 WHERE id = ? AND version = ?"), args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrStale
		}
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM campaign_targets WHERE campaign_id = ?"), id); err != nil {
			return err
		}
		for _, t := range ts {
			if isTargetColumn(t.Metric) {
				continue
			}
			if _, err := tx.ExecContext(ctx, s.q("INSERT INTO campaign_targets (campaign_id, metric, value) VALUES (?, ?, ?)"), id, t.Metric, t.Value); err != nil {
				return err
			}
		}
		out, newVersion, err = s.campaignTargets(ctx, tx, id)
		return err
	})
	return out, newVersion, err
}

const actionCols = `a.id, a.campaign_id, COALESCE(a.task_id, 0), a.action, a.owner_id, u.name, u.email, a.due_date, a.due_at,
	a.success, a.finding, a.status, a.created_by, a.created_at, a.updated_at, a.closed_at`

const actionFrom = ` FROM campaign_actions a JOIN users u ON u.id = a.owner_id`

func scanAction(r rowScanner) (model.CampaignAction, error) {
	var a model.CampaignAction
	var closed sql.NullTime
	var status string
	err := r.Scan(&a.ID, &a.CampaignID, &a.TaskID, &a.Action, &a.OwnerID, &a.OwnerName, &a.OwnerEmail, &a.Due, &a.DueAt,
		&a.Success, &a.Finding, &status, &a.CreatedBy, &a.CreatedAt, &a.UpdatedAt, &closed)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	a.Status = model.ActionStatus(status)
	a.Due = dateOf(a.Due)
	a.DueAt, a.CreatedAt, a.UpdatedAt = a.DueAt.UTC(), a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	a.ClosedAt = nullTimePtr(closed)
	return a, err
}

// CreateCampaignAction stores an action item and its owner's task (kind
// campaign_action, due at a.DueAt) in one transaction. An unknown
// campaign or owner is ErrNotFound; a campaign that already has max
// action items is ErrTooMany.
func (s *Store) CreateCampaignAction(ctx context.Context, a model.CampaignAction, max int) (model.CampaignAction, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM campaigns WHERE id = ?"), a.CampaignID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("campaign %d: %w", a.CampaignID, ErrNotFound)
		}
		if err := tx.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM users WHERE id = ?"), a.OwnerID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("owner %d: %w", a.OwnerID, ErrNotFound)
		}
		if err := tx.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM campaign_actions WHERE campaign_id = ?"), a.CampaignID).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return fmt.Errorf("campaign %d has %d action items: %w", a.CampaignID, n, ErrTooMany)
		}
		created := utc(a.CreatedAt)
		task, err := s.insertID(ctx, tx, `INSERT INTO tasks (kind, title, assignee_id, due_at, created_at) VALUES (?, ?, ?, ?, ?)`,
			model.TaskCampaignAction, clip(a.Action, 500), a.OwnerID, utc(a.DueAt), created)
		if err != nil {
			return err
		}
		if a.Status == "" {
			a.Status = model.ActionOpen
		}
		var closed any
		if a.Status != model.ActionOpen {
			at := created
			if a.ClosedAt != nil {
				at = utc(*a.ClosedAt)
			}
			closed = at
			if _, err := tx.ExecContext(ctx, s.q("UPDATE tasks SET done_at = ? WHERE id = ?"), at, task); err != nil {
				return err
			}
		}
		id, err := s.insertID(ctx, tx, `INSERT INTO campaign_actions (campaign_id, task_id, action, owner_id, due_date, due_at, success, finding,
			status, created_by, created_at, updated_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.CampaignID, task, a.Action, a.OwnerID, dateOf(a.Due), utc(a.DueAt), a.Success, a.Finding, string(a.Status), clip(a.CreatedBy, 200),
			created, created, closed)
		if err != nil {
			return err
		}
		a, err = scanAction(tx.QueryRowContext(ctx, s.q("SELECT "+actionCols+actionFrom+" WHERE a.id = ?"), id))
		return err
	})
	return a, err
}

// CampaignActions lists the action items of some campaigns, by campaign
// and then in the order they were recorded.
func (s *Store) CampaignActions(ctx context.Context, campaignIDs []int64) ([]model.CampaignAction, error) {
	if len(campaignIDs) == 0 {
		return []model.CampaignAction{}, nil
	}
	in, args := inList("a.campaign_id", campaignIDs)
	return orEmpty(scanAll(ctx, s, s.r, "SELECT "+actionCols+actionFrom+" WHERE "+in+" ORDER BY a.campaign_id, a.id", args, scanAction))
}

// CampaignAction reads one action item of a campaign.
func (s *Store) CampaignAction(ctx context.Context, campaignID, id int64) (model.CampaignAction, error) {
	return scanAction(s.r.QueryRowContext(ctx, s.q("SELECT "+actionCols+actionFrom+" WHERE a.id = ? AND a.campaign_id = ?"), id, campaignID))
}

// SetCampaignActionStatus moves an action item to a status: done or
// dropped closes it and its task (at now), open reopens both. Setting the
// status it has changes nothing. An unknown action is ErrNotFound.
func (s *Store) SetCampaignActionStatus(ctx context.Context, campaignID, id int64, status model.ActionStatus, now time.Time) (model.CampaignAction, error) {
	var a model.CampaignAction
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanAction(tx.QueryRowContext(ctx, s.q("SELECT "+actionCols+actionFrom+" WHERE a.id = ? AND a.campaign_id = ?"), id, campaignID))
		if err != nil {
			return err
		}
		if cur.Status != status {
			var closed any
			if status != model.ActionOpen {
				closed = utc(now)
			}
			if _, err := tx.ExecContext(ctx, s.q("UPDATE campaign_actions SET status = ?, closed_at = ?, updated_at = ? WHERE id = ?"),
				string(status), closed, utc(now), id); err != nil {
				return err
			}
			if cur.TaskID != 0 {
				if _, err := tx.ExecContext(ctx, s.q("UPDATE tasks SET done_at = ? WHERE id = ?"), closed, cur.TaskID); err != nil {
					return err
				}
			}
		}
		a, err = scanAction(tx.QueryRowContext(ctx, s.q("SELECT "+actionCols+actionFrom+" WHERE a.id = ?"), id))
		return err
	})
	return a, err
}

// UserTasks lists a user's tasks: the open ones (not done) the soonest due
// first, undated last; or, with done, those done, the latest first. At
// most limit.
func (s *Store) UserTasks(ctx context.Context, userID int64, done bool, limit int) ([]model.UserTask, error) {
	cond, order := "t.done_at IS NULL", "CASE WHEN t.due_at IS NULL THEN 1 ELSE 0 END, t.due_at, t.id"
	if done {
		cond, order = "t.done_at IS NOT NULL", "t.done_at DESC, t.id DESC"
	}
	return orEmpty(scanAll(ctx, s, s.r, `SELECT t.id, t.kind, t.title, COALESCE(t.person_id, 0), COALESCE(t.opportunity_id, 0), COALESCE(t.assignee_id, 0),
		t.due_at, t.done_at, t.created_at, COALESCE(a.campaign_id, 0), COALESCE(c.name, ''), COALESCE(c.name_en, ''), COALESCE(a.id, 0),
		COALESCE(p.name, ''), COALESCE(o.name, '')
		FROM tasks t LEFT JOIN campaign_actions a ON a.task_id = t.id LEFT JOIN campaigns c ON c.id = a.campaign_id
		LEFT JOIN persons p ON p.id = t.person_id LEFT JOIN opportunities o ON o.id = t.opportunity_id
		WHERE t.assignee_id = ? AND `+cond+` ORDER BY `+order+` LIMIT ?`, []any{userID, limit}, func(r rowScanner) (model.UserTask, error) {
		var t model.UserTask
		var due, doneAt sql.NullTime
		err := r.Scan(&t.ID, &t.Kind, &t.Title, &t.PersonID, &t.OpportunityID, &t.AssigneeID, &due, &doneAt, &t.CreatedAt,
			&t.CampaignID, &t.CampaignName, &t.CampaignEN, &t.ActionID, &t.PersonName, &t.Opportunity)
		t.DueAt, t.DoneAt, t.CreatedAt = nullTimePtr(due), nullTimePtr(doneAt), t.CreatedAt.UTC()
		return t, err
	}))
}

// CountUserTasks counts a user's open tasks and, of them, those past
// their due time at now.
func (s *Store) CountUserTasks(ctx context.Context, userID int64, now time.Time) (open, overdue int, err error) {
	err = s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN due_at < ? THEN 1 ELSE 0 END), 0) FROM tasks
		WHERE assignee_id = ? AND done_at IS NULL`), utc(now), userID).Scan(&open, &overdue)
	return open, overdue, err
}

// ---- what a review reads beside the roll-ups ----

// factBatch bounds the ids one IN list carries.
const factBatch = 500

// inBatches calls fn with ids in slices of at most factBatch.
func inBatches(ids []int64, fn func(part []int64) error) error {
	for len(ids) > 0 {
		n := min(len(ids), factBatch)
		if err := fn(ids[:n]); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// CampaignLead is a lead whose lead source is a touch of the campaigns
// asked for (docs/metrics.md, "Lead source"), with what that touch was
// and how far the person has come.
type CampaignLead struct {
	PersonID, AccountID int64
	LeadAt              time.Time
	CampaignID          int64 // of the lead source
	Channel, Source     string
	PromoterID          int64
	Stage               model.Stage // now
	Reached             model.Stage // the furthest forward stage of the history ("" without one)
}

// CampaignLeads lists the persons (not merged away) who became leads in
// the window with their lead source a touch of one of the campaigns: the
// same leads the leads roll-up counts for them.
func (s *Store) CampaignLeads(ctx context.Context, campaignIDs []int64, w model.Window) ([]CampaignLead, error) {
	return s.campaignLeads(ctx, campaignIDs, w, campaignLeadsByMembers)
}

// campaignLeadsByMembers is how many campaigns CampaignLeads reads from
// their members; beyond, from the window's leads.
const campaignLeadsByMembers = 8

func (s *Store) campaignLeads(ctx context.Context, campaignIDs []int64, w model.Window, byMembers int) ([]CampaignLead, error) {
	if len(campaignIDs) == 0 {
		return nil, nil
	}
	inC, cargs := inList("campaign_id", campaignIDs)
	inT, targs := inList("t.campaign_id", campaignIDs)
	cond, wargs := windowClause(w, "p.lead_at")
	args := append(append(append([]any{}, cargs...), wargs...), targs...)
	// A few campaigns: their members first (their touches by campaign),
	// then who of them became leads in the window. Many (a period review
	// of every campaign): the window's leads first (by lead time), then
	// whose lead source is one of the campaigns — the members of many
	// campaigns are most of the touches. The answer is the same.
	members := "p.id IN (SELECT person_id FROM touchpoints WHERE " + inC + " AND person_id IS NOT NULL) AND "
	if len(campaignIDs) > byMembers {
		members, args = "", append(append([]any{}, wargs...), targs...)
	}
	var out []CampaignLead
	err := s.each(ctx, `SELECT p.id, COALESCE(p.account_id, 0), p.lead_at, t.campaign_id, t.channel, t.source, COALESCE(t.promoter_id, 0), p.stage
		FROM persons p JOIN touchpoints t ON t.id = (SELECT x.id FROM touchpoints x WHERE x.person_id = p.id AND x.occurred_at <= p.lead_at
			ORDER BY x.occurred_at DESC, x.id DESC LIMIT 1)
		WHERE `+members+cond+` AND p.lead_at IS NOT NULL AND p.merged_into_id IS NULL AND `+inT+`
		ORDER BY p.id`, args, func(r *sql.Rows) error {
		var l CampaignLead
		var stage string
		if err := r.Scan(&l.PersonID, &l.AccountID, &l.LeadAt, &l.CampaignID, &l.Channel, &l.Source, &l.PromoterID, &stage); err != nil {
			return err
		}
		l.LeadAt, l.Stage = l.LeadAt.UTC(), model.Stage(stage)
		out = append(out, l)
		return nil
	})
	if err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]int64, len(out))
	for i, l := range out {
		ids[i] = l.PersonID
	}
	reached := map[int64]model.Stage{}
	err = inBatches(ids, func(part []int64) error {
		in, args := inList("person_id", part)
		return s.each(ctx, "SELECT person_id, to_stage FROM stage_changes WHERE "+in, args, func(r *sql.Rows) error {
			var id int64
			var st string
			if err := r.Scan(&id, &st); err != nil {
				return err
			}
			if stage := model.Stage(st); stage.Rank() > reached[id].Rank() {
				reached[id] = stage
			}
			return nil
		})
	})
	for i := range out {
		out[i].Reached = reached[out[i].PersonID]
	}
	return out, err
}

// CampaignMemberFact is a person with a touch of the campaigns in a
// window: their account and their first such touch.
type CampaignMemberFact struct {
	PersonID, AccountID int64
	FirstTouch          time.Time
}

// CampaignMemberFacts lists the members of the campaigns in the window:
// the persons (not merged away) with a touch of one of them.
func (s *Store) CampaignMemberFacts(ctx context.Context, campaignIDs []int64, w model.Window) ([]CampaignMemberFact, error) {
	if len(campaignIDs) == 0 {
		return nil, nil
	}
	in, args := inList("t.campaign_id", campaignIDs)
	cond, wargs := windowClause(w, "t.occurred_at")
	return scanAll(ctx, s, s.r, `SELECT t.person_id, COALESCE(p.account_id, 0), MIN(t.occurred_at) FROM touchpoints t JOIN persons p ON p.id = t.person_id
		WHERE `+in+` AND `+cond+` AND p.merged_into_id IS NULL GROUP BY t.person_id, p.account_id ORDER BY t.person_id`, append(args, wargs...),
		func(r rowScanner) (CampaignMemberFact, error) {
			var m CampaignMemberFact
			var first storedTime
			err := r.Scan(&m.PersonID, &m.AccountID, &first)
			m.FirstTouch = first.t.UTC()
			return m, err
		})
}

// AccountsCustomerSince maps each of the accounts that has had a deal won
// or an order placed to the first time it had one.
func (s *Store) AccountsCustomerSince(ctx context.Context, accountIDs []int64) (map[int64]time.Time, error) {
	ids := slices.Clone(accountIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	ids = slices.DeleteFunc(ids, func(id int64) bool { return id == 0 })
	since := map[int64]time.Time{}
	err := inBatches(ids, func(part []int64) error {
		inO, oargs := inList("account_id", part)
		return s.each(ctx, `SELECT account_id, MIN(at) FROM (
				SELECT account_id, closed_at AS at FROM opportunities WHERE stage = ? AND closed_at IS NOT NULL AND `+inO+`
				UNION ALL SELECT account_id, ordered_at FROM orders WHERE `+inO+`) x GROUP BY account_id`,
			append(append([]any{model.OppStageClosedWon}, oargs...), oargs...), func(r *sql.Rows) error {
				var id int64
				var at storedTime
				if err := r.Scan(&id, &at); err != nil {
					return err
				}
				since[id] = at.t.UTC()
				return nil
			})
	})
	return since, err
}

// PromoterFact is one employee's shared links of the campaigns and what
// they brought in a window.
type PromoterFact struct {
	UserID      int64
	Name, Email string
	Links       int64 // tracked links of the campaigns naming them (revoked ones too)
	Visits      int64 // touches through their links in the window
	Visitors    int64 // distinct persons, or anonymous visitors, among them
}

// CampaignPromoters lists the promoters of the campaigns: whoever has a
// tracked link of them or brought a touch of them in the window.
func (s *Store) CampaignPromoters(ctx context.Context, campaignIDs []int64, w model.Window) ([]PromoterFact, error) {
	if len(campaignIDs) == 0 {
		return nil, nil
	}
	by := map[int64]*PromoterFact{}
	get := func(id int64) *PromoterFact {
		if by[id] == nil {
			by[id] = &PromoterFact{UserID: id}
		}
		return by[id]
	}
	inL, largs := inList("campaign_id", campaignIDs)
	err := s.each(ctx, "SELECT promoter_id, COUNT(*) FROM tracked_links WHERE "+inL+" AND promoter_id IS NOT NULL GROUP BY promoter_id", largs,
		func(r *sql.Rows) error {
			var id, n int64
			if err := r.Scan(&id, &n); err != nil {
				return err
			}
			get(id).Links = n
			return nil
		})
	if err != nil {
		return nil, err
	}
	cond, wargs := windowClause(w, "occurred_at")
	err = s.each(ctx, `SELECT promoter_id, COUNT(*), COUNT(DISTINCT person_id) + COUNT(DISTINCT CASE WHEN person_id IS NULL THEN anonymous_id END)
		FROM touchpoints WHERE `+inL+` AND promoter_id IS NOT NULL AND `+cond+` GROUP BY promoter_id`, append(largs, wargs...),
		func(r *sql.Rows) error {
			var id, n, v int64
			if err := r.Scan(&id, &n, &v); err != nil {
				return err
			}
			p := get(id)
			p.Visits, p.Visitors = n, v
			return nil
		})
	if err != nil || len(by) == 0 {
		return nil, err
	}
	ids := make([]int64, 0, len(by))
	for id := range by {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	in, args := inList("id", ids)
	err = s.each(ctx, "SELECT id, name, email FROM users WHERE "+in, args, func(r *sql.Rows) error {
		var id int64
		var name, email string
		if err := r.Scan(&id, &name, &email); err != nil {
			return err
		}
		by[id].Name, by[id].Email = name, email
		return nil
	})
	out := make([]PromoterFact, 0, len(ids))
	for _, id := range ids {
		out = append(out, *by[id])
	}
	return out, err
}

// InfluencedDeal is an opportunity created, or an order placed, in a
// window with at least one credited touch of the campaigns (Influenced,
// docs/metrics.md), at its full amount.
type InfluencedDeal struct {
	ID            int64
	Name          string // the opportunity's; "" for an order
	Account       string
	Stage         string // the opportunity's stage now
	Amount        model.Money
	At            time.Time // created (opportunity) or placed (order)
	OpportunityID int64     // of an order; 0 without one
}

// InfluencedDeals lists the conversions of kind (opportunity or order) in
// the window with a credited touch of one of the campaigns, each once, the
// largest first.
func (s *Store) InfluencedDeals(ctx context.Context, kind model.ConversionKind, campaignIDs []int64, w model.Window) ([]InfluencedDeal, error) {
	if len(campaignIDs) == 0 {
		return nil, nil
	}
	in, cargs := inList("t.campaign_id", campaignIDs)
	cond, wargs := windowClause(w, "v.converted_at")
	exists := ` AND EXISTS (SELECT 1 FROM attribution_credits c JOIN touchpoints t ON t.id = c.touch_id
		WHERE c.kind = v.kind AND c.conversion_id = v.conversion_id AND ` + in + `)`
	args := append(append([]any{string(kind)}, wargs...), cargs...)
	var query string
	switch kind {
	case model.ConvOpportunity:
		query = `SELECT o.id, o.name, COALESCE(a.name, ''), o.stage, v.value_fen, v.converted_at, 0
			FROM attribution_conversions v JOIN opportunities o ON o.id = v.conversion_id LEFT JOIN accounts a ON a.id = o.account_id
			WHERE v.kind = ? AND ` + cond + exists + ` ORDER BY v.value_fen DESC, o.id`
	case model.ConvOrder:
		query = `SELECT o.id, '', COALESCE(a.name, ''), '', v.value_fen, v.converted_at, COALESCE(o.opportunity_id, 0)
			FROM attribution_conversions v JOIN orders o ON o.id = v.conversion_id LEFT JOIN accounts a ON a.id = o.account_id
			WHERE v.kind = ? AND ` + cond + exists + ` ORDER BY v.value_fen DESC, o.id`
	default:
		return nil, fmt.Errorf("influenced deals: kind %s is neither opportunity nor order", kind)
	}
	return scanAll(ctx, s, s.r, query, args, func(r rowScanner) (InfluencedDeal, error) {
		var d InfluencedDeal
		err := r.Scan(&d.ID, &d.Name, &d.Account, &d.Stage, &d.Amount, &d.At, &d.OpportunityID)
		d.At = d.At.UTC()
		return d, err
	})
}

// AssignmentsOfPersons lists every assignment of the persons, with what
// the first-follow-up figures need.
func (s *Store) AssignmentsOfPersons(ctx context.Context, personIDs []int64) ([]model.Assignment, error) {
	cols := "a.id, a.person_id, a.user_id, COALESCE(u.name, ''), COALESCE(u.email, ''), a.assigned_at, a.due_at, a.first_follow_up_at, a.superseded_at"
	if s.dialect == SQLite {
		cols = "a.id, a.person_id, a.user_id, COALESCE(u.name, ''), COALESCE(u.email, ''), CAST(a.assigned_at AS TEXT), CAST(a.due_at AS TEXT), CAST(a.first_follow_up_at AS TEXT), CAST(a.superseded_at AS TEXT)"
	}
	var out []model.Assignment
	err := inBatches(personIDs, func(part []int64) error {
		in, args := inList("a.person_id", part)
		return s.each(ctx, "SELECT "+cols+" FROM assignments a LEFT JOIN users u ON u.id = a.user_id WHERE "+in+" ORDER BY a.id", args, func(r *sql.Rows) error {
			var a model.Assignment
			var assigned, due storedTime
			var follow, superseded storedNullTime
			if err := r.Scan(&a.ID, &a.PersonID, &a.UserID, &a.UserName, &a.UserEmail, &assigned, &due, &follow, &superseded); err != nil {
				return err
			}
			a.AssignedAt, a.DueAt, a.FirstFollowUpAt, a.SupersededAt = assigned.t, due.t, follow.t, superseded.t
			out = append(out, a)
			return nil
		})
	})
	return out, err
}
