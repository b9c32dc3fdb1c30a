// Package demo builds a deterministic synthetic dataset for revloop: one
// year of a Chinese B2B software company (云启数据 / YunQi Data, a CDP and
// marketing-cloud vendor) with its accounts, buyers, campaigns, touches,
// costs, lifecycle history, deals, orders and sales tasks. The same options
// always give the same data, byte for byte.
//
// Channels have genuinely different effects: paid search and feed ads bring
// many cheap leads that seldom buy; webinars, events and partner referrals
// bring fewer leads that buy far more often; content shows up mid-journey;
// direct visits and sales calls close journeys. First-touch, last-touch and
// data-driven attribution therefore disagree, in ways one can explain.
package demo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/rollup"
	"github.com/revloop/revloop/internal/store"
)

// Options choose the dataset.
type Options struct {
	// Seed picks the dataset; the same seed and End give the same data.
	Seed int64
	// End is the last day of data: its date, a day of the team's time
	// zone (the default, Asia/Shanghai; the time of day is ignored). Nothing
	// is dated after that day's last second there. Zero means today, with
	// no data after the present moment.
	End time.Time
	// Scale multiplies the number of accounts, people and touches. Zero
	// means 1: about 6,000 accounts, 36,000 people (27,000 of them
	// known leads), 500,000 touchpoints, 2,000 opportunities and 700 orders.
	Scale float64
}

// Summary counts what was generated.
type Summary struct {
	From, To            time.Time // the data covers [From, To)
	Users               int
	Accounts            int
	Persons             int
	KnownPersons        int // leads and beyond
	Visitors            int // anonymous only
	Customers           int
	Identities          int
	Campaigns           int
	AdGroups            int
	Keywords            int
	ContentAssets       int
	Touchpoints         int
	DailyCosts          int
	StageChanges        int
	Opportunities       int
	OpportunityContacts int
	Orders              int
	Tasks               int
	Pipeline            model.Money
	Revenue             model.Money
	Cost                model.Money
}

// MaxScale bounds Scale so that a typo cannot exhaust memory.
const MaxScale = 10

// Generate builds the dataset described by opts and loads it into s in one
// transaction. s must hold no business data yet.
func Generate(ctx context.Context, s *store.Store, opts Options) (Summary, error) {
	g, err := build(opts)
	if err != nil {
		return Summary{}, err
	}
	if err := s.Load(ctx, g.load); err != nil {
		return Summary{}, fmt.Errorf("load demo data: %w", err)
	}
	sum, tl := g.summary(), g.tl
	// The world is in the database now: drop it, so that the runs below,
	// which read the database, do not hold it in memory beside their own.
	g = nil
	// Scores, credits, grades and the model are as of the data's last
	// second (what the team's day ends with), or now when the data year
	// ends later today.
	asOf := unixTime(tl - 1)
	if now := time.Now().UTC().Truncate(time.Second); now.Before(asOf) {
		asOf = now
	}
	if err := afterLoad(ctx, s, asOf); err != nil {
		return Summary{}, err
	}
	// The dashboards' roll-ups, once what they sum is in place.
	if _, err := rollup.Refresh(ctx, s, asOf); err != nil {
		return Summary{}, fmt.Errorf("build roll-ups: %w", err)
	}
	// Review targets and past reviews' action items, from the figures.
	if err := seedReviews(ctx, s, asOf); err != nil {
		return Summary{}, fmt.Errorf("campaign reviews: %w", err)
	}
	if err := seedSegments(ctx, s, asOf); err != nil {
		return Summary{}, fmt.Errorf("segments: %w", err)
	}
	// Two live nurture journeys with their history.
	scale := opts.Scale
	if scale == 0 {
		scale = 1
	}
	if err := seedJourneys(ctx, s, asOf, scale); err != nil {
		return Summary{}, fmt.Errorf("journeys: %w", err)
	}
	if err := seedPeriods(ctx, s, asOf); err != nil {
		return Summary{}, fmt.Errorf("period reviews: %w", err)
	}
	return sum, nil
}

func build(opts Options) (*gen, error) {
	scale := opts.Scale
	if scale == 0 {
		scale = 1
	}
	if scale < 0 || scale > MaxScale || math.IsNaN(scale) {
		return nil, fmt.Errorf("demo scale %v out of range (0 < scale ≤ %d)", opts.Scale, MaxScale)
	}
	// The data year is a year of the team's days: the demo's database is
	// new, so its team time zone is the default one, and --end 2026-11-30
	// means up to the last second of 30 November there, as a date-only
	// CRM time does (model.Calendar.EndOfDay).
	cal := model.DefaultCalendar()
	var lastDay, limit time.Time
	if opts.End.IsZero() {
		now := time.Now().UTC().Truncate(time.Second)
		lastDay, limit = cal.Day(now), now
	} else {
		lastDay = time.Date(opts.End.Year(), opts.End.Month(), opts.End.Day(), 0, 0, 0, 0, time.UTC)
		limit = cal.Start(lastDay.AddDate(0, 0, 1)).UTC()
	}
	first := cal.Start(lastDay.AddDate(0, 0, -364)).UTC()
	if limit.Sub(first) < 300*24*time.Hour {
		return nil, errors.New("demo: the data year is too short")
	}
	g := newGen(opts.Seed, first.Unix(), limit.Unix(), scale)
	for d := 0; d < g.days; d++ {
		t := g.dayStart(d)
		if lt := unixTime(t + cst); lt.Weekday() == time.Tuesday && lt.Day() <= 7 {
			g.newsletterDays = append(g.newsletterDays, t)
		}
	}

	nAccounts := max(20, int(math.Round(6000*scale)))
	nVisitors := max(10, int(math.Round(9000*scale)))
	g.buildUsers()
	g.buildCampaigns()
	g.buildAccounts(nAccounts)
	g.buildPersons(nVisitors)
	g.touches = make([]touch, 0, int(float64(560_000)*scale)+1000)
	var scratch []touch
	for i := range g.persons {
		p := &g.persons[i]
		if p.known {
			scratch = g.knownJourney(p, scratch)
		} else {
			g.visitorJourney(p)
		}
	}
	g.buildDeals()
	g.recycleIdleMQLs()
	g.buildOrders()
	g.sortTouches()
	slices.SortStableFunc(g.changes, func(a, b stageChange) int {
		if c := cmpInt(a.at, b.at); c != 0 {
			return c
		}
		return cmpInt(a.person, b.person)
	})
	for i := range g.changes {
		g.changes[i].id = int64(i + 1)
	}
	g.finishPersons()
	g.buildTasks()
	g.buildCosts()
	g.setTargets()
	return g, nil
}

// sortTouches numbers the touches in the order they are loaded: by
// fortnight, then person, then time. Within a fortnight ids do not follow
// time, but a person's touches do, and both indexes SQLite maintains on
// touchpoints (person, time) and (time) then grow in a small region at a
// time, which makes the load three times faster than in strict time order
// with SQLite's default page cache. The sort runs over an index rather
// than the wide structs themselves.
func (g *gen) sortTouches() {
	const window = touchWindowDays * day
	idx := make([]int32, len(g.touches))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		x, y := &g.touches[a], &g.touches[b]
		if c := cmpInt((x.at-g.t0)/window, (y.at-g.t0)/window); c != 0 {
			return c
		}
		if c := cmpInt(x.person, y.person); c != 0 {
			return c
		}
		if c := cmpInt(x.at, y.at); c != 0 {
			return c
		}
		return int(a - b)
	})
	// Put every touch in its place, cycle by cycle: position i takes the
	// touch at idx[i]. In place, so that the touches, the largest part of
	// the world, are never held twice.
	for i := range idx {
		if idx[i] == int32(i) {
			continue
		}
		tmp, j := g.touches[i], i
		for {
			k := int(idx[j])
			idx[j] = int32(j)
			if k == i {
				g.touches[j] = tmp
				break
			}
			g.touches[j] = g.touches[k]
			j = k
		}
	}
	for i := range g.touches {
		g.touches[i].id = int64(i + 1)
	}
}

const touchWindowDays = 14

func unixTime(t int64) time.Time { return time.Unix(t, 0).UTC() }

func (g *gen) summary() Summary {
	s := Summary{
		From: unixTime(g.t0), To: unixTime(g.tl),
		Users: len(g.users), Accounts: len(g.accounts), Persons: len(g.persons), Identities: len(g.identities),
		Campaigns: len(g.camps) + len(g.programmes), AdGroups: len(g.adGroups), Keywords: len(g.keywords), ContentAssets: len(g.assets),
		Touchpoints: len(g.touches), DailyCosts: len(g.costs), StageChanges: len(g.changes), Opportunities: len(g.opps),
		OpportunityContacts: len(g.contacts), Orders: len(g.orders), Tasks: len(g.tasks),
	}
	for i := range g.persons {
		p := &g.persons[i]
		if p.known {
			s.KnownPersons++
		} else {
			s.Visitors++
		}
		if p.stage == model.StageCustomer {
			s.Customers++
		}
	}
	for _, o := range g.opps {
		s.Pipeline += model.Money(o.amount)
	}
	for _, o := range g.orders {
		s.Revenue += model.Money(o.amount)
	}
	for _, c := range g.costs {
		s.Cost += model.Money(c.costFen)
	}
	return s
}
