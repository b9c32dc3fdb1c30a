package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// ConversionKind is what an attribution report counts as a conversion.
type ConversionKind string

// The conversion kinds; docs/attribution.md ("In the product") defines them.
const (
	ConvOpportunity ConversionKind = "opportunity" // an opportunity created: pipeline
	ConvWon         ConversionKind = "won"         // an opportunity closed won: revenue
	ConvOrder       ConversionKind = "order"       // an order: revenue
	ConvMQL         ConversionKind = "mql"         // a person reaching MQL: a count
	ConvSQL         ConversionKind = "sql"         // a person reaching SQL: a count
)

// ConversionKinds lists every kind in a stable order.
var ConversionKinds = []ConversionKind{ConvOpportunity, ConvWon, ConvOrder, ConvMQL, ConvSQL}

// DefaultLookback is how far before a conversion touches count unless the
// caller says otherwise: B2B buying cycles are long.
const DefaultLookback = 365 * 24 * time.Hour

// AttributionTouch is one touchpoint of a journey, with the keys credits
// roll up by (0 or "" when the touch has none).
type AttributionTouch struct {
	ID         int64
	PersonID   int64
	At         time.Time
	Channel    string
	Source     string
	Medium     string
	CampaignID int64
	KeywordID  int64
	ContentID  int64
	PromoterID int64
}

// ConversionJourney is one conversion and the touches that preceded it:
// the touches of its persons (all contacts of the opportunity, or the
// person who changed stage) inside [At − lookback, At], in time order.
type ConversionJourney struct {
	ID            int64 // the opportunity, order or stage change
	At            time.Time
	Value         model.Money
	LeadAt        time.Time // earliest lead time of its persons; zero if none
	OpportunityAt time.Time // when the opportunity was created; zero if none
	Touches       []AttributionTouch
}

// conversionSQL selects, per conversion kind, rows of (conversion id,
// conversion time, value, opportunity creation time, person id, person's
// lead time), one per person of the conversion, ordered by conversion.
// %s is the window condition on the conversion time.
var conversionSQL = map[ConversionKind]struct{ rows, persons, col string }{
	ConvOpportunity: {
		rows: `SELECT o.id, o.created_at, o.amount_fen, o.created_at, oc.person_id, p.lead_at FROM opportunities o
			LEFT JOIN opportunity_contacts oc ON oc.opportunity_id = o.id LEFT JOIN persons p ON p.id = oc.person_id
			WHERE %s ORDER BY o.id`,
		persons: `SELECT oc.person_id FROM opportunities o JOIN opportunity_contacts oc ON oc.opportunity_id = o.id WHERE %s`,
		col:     "o.created_at",
	},
	ConvWon: {
		rows: `SELECT o.id, o.closed_at, o.amount_fen, o.created_at, oc.person_id, p.lead_at FROM opportunities o
			LEFT JOIN opportunity_contacts oc ON oc.opportunity_id = o.id LEFT JOIN persons p ON p.id = oc.person_id
			WHERE o.stage = 'closed_won' AND o.closed_at IS NOT NULL AND %s ORDER BY o.id`,
		persons: `SELECT oc.person_id FROM opportunities o JOIN opportunity_contacts oc ON oc.opportunity_id = o.id
			WHERE o.stage = 'closed_won' AND o.closed_at IS NOT NULL AND %s`,
		col: "o.closed_at",
	},
	ConvOrder: {
		rows: `SELECT r.id, r.ordered_at, r.amount_fen, o.created_at, oc.person_id, p.lead_at FROM orders r
			LEFT JOIN opportunities o ON o.id = r.opportunity_id
			LEFT JOIN opportunity_contacts oc ON oc.opportunity_id = r.opportunity_id LEFT JOIN persons p ON p.id = oc.person_id
			WHERE %s ORDER BY r.id`,
		persons: `SELECT oc.person_id FROM orders r JOIN opportunity_contacts oc ON oc.opportunity_id = r.opportunity_id WHERE %s`,
		col:     "r.ordered_at",
	},
}

// stageSQL is the same for mql and sql: every entry into the stage, in
// order per person, of which the first inside the window counts.
const (
	stageRowsSQL = `SELECT sc.id, sc.changed_at, p.id, p.lead_at FROM stage_changes sc JOIN persons p ON p.id = sc.person_id
		WHERE sc.to_stage = ? AND %s ORDER BY sc.person_id, sc.changed_at, sc.id`
	stagePersonsSQL = `SELECT sc.person_id FROM stage_changes sc WHERE sc.to_stage = ? AND %s`
)

// ParseConversionKind accepts a kind as the API spells it.
func ParseConversionKind(s string) (ConversionKind, error) {
	k := ConversionKind(strings.ToLower(strings.TrimSpace(s)))
	for _, ok := range ConversionKinds {
		if k == ok {
			return k, nil
		}
	}
	names := make([]string, len(ConversionKinds))
	for i, k := range ConversionKinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown conversion %q (one of %s)", s, strings.Join(names, ", "))
}

// AttributionJourneys reads the conversions of a kind whose conversion
// time lies inside w, each with the touches of its persons at or before the
// conversion and no more than lookback before it (lookback ≤ 0 means
// DefaultLookback). Conversions without persons (an opportunity without
// contacts, an order without an opportunity) come back with no touches.
//
// Two ordered queries, streamed: the conversions with their persons, then
// the touches of those persons, so the cost does not grow with round trips.
func (s *Store) AttributionJourneys(ctx context.Context, kind ConversionKind, w Window, lookback time.Duration) ([]ConversionJourney, error) {
	if lookback <= 0 {
		lookback = DefaultLookback
	}
	var out []ConversionJourney
	persons := map[int64][]int{} // person → indexes of its conversions in out
	addPerson := func(p int64, leadAt sql.NullTime) {
		j := &out[len(out)-1]
		persons[p] = append(persons[p], len(out)-1)
		if leadAt.Valid && (j.LeadAt.IsZero() || leadAt.Time.Before(j.LeadAt)) {
			j.LeadAt = leadAt.Time.UTC()
		}
	}
	var personsSQL string
	var personsArgs []any
	switch kind {
	case ConvMQL, ConvSQL:
		cond, args := w.clause("sc.changed_at")
		args = append([]any{string(kind)}, args...)
		seen := map[int64]bool{}
		err := s.each(ctx, fmt.Sprintf(stageRowsSQL, cond), args, func(r *sql.Rows) error {
			var id, p int64
			var at time.Time
			var leadAt sql.NullTime
			if err := r.Scan(&id, &at, &p, &leadAt); err != nil {
				return err
			}
			if seen[p] {
				return nil
			}
			seen[p] = true
			out = append(out, ConversionJourney{ID: id, At: at.UTC()})
			addPerson(p, leadAt)
			return nil
		})
		if err != nil {
			return nil, err
		}
		personsSQL, personsArgs = fmt.Sprintf(stagePersonsSQL, cond), args
	default:
		qs, ok := conversionSQL[kind]
		if !ok {
			return nil, fmt.Errorf("unknown conversion kind %q", kind)
		}
		cond, args := w.clause(qs.col)
		err := s.each(ctx, fmt.Sprintf(qs.rows, cond), args, func(r *sql.Rows) error {
			var id, value int64
			var at time.Time
			var oppAt, leadAt sql.NullTime
			var p sql.NullInt64
			if err := r.Scan(&id, &at, &value, &oppAt, &p, &leadAt); err != nil {
				return err
			}
			if len(out) == 0 || out[len(out)-1].ID != id {
				j := ConversionJourney{ID: id, At: at.UTC(), Value: model.Money(value)}
				if oppAt.Valid {
					j.OpportunityAt = oppAt.Time.UTC()
				}
				out = append(out, j)
			}
			if p.Valid {
				addPerson(p.Int64, leadAt)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		personsSQL, personsArgs = fmt.Sprintf(qs.persons, cond), args
	}
	if len(persons) == 0 {
		return out, nil
	}
	// The touches of those persons that can fall inside some journey.
	lo, hi := out[0].At, out[0].At
	for _, j := range out {
		lo, hi = minTime(lo, j.At), maxTime(hi, j.At)
	}
	args := append(personsArgs, utc(lo.Add(-lookback)), utc(hi))
	q := `SELECT t.person_id, t.id, t.occurred_at, t.channel, t.source, t.medium,
			COALESCE(t.campaign_id, 0), COALESCE(t.keyword_id, 0), COALESCE(t.content_id, 0), COALESCE(t.promoter_id, 0)
		FROM touchpoints t WHERE t.person_id IN (` + personsSQL + `) AND t.occurred_at >= ? AND t.occurred_at <= ?
		ORDER BY t.person_id, t.occurred_at, t.id`
	err := s.each(ctx, q, args, func(r *sql.Rows) error {
		var t AttributionTouch
		if err := r.Scan(&t.PersonID, &t.ID, &t.At, &t.Channel, &t.Source, &t.Medium,
			&t.CampaignID, &t.KeywordID, &t.ContentID, &t.PromoterID); err != nil {
			return err
		}
		t.At = t.At.UTC()
		for _, i := range persons[t.PersonID] {
			j := &out[i]
			if t.At.After(j.At) || t.At.Before(j.At.Add(-lookback)) {
				continue
			}
			j.Touches = append(j.Touches, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Touches arrive in time order per person; a journey of several
	// persons needs them merged.
	for i := range out {
		sortTouches(out[i].Touches)
	}
	return out, nil
}

// sortTouches orders touches by time, then id.
func sortTouches(ts []AttributionTouch) {
	slices.SortFunc(ts, func(a, b AttributionTouch) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// AttributionCosts sums daily costs inside w by channel (of the campaign),
// by campaign and by keyword, for cost and ROI next to credits.
type AttributionCosts struct {
	ByChannel  map[string]model.Money
	ByCampaign map[int64]model.Money
	ByKeyword  map[int64]model.Money
}

// AttributionCosts reads the cost of the window in one query.
func (s *Store) AttributionCosts(ctx context.Context, w Window) (AttributionCosts, error) {
	c := AttributionCosts{ByChannel: map[string]model.Money{}, ByCampaign: map[int64]model.Money{}, ByKeyword: map[int64]model.Money{}}
	cond, args := w.dayClause("d.day")
	err := s.each(ctx, `SELECT c.channel, d.campaign_id, COALESCE(d.keyword_id, 0), SUM(d.cost_fen) FROM daily_costs d
		JOIN campaigns c ON c.id = d.campaign_id WHERE `+cond+` GROUP BY c.channel, d.campaign_id, COALESCE(d.keyword_id, 0)`, args,
		func(r *sql.Rows) error {
			var ch string
			var camp, kw, fen int64
			if err := r.Scan(&ch, &camp, &kw, &fen); err != nil {
				return err
			}
			c.ByChannel[ch] += model.Money(fen)
			c.ByCampaign[camp] += model.Money(fen)
			if kw != 0 {
				c.ByKeyword[kw] += model.Money(fen)
			}
			return nil
		})
	return c, err
}

// AttributionNames are the display names of the keys credits roll up by.
type AttributionNames struct {
	Campaigns map[int64][2]string // name, name_en
	Keywords  map[int64]string
	Assets    map[int64][2]string // title, title_en
	Promoters map[int64]string    // name, or email when the name is empty
}

// AttributionNames reads the names of the given campaigns, keywords, content
// assets and promoters (users).
func (s *Store) AttributionNames(ctx context.Context, campaigns, keywords, assets, promoters []int64) (AttributionNames, error) {
	n := AttributionNames{Campaigns: map[int64][2]string{}, Keywords: map[int64]string{}, Assets: map[int64][2]string{}, Promoters: map[int64]string{}}
	read := func(table string, ids []int64, fn func(id int64, a, b string)) error {
		for start := 0; start < len(ids); start += 500 {
			chunk := ids[start:min(start+500, len(ids))]
			args := make([]any, len(chunk))
			for i, id := range chunk {
				args[i] = id
			}
			q := fmt.Sprintf(table, strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ","))
			if err := s.each(ctx, q, args, func(r *sql.Rows) error {
				var id int64
				var a, b string
				if err := r.Scan(&id, &a, &b); err != nil {
					return err
				}
				fn(id, a, b)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := read(`SELECT id, name, name_en FROM campaigns WHERE id IN (%s)`, campaigns, func(id int64, a, b string) { n.Campaigns[id] = [2]string{a, b} }); err != nil {
		return n, err
	}
	if err := read(`SELECT id, text, match_type FROM keywords WHERE id IN (%s)`, keywords, func(id int64, a, _ string) { n.Keywords[id] = a }); err != nil {
		return n, err
	}
	if err := read(`SELECT id, title, title_en FROM content_assets WHERE id IN (%s)`, assets, func(id int64, a, b string) { n.Assets[id] = [2]string{a, b} }); err != nil {
		return n, err
	}
	err := read(`SELECT id, name, email FROM users WHERE id IN (%s)`, promoters, func(id int64, a, b string) {
		if a == "" {
			a = b
		}
		n.Promoters[id] = a
	})
	return n, err
}
