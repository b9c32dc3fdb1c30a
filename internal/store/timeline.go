package store

import (
	"context"
	"database/sql"
	"slices"

	"github.com/revloop/revloop/internal/model"
)

// A person's timeline is read from every table that holds part of their
// history, each along its person index, newest first, and merged: a page
// asks each source for at most a page of items before the cursor and
// keeps the newest of them.

// timelineSource is one table's part of a timeline: a query of the
// person's items (the person id is its first argument, the cursor's
// condition and the order follow), the columns of its time and id, and
// how a row is read.
type timelineSource struct {
	kind     model.TimelineKind
	from     string // SELECT ... WHERE <person condition>
	at, id   string // columns of the item's time and id
	scan     func(rowScanner) (model.TimelineItem, error)
	countSQL string
}

var timelineSources = []timelineSource{
	{
		kind: model.ItemTouch,
		from: `SELECT t.id, t.occurred_at, t.type, t.channel, t.source, t.medium, t.url, COALESCE(t.campaign_id, 0), COALESCE(c.code, ''),
			COALESCE(c.name, ''), COALESCE(c.name_en, ''), COALESCE(k.text, ''), COALESCE(ca.title, ''), t.watch_seconds,
			COALESCE(t.event_id, 0), COALESCE(e.message_id, ''), COALESCE(e.name, ''), COALESCE(e.campaign, '')
			FROM touchpoints t LEFT JOIN campaigns c ON c.id = t.campaign_id LEFT JOIN keywords k ON k.id = t.keyword_id
			LEFT JOIN content_assets ca ON ca.id = t.content_id LEFT JOIN events e ON e.id = t.event_id
			WHERE t.person_id = ?`,
		at: "t.occurred_at", id: "t.id",
		scan: func(r rowScanner) (model.TimelineItem, error) {
			it := model.TimelineItem{Kind: model.ItemTouch}
			var ch string
			err := r.Scan(&it.ID, &it.At, &it.Type, &ch, &it.Source, &it.Medium, &it.URL, &it.CampaignID, &it.CampaignCode,
				&it.CampaignName, &it.CampaignNameEN, &it.Keyword, &it.Content, &it.WatchSeconds, &it.EventID, &it.MessageID, &it.Name, &it.RawCampaign)
			it.Channel = model.Channel(ch)
			return it, err
		},
		countSQL: "SELECT COUNT(*) FROM touchpoints t WHERE t.person_id = ?",
	},
	{
		kind: model.ItemEvent,
		from: `SELECT e.id, e.ts, e.type, e.name, e.url, e.source, e.medium, e.campaign, e.message_id FROM events e
			WHERE e.person_id = ? AND NOT EXISTS (SELECT 1 FROM touchpoints t WHERE t.event_id = e.id)`,
		at: "e.ts", id: "e.id",
		scan: func(r rowScanner) (model.TimelineItem, error) {
			it := model.TimelineItem{Kind: model.ItemEvent}
			err := r.Scan(&it.ID, &it.At, &it.Type, &it.Name, &it.URL, &it.Source, &it.Medium, &it.RawCampaign, &it.MessageID)
			it.EventID = it.ID
			return it, err
		},
		countSQL: "SELECT COUNT(*) FROM events e WHERE e.person_id = ? AND NOT EXISTS (SELECT 1 FROM touchpoints t WHERE t.event_id = e.id)",
	},
	{
		kind: model.ItemStage,
		from: "SELECT sc.id, sc.changed_at, sc.from_stage, sc.to_stage, sc.reason, sc.actor FROM stage_changes sc WHERE sc.person_id = ?",
		at:   "sc.changed_at", id: "sc.id",
		scan: func(r rowScanner) (model.TimelineItem, error) {
			it := model.TimelineItem{Kind: model.ItemStage}
			var from, to string
			err := r.Scan(&it.ID, &it.At, &from, &to, &it.Reason, &it.Actor)
			it.From, it.To = model.Stage(from), model.Stage(to)
			return it, err
		},
		countSQL: "SELECT COUNT(*) FROM stage_changes sc WHERE sc.person_id = ?",
	},
	{
		kind: model.ItemActivity,
		from: `SELECT a.id, a.occurred_at, a.kind, a.note, u.email, u.name FROM activities a JOIN users u ON u.id = a.user_id
			WHERE a.person_id = ?`,
		at: "a.occurred_at", id: "a.id",
		scan: func(r rowScanner) (model.TimelineItem, error) {
			it := model.TimelineItem{Kind: model.ItemActivity}
			err := r.Scan(&it.ID, &it.At, &it.ActivityKind, &it.Note, &it.UserEmail, &it.UserName)
			return it, err
		},
		countSQL: "SELECT COUNT(*) FROM activities a WHERE a.person_id = ?",
	},
	{
		kind: model.ItemOpportunity,
		from: `SELECT o.id, o.created_at, o.name, o.stage, o.amount_fen, oc.role, oc.is_primary FROM opportunities o
			JOIN opportunity_contacts oc ON oc.opportunity_id = o.id WHERE oc.person_id = ?`,
		at: "o.created_at", id: "o.id",
		scan:     scanOpportunityItem(model.ItemOpportunity),
		countSQL: "SELECT COUNT(*) FROM opportunity_contacts oc WHERE oc.person_id = ?",
	},
	{
		kind: model.ItemOpportunityClosed,
		from: `SELECT o.id, o.closed_at, o.name, o.stage, o.amount_fen, oc.role, oc.is_primary FROM opportunities o
			JOIN opportunity_contacts oc ON oc.opportunity_id = o.id WHERE oc.person_id = ? AND o.closed_at IS NOT NULL`,
		at: "o.closed_at", id: "o.id",
		scan: scanOpportunityItem(model.ItemOpportunityClosed),
		countSQL: `SELECT COUNT(*) FROM opportunities o JOIN opportunity_contacts oc ON oc.opportunity_id = o.id
			WHERE oc.person_id = ? AND o.closed_at IS NOT NULL`,
	},
	{
		kind: model.ItemOrder,
		from: `SELECT r.id, r.ordered_at, r.amount_fen, r.kind, o.id, o.name FROM orders r JOIN opportunities o ON o.id = r.opportunity_id
			JOIN opportunity_contacts oc ON oc.opportunity_id = o.id WHERE oc.person_id = ?`,
		at: "r.ordered_at", id: "r.id",
		scan: func(r rowScanner) (model.TimelineItem, error) {
			it := model.TimelineItem{Kind: model.ItemOrder}
			err := r.Scan(&it.ID, &it.At, &it.Amount, &it.OrderKind, &it.OpportunityID, &it.OpportunityName)
			return it, err
		},
		countSQL: `SELECT COUNT(*) FROM orders r JOIN opportunity_contacts oc ON oc.opportunity_id = r.opportunity_id
			WHERE oc.person_id = ?`,
	},
}

func scanOpportunityItem(kind model.TimelineKind) func(rowScanner) (model.TimelineItem, error) {
	return func(r rowScanner) (model.TimelineItem, error) {
		it := model.TimelineItem{Kind: kind}
		var primary bool
		err := r.Scan(&it.ID, &it.At, &it.OpportunityName, &it.OpportunityStage, &it.Amount, &it.Role, &primary)
		it.OpportunityID, it.Primary = it.ID, primary
		return it, err
	}
}

// PersonTimelinePage reads up to limit items of a person's timeline,
// newest first, after the key before (nil: from the newest). next is the
// key to continue from, nil when nothing older remains.
func (s *Store) PersonTimelinePage(ctx context.Context, personID int64, before *model.TimelineKey, limit int) (items []model.TimelineItem, next *model.TimelineKey, err error) {
	want := limit + 1
	for _, src := range timelineSources {
		cond, args := "", []any{personID}
		if before != nil {
			// Descending (at, kind rank, id): a kind ranked below the
			// cursor's comes after it at the cursor's instant too, one
			// ranked above only at earlier instants.
			switch r, cr := src.kind.Rank(), before.Kind.Rank(); {
			case r < cr:
				cond, args = " AND "+src.at+" <= ?", append(args, utc(before.At))
			case r > cr:
				cond, args = " AND "+src.at+" < ?", append(args, utc(before.At))
			default:
				cond = " AND (" + src.at + " < ? OR (" + src.at + " = ? AND " + src.id + " < ?))"
				args = append(args, utc(before.At), utc(before.At), before.ID)
			}
		}
		got, err := scanAll(ctx, s, s.r, src.from+cond+" ORDER BY "+src.at+" DESC, "+src.id+" DESC LIMIT ?", append(args, want), src.scan)
		if err != nil {
			return nil, nil, err
		}
		for i := range got {
			got[i].At = got[i].At.UTC()
		}
		items = append(items, got...)
	}
	slices.SortFunc(items, func(a, b model.TimelineItem) int {
		ka, kb := a.Key(), b.Key()
		switch {
		case kb.Before(ka):
			return -1
		case ka.Before(kb):
			return 1
		}
		return 0
	})
	if len(items) > limit {
		items = items[:limit]
		k := items[len(items)-1].Key()
		next = &k
	}
	if items == nil {
		items = []model.TimelineItem{}
	}
	return items, next, nil
}

// PersonTimelineCounts counts a person's timeline items by kind.
func (s *Store) PersonTimelineCounts(ctx context.Context, personID int64) (model.TimelineCounts, error) {
	out := model.TimelineCounts{}
	for _, src := range timelineSources {
		var n int64
		if err := s.r.QueryRowContext(ctx, s.q(src.countSQL), personID).Scan(&n); err != nil && err != sql.ErrNoRows {
			return nil, err
		}
		out[src.kind] = n
	}
	return out, nil
}
