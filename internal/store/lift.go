package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// The cohort lift of a campaign (docs/lift.md): the persons who touched
// it in a window and the persons active in that window whom it never
// touched, counted by stratum (account industry, size band, region and
// the channel of most of their touches before the window) with their
// later outcomes, in one aggregate query: the work is the database's,
// and what comes back is a row per stratum and group, not per person.

// LiftParams bound a lift query. Times are instants.
type LiftParams struct {
	CampaignID int64
	From, To   time.Time // the event window [From, To)
	FollowTo   time.Time // outcomes count in [From, FollowTo)
	PriorFrom  time.Time // the channel mix is read from touches in [PriorFrom, From)
}

// LiftStratum is one stratum of one group (the cohort or the baseline)
// with its outcomes.
type LiftStratum struct {
	Cohort   bool
	Industry string
	SizeBand string
	Region   string
	Channel  string // the channel of most touches in [PriorFrom, From); "" for none
	// Lead says the persons had become leads before From.
	Lead    bool
	Persons int64
	// MQLEligible persons had not reached MQL (or a later stage) before
	// From; MQLReached of them first reached it in [From, FollowTo).
	// Likewise for opportunity.
	MQLEligible, MQLReached int64
	OppEligible, OppReached int64
	// Pipeline is the sum over the persons of their pipeline — the amount
	// of each opportunity created in [From, FollowTo) that they are a
	// contact of, shared equally among its contacts — in fen;
	// PipelineSq the sum of its squares; WithPipeline the persons with
	// some.
	Pipeline, PipelineSq float64
	WithPipeline         int64
}

// channelRank is a channel's place in model.Channels as SQL, any other
// value as unknown's; channelBase is one more than the places. The main
// channel of a person is the one of most touches, of two as many the one
// listed first: one MAX over count·base + (base − 1 − rank) finds both,
// the place coming back as base − 1 − MAX mod base. (A window function
// would do it too, but SQLite does not index its result for the joins
// after it, and PostgreSQL sorts for it.)
func channelRank(col string) string {
	var b strings.Builder
	b.WriteString("CASE " + col)
	unknown := len(model.Channels) - 1
	for i, ch := range model.Channels {
		if ch == model.ChannelUnknown {
			unknown = i
			continue
		}
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", ch, i)
	}
	fmt.Fprintf(&b, " ELSE %d END", unknown)
	return b.String()
}

var channelBase = strconv.Itoa(len(model.Channels) + 1)

// liftStages are the stages at or past MQL and at or past opportunity.
const (
	liftMQLStages = `'mql', 'sql', 'opportunity', 'customer'`
	liftOppStages = `'opportunity', 'customer'`
)

// LiftStrata counts the cohort and the baseline of p by stratum. A person
// merged into another is counted as the survivor, whose touches and
// stage changes theirs became.
func (s *Store) LiftStrata(ctx context.Context, p LiftParams) ([]LiftStratum, error) {
	if !p.From.Before(p.To) || p.FollowTo.Before(p.To) || p.PriorFrom.After(p.From) {
		return nil, fmt.Errorf("lift window %v – %v, follow to %v, prior from %v: out of order", p.From, p.To, p.FollowTo, p.PriorFrom)
	}
	from, to, follow, prior := utc(p.From), utc(p.To), utc(p.FollowTo), utc(p.PriorFrom)
	query := `WITH
	cohort AS (SELECT DISTINCT person_id AS pid FROM touchpoints
		WHERE campaign_id = ? AND person_id IS NOT NULL AND occurred_at >= ? AND occurred_at < ?),
	touched AS (SELECT DISTINCT person_id AS pid FROM touchpoints WHERE campaign_id = ? AND person_id IS NOT NULL),
	grp AS (
		SELECT pid, 1 AS cohort FROM cohort
		UNION ALL
		SELECT DISTINCT t.person_id AS pid, 0 AS cohort FROM touchpoints t
		WHERE t.occurred_at >= ? AND t.occurred_at < ? AND t.person_id IS NOT NULL AND t.person_id NOT IN (SELECT pid FROM touched)),
	main AS (SELECT pid, MAX(n * ` + channelBase + ` + ` + channelBase + ` - 1 - ` + channelRank("channel") + `) AS code FROM (
		SELECT t.person_id AS pid, t.channel AS channel, COUNT(*) AS n FROM touchpoints t
		WHERE t.occurred_at >= ? AND t.occurred_at < ? AND t.person_id IS NOT NULL
		GROUP BY t.person_id, t.channel) y GROUP BY pid),
	reach AS (SELECT sc.person_id AS pid,
		MIN(CASE WHEN sc.to_stage IN (` + liftMQLStages + `) THEN sc.changed_at END) AS mql_at,
		MIN(CASE WHEN sc.to_stage IN (` + liftOppStages + `) THEN sc.changed_at END) AS opp_at
		FROM stage_changes sc WHERE sc.person_id IN (SELECT pid FROM grp) AND sc.to_stage IN (` + liftMQLStages + `)
		GROUP BY sc.person_id),
	opps AS (SELECT o.id, CAST(o.amount_fen AS DOUBLE PRECISION) / (SELECT COUNT(*) FROM opportunity_contacts c WHERE c.opportunity_id = o.id) AS share
		FROM opportunities o WHERE o.created_at >= ? AND o.created_at < ?
		AND EXISTS (SELECT 1 FROM opportunity_contacts c WHERE c.opportunity_id = o.id)),
	pipe AS (SELECT oc.person_id AS pid, SUM(x.share) AS fen FROM opps x JOIN opportunity_contacts oc ON oc.opportunity_id = x.id
		GROUP BY oc.person_id)
	SELECT g.cohort, COALESCE(a.industry, ''), COALESCE(a.size_band, ''), COALESCE(a.region, ''), COALESCE(` + channelBase + ` - 1 - m.code % ` + channelBase + `, -1),
		CASE WHEN p.lead_at < ? THEN 1 ELSE 0 END, COUNT(*),
		SUM(CASE WHEN r.mql_at IS NULL OR r.mql_at >= ? THEN 1 ELSE 0 END),
		SUM(CASE WHEN r.mql_at >= ? AND r.mql_at < ? THEN 1 ELSE 0 END),
		SUM(CASE WHEN r.opp_at IS NULL OR r.opp_at >= ? THEN 1 ELSE 0 END),
		SUM(CASE WHEN r.opp_at >= ? AND r.opp_at < ? THEN 1 ELSE 0 END),
		COALESCE(SUM(pp.fen), 0), COALESCE(SUM(pp.fen * pp.fen), 0), COUNT(pp.pid)
	FROM grp g JOIN persons p ON p.id = g.pid
	LEFT JOIN accounts a ON a.id = p.account_id
	LEFT JOIN main m ON m.pid = g.pid
	LEFT JOIN reach r ON r.pid = g.pid
	LEFT JOIN pipe pp ON pp.pid = g.pid
	WHERE p.merged_into_id IS NULL
	GROUP BY 1, 2, 3, 4, 5, 6
	ORDER BY 1 DESC, 7 DESC, 2, 3, 4, 5, 6`
	args := []any{p.CampaignID, from, to, p.CampaignID, from, to, prior, from, from, follow,
		from, from, from, follow, from, from, follow}
	// The planner cannot know how many persons each step keeps, guesses
	// billions of rows for the joins and would then compile the query
	// (about a second); it runs in a second or two without.
	var q querier = s.r
	if s.dialect == Postgres {
		tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `SELECT set_config('jit', 'off', true)`); err != nil {
			return nil, err
		}
		q = tx
	}
	var out []LiftStratum
	err := s.eachOn(ctx, q, query, args, func(r *sql.Rows) error {
		var st LiftStratum
		var cohort, lead, channel int64
		if err := r.Scan(&cohort, &st.Industry, &st.SizeBand, &st.Region, &channel, &lead, &st.Persons,
			&st.MQLEligible, &st.MQLReached, &st.OppEligible, &st.OppReached, &st.Pipeline, &st.PipelineSq, &st.WithPipeline); err != nil {
			return err
		}
		st.Cohort, st.Lead = cohort == 1, lead == 1
		if channel >= 0 && channel < int64(len(model.Channels)) {
			st.Channel = string(model.Channels[channel])
		}
		out = append(out, st)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lift strata of campaign %d: %w", p.CampaignID, err)
	}
	return out, nil
}
