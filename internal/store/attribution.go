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

// AttributionTouch is one touchpoint of a journey, with the keys credits
// roll up by (0 or "" when the touch has none). AdGroupID is the touch's
// ad group, or else its keyword's.
type AttributionTouch struct {
	ID         int64
	PersonID   int64
	At         time.Time
	Channel    string
	Source     string
	Medium     string
	CampaignID int64
	AdGroupID  int64
	KeywordID  int64
	ContentID  int64
	PromoterID int64
}

// ConversionHead is one conversion without its touches.
type ConversionHead struct {
	ID            int64 // the opportunity, order or stage change
	PersonID      int64 // mql, sql: the person entering the stage; 0 otherwise
	At            time.Time
	Value         model.Money
	LeadAt        time.Time // earliest lead time of its persons; zero if none
	OpportunityAt time.Time // when the opportunity was created; zero if none
	Persons       []int64   // all contacts of the opportunity, or the person who changed stage
	// First is false for an entry into mql or sql that is not the
	// person's first among the heads read; always true for other kinds.
	First bool
}

// ConversionJourney is one conversion and the touches that preceded it:
// the touches of its persons inside [At − lookback, At], in time order.
type ConversionJourney struct {
	ConversionHead
	Touches []AttributionTouch
}

// conversionSQL selects, per conversion kind, rows of (conversion id,
// conversion time, value, opportunity creation time, person id, person's
// lead time), one per person of the conversion, ordered by conversion.
// %s is the condition on the conversion (window, order kind).
var conversionSQL = map[model.ConversionKind]struct{ rows, col string }{
	model.ConvOpportunity: {
		rows: `SELECT o.id, o.created_at, o.amount_fen, o.created_at, oc.person_id, p.lead_at FROM opportunities o
			LEFT JOIN opportunity_contacts oc ON oc.opportunity_id = o.id LEFT JOIN persons p ON p.id = oc.person_id
			WHERE %s ORDER BY o.id`,
		col: "o.created_at",
	},
	model.ConvWon: {
		rows: `SELECT o.id, o.closed_at, o.amount_fen, o.created_at, oc.person_id, p.lead_at FROM opportunities o
			LEFT JOIN opportunity_contacts oc ON oc.opportunity_id = o.id LEFT JOIN persons p ON p.id = oc.person_id
			WHERE o.stage = 'closed_won' AND o.closed_at IS NOT NULL AND %s ORDER BY o.id`,
		col: "o.closed_at",
	},
	model.ConvOrder: {
		rows: `SELECT r.id, r.ordered_at, r.amount_fen, o.created_at, oc.person_id, p.lead_at FROM orders r
			LEFT JOIN opportunities o ON o.id = r.opportunity_id
			LEFT JOIN opportunity_contacts oc ON oc.opportunity_id = r.opportunity_id LEFT JOIN persons p ON p.id = oc.person_id
			WHERE %s ORDER BY r.id`,
		col: "r.ordered_at",
	},
}

// stageRowsSQL is the same for mql and sql: every entry into the stage, in
// order per person.
const stageRowsSQL = `SELECT sc.id, sc.changed_at, p.id, p.lead_at FROM stage_changes sc JOIN persons p ON p.id = sc.person_id
		WHERE sc.to_stage = ? AND %s ORDER BY sc.person_id, sc.changed_at, sc.id`

// idChunk bounds the ids of one IN (...) list.
const idChunk = 500

// inList is "col IN (?, ...)" and its arguments.
func inList(col string, ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return col + " IN (" + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + ")", args
}

// ConversionHeads reads the conversions of a kind whose conversion time
// lies inside w, without their touches; for orders with orderKind not
// empty, only the orders of that kind (orders.kind: new, renewal or
// upsell). For mql and sql every entry into the stage is a head; First
// marks each person's first one among them. Heads come in the order of
// AttributionJourneys.
func (s *Store) ConversionHeads(ctx context.Context, kind model.ConversionKind, w model.Window, orderKind string) ([]ConversionHead, error) {
	var out []ConversionHead
	addPerson := func(p int64, leadAt sql.NullTime) {
		h := &out[len(out)-1]
		if !slices.Contains(h.Persons, p) {
			h.Persons = append(h.Persons, p)
		}
		if leadAt.Valid && (h.LeadAt.IsZero() || leadAt.Time.Before(h.LeadAt)) {
			h.LeadAt = leadAt.Time.UTC()
		}
	}
	if orderKind != "" && kind != model.ConvOrder {
		return nil, fmt.Errorf("an order kind (%q) filters orders only, not %s conversions", orderKind, kind)
	}
	var err error
	if kind == model.ConvMQL || kind == model.ConvSQL {
		cond, args := windowClause(w, "sc.changed_at")
		seen := map[int64]bool{} // persons with a head already
		err = s.each(ctx, fmt.Sprintf(stageRowsSQL, cond), append([]any{string(kind)}, args...), func(r *sql.Rows) error {
			var id, p int64
			var at time.Time
			var leadAt sql.NullTime
			if err := r.Scan(&id, &at, &p, &leadAt); err != nil {
				return err
			}
			out = append(out, ConversionHead{ID: id, PersonID: p, At: at.UTC(), First: !seen[p]})
			seen[p] = true
			addPerson(p, leadAt)
			return nil
		})
	} else {
		qs, ok := conversionSQL[kind]
		if !ok {
			return nil, fmt.Errorf("unknown conversion kind %q", kind)
		}
		cond, args := windowClause(w, qs.col)
		if orderKind != "" {
			cond, args = cond+" AND r.kind = ?", append(args, orderKind)
		}
		err = s.each(ctx, fmt.Sprintf(qs.rows, cond), args, func(r *sql.Rows) error {
			var id, value int64
			var at time.Time
			var oppAt, leadAt sql.NullTime
			var p sql.NullInt64
			if err := r.Scan(&id, &at, &value, &oppAt, &p, &leadAt); err != nil {
				return err
			}
			if len(out) == 0 || out[len(out)-1].ID != id {
				h := ConversionHead{ID: id, At: at.UTC(), Value: model.Money(value), First: true}
				if oppAt.Valid {
					h.OpportunityAt = oppAt.Time.UTC()
				}
				out = append(out, h)
			}
			if p.Valid {
				addPerson(p.Int64, leadAt)
			}
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	for i := range out {
		slices.Sort(out[i].Persons)
	}
	return out, nil
}

// AttributionJourneys reads the conversions of a kind whose conversion
// time lies inside w, each with the touches of its persons at or before the
// conversion and no more than lookback before it (positive; the default
// is credits.DefaultLookback). For mql and sql only each person's first
// entry into the stage inside w counts. Conversions without persons (an opportunity
// without contacts, an order without an opportunity) come back with no
// touches.
func (s *Store) AttributionJourneys(ctx context.Context, kind model.ConversionKind, w model.Window, lookback time.Duration) ([]ConversionJourney, error) {
	heads, err := s.ConversionHeads(ctx, kind, w, "")
	if err != nil {
		return nil, err
	}
	heads = slices.DeleteFunc(heads, func(h ConversionHead) bool { return !h.First })
	js, err := s.JourneysOf(ctx, [][]ConversionHead{heads}, JourneyOptions{Lookback: lookback})
	if err != nil {
		return nil, err
	}
	return js[0], nil
}

// JourneyOptions tune JourneysOf.
type JourneyOptions struct {
	// Lookback is how far before a conversion touches count; positive
	// (the default is credits.DefaultLookback).
	Lookback time.Duration
	// NonConverting, when set, receives for each group of heads the
	// journey of every person with touches inside Window who is a person
	// of none of the group's heads: the person's touches inside Window, cut
	// to Lookback before the last one, in time order. The slice is reused
	// after the call returns.
	NonConverting func(group int, person int64, touches []AttributionTouch) error
	// Window bounds the touches of non-converting persons.
	Window model.Window
	// ChannelsOnly reads only each touch's id, person, time and channel,
	// which is all the models need (stored credits roll up through the
	// touch id). With NonConverting it reads the touchpoints in storage
	// order and sorts them in memory, which is several times faster than
	// reading them in person order through the index.
	ChannelsOnly bool
}

// JourneysOf attaches to each conversion of each group (a group is one
// conversion kind's heads) the touches of its persons inside
// [At − lookback, At], merged in time order. Without NonConverting it reads
// only the touches of the heads' persons (a few hundred persons per
// query); with it, every touch in one ordered scan, shared by the groups.
func (s *Store) JourneysOf(ctx context.Context, groups [][]ConversionHead, o JourneyOptions) ([][]ConversionJourney, error) {
	lookback := o.Lookback
	if lookback <= 0 {
		return nil, fmt.Errorf("journeys with lookback %v: want a positive lookback", lookback)
	}
	type at struct{ group, i int }
	out := make([][]ConversionJourney, len(groups))
	persons := map[int64][]at{} // person → its conversions
	var lo, hi time.Time
	for g, heads := range groups {
		out[g] = make([]ConversionJourney, len(heads))
		for i, h := range heads {
			out[g][i].ConversionHead = h
			for _, p := range h.Persons {
				persons[p] = append(persons[p], at{g, i})
			}
			if lo.IsZero() || h.At.Before(lo) {
				lo = h.At
			}
			hi = maxTime(hi, h.At)
		}
	}
	attach := func(t AttributionTouch) {
		for _, x := range persons[t.PersonID] {
			j := &out[x.group][x.i]
			if t.At.After(j.At) || t.At.Before(j.At.Add(-lookback)) {
				continue
			}
			j.Touches = append(j.Touches, t)
		}
	}
	if o.NonConverting == nil {
		if len(persons) == 0 {
			return out, nil
		}
		ids := make([]int64, 0, len(persons))
		for p := range persons {
			ids = append(ids, p)
		}
		slices.Sort(ids)
		for start := 0; start < len(ids); start += idChunk {
			cond, args := inList("t.person_id", ids[start:min(start+idChunk, len(ids))])
			args = append(args, utc(lo.Add(-lookback)), utc(hi))
			scan := s.scanTouches
			if o.ChannelsOnly {
				scan = s.scanChannels
			}
			if err := scan(ctx, cond+" AND t.occurred_at >= ? AND t.occurred_at <= ?", args, func(t AttributionTouch) error {
				attach(t)
				return nil
			}); err != nil {
				return nil, err
			}
		}
	} else {
		var path []AttributionTouch // the current person's touches inside the window
		cur := int64(0)
		in := make([]bool, len(groups))
		flush := func() error {
			if len(path) == 0 {
				return nil
			}
			clear(in)
			for _, x := range persons[cur] {
				in[x.group] = true
			}
			from := path[len(path)-1].At.Add(-lookback)
			k := 0
			for k < len(path) && path[k].At.Before(from) {
				k++
			}
			for g := range groups {
				if !in[g] {
					if err := o.NonConverting(g, cur, path[k:]); err != nil {
						return err
					}
				}
			}
			return nil
		}
		inWindow := func(t time.Time) bool {
			return (o.Window.From.IsZero() || !t.Before(o.Window.From)) && (o.Window.To.IsZero() || t.Before(o.Window.To))
		}
		each := func(fn func(AttributionTouch) error) error {
			return s.scanTouches(ctx, "t.person_id IS NOT NULL", nil, fn)
		}
		if o.ChannelsOnly {
			each = s.allTouchesByPerson(ctx)
		}
		err := each(func(t AttributionTouch) error {
			if t.PersonID != cur {
				if err := flush(); err != nil {
					return err
				}
				cur, path = t.PersonID, path[:0]
			}
			attach(t)
			if inWindow(t.At) {
				path = append(path, t)
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			return nil, err
		}
	}
	// Touches arrive in time order per person; a journey of several
	// persons needs them merged.
	for g := range out {
		for i := range out[g] {
			sortTouches(out[g][i].Touches)
		}
	}
	return out, nil
}

// scanChannels is scanTouches reading only id, person, time and channel.
func (s *Store) scanChannels(ctx context.Context, cond string, args []any, fn func(AttributionTouch) error) error {
	return s.each(ctx, `SELECT t.person_id, t.id, t.occurred_at, t.channel FROM touchpoints t WHERE `+cond+`
		ORDER BY t.person_id, t.occurred_at, t.id`, args, func(r *sql.Rows) error {
		var t AttributionTouch
		if err := r.Scan(&t.PersonID, &t.ID, &t.At, &t.Channel); err != nil {
			return err
		}
		t.At = t.At.UTC()
		return fn(t)
	})
}

// allTouchesByPerson reads every touchpoint with a person (id, person,
// time, channel) in storage order, sorts them by person, time and id, and
// returns a function that hands them out in that order. Channel names are
// shared, so a touch costs about 40 bytes.
func (s *Store) allTouchesByPerson(ctx context.Context) func(fn func(AttributionTouch) error) error {
	return func(fn func(AttributionTouch) error) error {
		type lean struct {
			person, id, at int64 // at: Unix microseconds
			ch             string
		}
		var all []lean
		names := map[string]string{}
		err := s.each(ctx, `SELECT person_id, id, occurred_at, channel FROM touchpoints WHERE person_id IS NOT NULL`, nil, func(r *sql.Rows) error {
			var t lean
			var at time.Time
			var ch []byte
			if err := r.Scan(&t.person, &t.id, &at, &ch); err != nil {
				return err
			}
			name, ok := names[string(ch)]
			if !ok {
				name = string(ch)
				names[name] = name
			}
			t.at, t.ch = at.UnixMicro(), name
			all = append(all, t)
			return nil
		})
		if err != nil {
			return err
		}
		slices.SortFunc(all, func(a, b lean) int {
			if c := cmp.Compare(a.person, b.person); c != 0 {
				return c
			}
			if c := cmp.Compare(a.at, b.at); c != 0 {
				return c
			}
			return cmp.Compare(a.id, b.id)
		})
		for _, t := range all {
			if err := fn(AttributionTouch{ID: t.id, PersonID: t.person, At: time.UnixMicro(t.at).UTC(), Channel: t.ch}); err != nil {
				return err
			}
		}
		return nil
	}
}

// scanTouches streams the touchpoints matching cond in (person, time, id)
// order.
func (s *Store) scanTouches(ctx context.Context, cond string, args []any, fn func(AttributionTouch) error) error {
	q := `SELECT t.person_id, t.id, t.occurred_at, t.channel, t.source, t.medium, COALESCE(t.campaign_id, 0),
			COALESCE(t.ad_group_id, k.ad_group_id, 0), COALESCE(t.keyword_id, 0), COALESCE(t.content_id, 0), COALESCE(t.promoter_id, 0)
		FROM touchpoints t LEFT JOIN keywords k ON k.id = t.keyword_id
		WHERE ` + cond + ` ORDER BY t.person_id, t.occurred_at, t.id`
	return s.each(ctx, q, args, func(r *sql.Rows) error {
		var t AttributionTouch
		if err := r.Scan(&t.PersonID, &t.ID, &t.At, &t.Channel, &t.Source, &t.Medium,
			&t.CampaignID, &t.AdGroupID, &t.KeywordID, &t.ContentID, &t.PromoterID); err != nil {
			return err
		}
		t.At = t.At.UTC()
		return fn(t)
	})
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
// by campaign, by ad group (the cost row's, else its keyword's) and by
// keyword, for cost and ROI next to credits.
type AttributionCosts struct {
	ByChannel  map[string]model.Money
	ByCampaign map[int64]model.Money
	ByAdGroup  map[int64]model.Money
	ByKeyword  map[int64]model.Money
}

// AttributionCosts reads the cost of the window in one query.
func (s *Store) AttributionCosts(ctx context.Context, w model.Window) (AttributionCosts, error) {
	c := AttributionCosts{ByChannel: map[string]model.Money{}, ByCampaign: map[int64]model.Money{},
		ByAdGroup: map[int64]model.Money{}, ByKeyword: map[int64]model.Money{}}
	cond, args := windowDayClause(w, "d.day")
	err := s.each(ctx, `SELECT c.channel, d.campaign_id, COALESCE(d.ad_group_id, k.ad_group_id, 0), COALESCE(d.keyword_id, 0), `+s.sumFen("d.cost_fen")+`
		FROM daily_costs d JOIN campaigns c ON c.id = d.campaign_id LEFT JOIN keywords k ON k.id = d.keyword_id
		WHERE `+cond+` GROUP BY c.channel, d.campaign_id, COALESCE(d.ad_group_id, k.ad_group_id, 0), COALESCE(d.keyword_id, 0)`, args,
		func(r *sql.Rows) error {
			var ch string
			var camp, ag, kw, fen int64
			if err := r.Scan(&ch, &camp, &ag, &kw, &fen); err != nil {
				return err
			}
			c.ByChannel[ch] = AddTotal(c.ByChannel[ch], model.Money(fen))
			c.ByCampaign[camp] = AddTotal(c.ByCampaign[camp], model.Money(fen))
			if ag != 0 {
				c.ByAdGroup[ag] = AddTotal(c.ByAdGroup[ag], model.Money(fen))
			}
			if kw != 0 {
				c.ByKeyword[kw] = AddTotal(c.ByKeyword[kw], model.Money(fen))
			}
			return nil
		})
	return c, err
}

// AttributionNames are the display names of the keys credits roll up by.
type AttributionNames struct {
	Campaigns map[int64][2]string // name, name_en
	AdGroups  map[int64][2]string // name, campaign name
	Keywords  map[int64]string
	Assets    map[int64][2]string // title, title_en
	Promoters map[int64]string    // name, or email when the name is empty
}

// AttributionNames reads the names of the given campaigns, ad groups,
// keywords, content assets and promoters (users).
func (s *Store) AttributionNames(ctx context.Context, campaigns, adGroups, keywords, assets, promoters []int64) (AttributionNames, error) {
	n := AttributionNames{Campaigns: map[int64][2]string{}, AdGroups: map[int64][2]string{}, Keywords: map[int64]string{},
		Assets: map[int64][2]string{}, Promoters: map[int64]string{}}
	// query's %s is the condition on the id column.
	read := func(query string, ids []int64, fn func(id int64, a, b string)) error {
		for start := 0; start < len(ids); start += idChunk {
			cond, args := inList("id", ids[start:min(start+idChunk, len(ids))])
			if err := s.each(ctx, fmt.Sprintf(query, cond), args, func(r *sql.Rows) error {
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
	if err := read(`SELECT id, name, name_en FROM campaigns WHERE %s`, campaigns, func(id int64, a, b string) { n.Campaigns[id] = [2]string{a, b} }); err != nil {
		return n, err
	}
	if err := read(`SELECT id, name, (SELECT c.name FROM campaigns c WHERE c.id = campaign_id) FROM ad_groups WHERE %s`, adGroups,
		func(id int64, a, b string) { n.AdGroups[id] = [2]string{a, b} }); err != nil {
		return n, err
	}
	if err := read(`SELECT id, text, match_type FROM keywords WHERE %s`, keywords, func(id int64, a, _ string) { n.Keywords[id] = a }); err != nil {
		return n, err
	}
	if err := read(`SELECT id, title, title_en FROM content_assets WHERE %s`, assets, func(id int64, a, b string) { n.Assets[id] = [2]string{a, b} }); err != nil {
		return n, err
	}
	err := read(`SELECT id, name, email FROM users WHERE %s`, promoters, func(id int64, a, b string) {
		if a == "" {
			a = b
		}
		n.Promoters[id] = a
	})
	return n, err
}
