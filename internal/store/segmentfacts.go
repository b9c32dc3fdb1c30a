package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// MaxSegmentFactsPersons bounds the persons of one facts load: it serves
// a few persons at a time (a journey's branch), builds use SQL.
const MaxSegmentFactsPersons = 500

// SegmentFacts loads what a validated person filter reads of each of the
// persons (not merged away; others are left out of the map), for
// model.SegmentCond.Eval: their fields and their account's, traits, and
// only as far as the filter asks, their last touch's channel, consents
// and the counts of its behaviour conditions at now.
func (s *Store) SegmentFacts(ctx context.Context, cond *model.SegmentCond, personIDs []int64, now time.Time) (map[int64]*model.SegmentFacts, error) {
	ids := slices.Clone(personIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > MaxSegmentFactsPersons {
		return nil, fmt.Errorf("segment facts: at most %d persons at a time", MaxSegmentFactsPersons)
	}
	out := map[int64]*model.SegmentFacts{}
	if len(ids) == 0 {
		return out, nil
	}
	err := inChunks(ids, func(_ []int64, in string, args []any) error {
		return s.each(ctx, `SELECT p.id, p.stage, p.grade, p.sdr_class, p.fit_score, p.engagement_score, p.score, p.owner_id, p.title,
			p.first_touch_channel, p.traits, a.id, a.name, a.industry, a.size_band, a.region, a.city, a.tier, a.plan, a.domain, a.employees, a.owner_id
			FROM persons p LEFT JOIN accounts a ON a.id = p.account_id WHERE p.merged_into_id IS NULL AND p.id IN `+in, args, func(r *sql.Rows) error {
			var id int64
			var stage, grade, sdr, title, first, traits string
			var fit, eng, score float64
			var owner, accountID, employees, accountOwner sql.NullInt64
			var name, industry, size, region, city, tier, plan, domain sql.NullString
			if err := r.Scan(&id, &stage, &grade, &sdr, &fit, &eng, &score, &owner, &title, &first, &traits, &accountID, &name, &industry,
				&size, &region, &city, &tier, &plan, &domain, &employees, &accountOwner); err != nil {
				return err
			}
			f := &model.SegmentFacts{Values: map[string]any{"stage": stage, "grade": grade, "sdr_class": sdr, "fit_score": fit,
				"engagement_score": eng, "score": score, "title": title, "first_touch_channel": first},
				Consents: map[string]string{}, Counts: map[*model.SegmentCond]int{}}
			if owner.Valid {
				f.Values["owner"] = owner.Int64
			}
			if accountID.Valid {
				for k, v := range map[string]sql.NullString{"name": name, "industry": industry, "size_band": size, "region": region, "city": city,
					"tier": tier, "plan": plan, "domain": domain} {
					f.Values["account."+k] = v.String
				}
				f.Values["account.employees"] = float64(employees.Int64)
				if accountOwner.Valid {
					f.Values["account.owner"] = accountOwner.Int64
				}
			}
			dec := json.NewDecoder(bytes.NewReader([]byte(traits)))
			dec.UseNumber()
			if err := dec.Decode(&f.Traits); err != nil {
				f.Traits = nil // unreadable traits match no trait condition, as in SQL
			}
			out[id] = f
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("segment facts: %w", err)
	}
	live := make([]int64, 0, len(out))
	for id := range out {
		live = append(live, id)
	}
	slices.Sort(live)
	var leaves []*model.SegmentCond
	cond.Walk(func(l *model.SegmentCond) { leaves = append(leaves, l) })
	needLast := slices.ContainsFunc(leaves, func(l *model.SegmentCond) bool { return l.Field == "last_touch_channel" })
	needConsent := slices.ContainsFunc(leaves, func(l *model.SegmentCond) bool { return l.Type == model.FieldConsent })
	if needLast {
		for _, id := range live {
			var ch string
			err := s.r.QueryRowContext(ctx, s.q(`SELECT channel FROM touchpoints`+indexedBy(s.dialect, "touchpoints_person_time")+
				` WHERE person_id = ? ORDER BY occurred_at DESC, id DESC LIMIT 1`), id).Scan(&ch)
			if err == nil {
				out[id].Values["last_touch_channel"] = ch
			} else if err != sql.ErrNoRows {
				return nil, fmt.Errorf("segment facts: last touch: %w", err)
			}
		}
	}
	if needConsent {
		err := inChunks(live, func(_ []int64, in string, args []any) error {
			return s.each(ctx, `SELECT person_id, channel, status FROM consents WHERE person_id IN `+in, args, func(r *sql.Rows) error {
				var id int64
				var ch, st string
				if err := r.Scan(&id, &ch, &st); err != nil {
					return err
				}
				out[id].Consents[ch] = st
				return nil
			})
		})
		if err != nil {
			return nil, fmt.Errorf("segment facts: consents: %w", err)
		}
	}
	for _, l := range leaves {
		if l.Type != model.FieldBehaviour {
			continue
		}
		err := inChunks(live, func(_ []int64, in string, args []any) error {
			var q string
			var extra []any
			switch l.Field {
			case "event":
				q = `SELECT person_id, COUNT(*) FROM events WHERE type = 'track' AND name = ?`
				extra = []any{l.Texts[0]}
				if l.Days > 0 {
					q += ` AND ts >= ?`
					extra = append(extra, utc(now).Add(-time.Duration(l.Days)*24*time.Hour))
				}
			default:
				col := "type"
				if l.Field == "touch_channel" {
					col = "channel"
				}
				q = `SELECT person_id, COUNT(*) FROM touchpoints` + indexedBy(s.dialect, "touchpoints_person_time") + ` WHERE ` + col + ` = ?`
				extra = []any{l.Texts[0]}
				if l.Days > 0 {
					q += ` AND occurred_at >= ?`
					extra = append(extra, utc(now).Add(-time.Duration(l.Days)*24*time.Hour))
				}
			}
			if l.Field == "event" {
				q = strings.Replace(q, "FROM events", "FROM events"+indexedBy(s.dialect, "events_person_time"), 1)
			}
			return s.each(ctx, q+` AND person_id IN `+in+` GROUP BY person_id`, append(extra, args...), func(r *sql.Rows) error {
				var id int64
				var n int
				if err := r.Scan(&id, &n); err != nil {
					return err
				}
				out[id].Counts[l] = n
				return nil
			})
		})
		if err != nil {
			return nil, fmt.Errorf("segment facts: %s: %w", l.Field, err)
		}
	}
	return out, nil
}

// indexedBy pins SQLite to an index (see segCompiler.byPerson).
func indexedBy(d Dialect, index string) string {
	if d == Postgres {
		return ""
	}
	return " INDEXED BY " + index
}
