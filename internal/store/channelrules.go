package store

import (
	"context"
	"database/sql"
)

// TouchSource is what a touchpoint made from an event was derived from, for
// reclassification.
type TouchSource struct {
	TouchpointID    int64
	PersonID        int64
	Channel         string
	Source          string
	Medium          string
	EventType       string
	EventName       string
	URL             string
	Referrer        string
	UTMSource       string
	UTMMedium       string
	UTMCampaign     string
	UTMTerm         string
	UTMContent      string
	ClickIDType     string
	ClickID         string
	CampaignChannel string
	PromoterID      int64
}

// TouchSources walks the touchpoints made from events with id > afterID,
// CountTouchSources counts the touchpoints made from events: what
// TouchSources goes through, for a reclassification's progress.
func (s *Store) CountTouchSources(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM touchpoints WHERE event_id IS NOT NULL").Scan(&n)
	return n, err
}

// up to limit of them, in id order.
func (s *Store) TouchSources(ctx context.Context, afterID int64, limit int) ([]TouchSource, error) {
	return scanAll(ctx, s, s.r, `SELECT t.id, COALESCE(t.person_id, 0), t.channel, t.source, t.medium, e.type, e.name, e.url, e.referrer,
		e.source, e.medium, e.campaign, e.term, e.content, e.click_id_type, e.click_id, COALESCE(c.channel, ''), COALESCE(t.promoter_id, 0)
		FROM touchpoints t JOIN events e ON e.id = t.event_id LEFT JOIN campaigns c ON c.id = t.campaign_id
		WHERE t.id > ? ORDER BY t.id LIMIT ?`, []any{afterID, limit}, func(r rowScanner) (TouchSource, error) {
		var t TouchSource
		err := r.Scan(&t.TouchpointID, &t.PersonID, &t.Channel, &t.Source, &t.Medium, &t.EventType, &t.EventName, &t.URL, &t.Referrer,
			&t.UTMSource, &t.UTMMedium, &t.UTMCampaign, &t.UTMTerm, &t.UTMContent, &t.ClickIDType, &t.ClickID, &t.CampaignChannel, &t.PromoterID)
		return t, err
	})
}

// Reclassified is a touchpoint's new channel, source and medium.
type Reclassified struct {
	TouchpointID int64
	PersonID     int64
	Channel      string
	Source       string
	Medium       string
}

// UpdateTouchChannels writes new channels in one transaction and refreshes
// the first touch of the persons concerned. It marks the roll-ups they
// change: the days of the touches, and the stage history and lead day of
// their persons (whose first-touch channel and lead source may change).
func (s *Store) UpdateTouchChannels(ctx context.Context, changes []Reclassified) error {
	if len(changes) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, s.q("UPDATE touchpoints SET channel = ?, source = ?, medium = ? WHERE id = ?"))
		if err != nil {
			return err
		}
		defer st.Close()
		persons := map[int64]bool{}
		touches := make([]int64, 0, len(changes))
		for _, c := range changes {
			if _, err := st.ExecContext(ctx, c.Channel, clip(c.Source, 200), clip(c.Medium, 200), c.TouchpointID); err != nil {
				return err
			}
			touches = append(touches, c.TouchpointID)
			if c.PersonID != 0 {
				persons[c.PersonID] = true
			}
		}
		ids := make([]int64, 0, len(persons))
		for id := range persons {
			if err := refreshFirstTouch(ctx, s, tx, id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		facts, err := readPersonFacts(ctx, s, tx, ids, false)
		if err != nil {
			return err
		}
		err = inChunks(touches, func(_ []int64, in string, args []any) error {
			at, err := instantsOn(ctx, s, tx, "SELECT occurred_at FROM touchpoints WHERE id IN "+in, args)
			facts.touches = append(facts.touches, at...)
			return err
		})
		if err != nil {
			return err
		}
		return facts.mark(ctx, s, tx)
	})
}
