package store_test

import (
	"maps"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// TestLinkFigures counts clicks by when they happened and leads by when
// the person became one, after a click of the link at or before it
// (whenever the click): a lead counts once per link however often they
// clicked it, and once in the total however many links they clicked.
func TestLinkFigures(t *testing.T) {
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 9, 0, 0, 0, time.UTC) }
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		// Person 1 becomes a lead on 10 March, 2 on 20 March, 4 on 1
		// February; 3 never does.
		for _, p := range []struct {
			id     int64
			leadAt any
		}{{1, day(3, 10)}, {2, day(3, 20)}, {3, nil}, {4, day(2, 1)}} {
			if err := s.ExecForTest(ctx, `INSERT INTO persons (id, stage, first_seen_at, created_at, lead_at) VALUES (?, 'lead', ?, ?, ?)`,
				p.id, day(1, 1), day(1, 1), p.leadAt); err != nil {
				t.Fatal(err)
			}
		}
		for i, tp := range []struct {
			person int64
			at     time.Time
			link   any
		}{
			{1, day(3, 5), 1}, {1, day(3, 8), 1}, // two clicks, one lead
			{1, day(3, 9), 2},  // the same lead counts for the second link too
			{1, day(3, 15), 2}, // after becoming a lead: a click, no lead
			{1, day(3, 6), nil},
			{2, day(3, 20), 2}, // at the very moment of becoming a lead
			{2, day(2, 25), 1}, // a click before the range leads to a lead in it
			{3, day(3, 12), 1},
			{4, day(1, 30), 1}, // a lead before the range
		} {
			if err := s.ExecForTest(ctx, `INSERT INTO touchpoints (id, person_id, occurred_at, type, channel, link_id) VALUES (?, ?, ?, 'tracked_link_clicked', 'wechat', ?)`,
				i+1, tp.person, tp.at, tp.link); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name     string
			from, to time.Time
			want     map[int64]store.LinkFigures
			total    store.LinkFigures
		}{
			{"March", day(3, 1), day(4, 1), map[int64]store.LinkFigures{1: {Clicks: 3, Leads: 2}, 2: {Clicks: 3, Leads: 2}}, store.LinkFigures{Clicks: 6, Leads: 2}},
			{"to the second lead", day(3, 1), day(3, 20), map[int64]store.LinkFigures{1: {Clicks: 3, Leads: 1}, 2: {Clicks: 2, Leads: 1}}, store.LinkFigures{Clicks: 5, Leads: 1}},
			{"open", time.Time{}, time.Time{}, map[int64]store.LinkFigures{1: {Clicks: 5, Leads: 3}, 2: {Clicks: 3, Leads: 2}}, store.LinkFigures{Clicks: 8, Leads: 3}},
			{"before any", day(1, 1), day(1, 2), map[int64]store.LinkFigures{}, store.LinkFigures{}},
		} {
			got, total, err := s.LinkFigures(ctx, tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) || total != tc.total {
				t.Errorf("%s: %v total %+v, want %v total %+v", tc.name, got, total, tc.want, tc.total)
			}
		}
	})
}
