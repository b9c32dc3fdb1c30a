package report

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The events dashboard: webinars, exhibitions, salons, conferences — the
// campaigns of the event channels — with their registrations, attendance,
// watch time, leads and what those leads became, pipeline, revenue and
// cost. Every figure is read from the roll-ups (and daily costs), plus the
// count of watched attendances from the partial index of watched touches.
// The words are defined in docs/metrics.md ("Events").

// EventChannels are the channels whose campaigns are events.
var EventChannels = []model.Channel{model.ChannelWebinar, model.ChannelOfflineEvent}

// RegistrationTypes are the touch types that register a person for an
// event: the demo's webinar_register, a collected "Webinar Registered" and
// an imported or collected "Event Registered".
var RegistrationTypes = []string{"webinar_register", "webinar_registered", "event_registered"}

// AttendanceTypes are the touch types that say a person was there: a
// webinar attendance (the demo's webinar_attend, a collected "Webinar
// Attended"), an imported or collected attendance or check-in ("Event
// Attended", "Event Checked In", "Event Check-in") and a badge scan (the
// demo's badge_scan, an imported "Badge Scanned").
var AttendanceTypes = []string{"webinar_attend", "webinar_attended", "event_attended", "event_checked_in", "event_check_in",
	"badge_scan", "badge_scanned"}

// LongWatch is the watch time from which a viewer counts as having
// watched for long ("watched 30 minutes or more").
const LongWatch = 30 * time.Minute

// EventsQuery selects the events dashboard.
type EventsQuery struct {
	Period model.Period // team days, both included
	Model  string       // a stored attribution model (credits.Models)
	Event  int64        // the event to detail; 0 for none
}

// EventFigures are an event's figures (or the total of all events).
type EventFigures struct {
	Registrations int64 `json:"registrations"`
	Attendances   int64 `json:"attendances"`
	// AttendanceRate is attendances ÷ registrations, over the events with
	// registrations (an exhibition counted by badge scans has none).
	AttendanceRate *float64 `json:"attendance_rate"`
	// Watch time: WatchSeconds summed over the event's touches; Viewers
	// are the touches that carry a watch time, LongViewers those of them
	// watched LongWatch or more.
	WatchSeconds    int64    `json:"watch_seconds"`
	Viewers         int64    `json:"viewers"`
	AvgWatchMinutes *float64 `json:"avg_watch_minutes"` // watch time ÷ viewers, in minutes
	LongViewers     int64    `json:"long_viewers"`
	LongViewShare   *float64 `json:"long_view_share"` // long viewers ÷ viewers
	// Leads whose lead source is the event, and of them how many reached
	// MQL and SQL by now.
	Leads int64 `json:"leads"`
	MQLs  int64 `json:"mqls"`
	SQLs  int64 `json:"sqls"`
	// Opportunities and Customers of those leads (for the drill-down's
	// funnel).
	Opportunities int64 `json:"opportunities"`
	Customers     int64 `json:"customers"`
	// CreditedPipeline and WonRevenue are what the chosen model credits the
	// event with.
	CreditedPipeline model.Money `json:"credited_pipeline"`
	WonRevenue       model.Money `json:"won_revenue"`
	// Influenced: the opportunities with a credited touch of the event and
	// their amount. Nil in the total: influence does not add up.
	InfluencedPipeline      *model.Money `json:"influenced_pipeline"`
	InfluencedOpportunities *int64       `json:"influenced_opportunities"`
	Cost                    model.Money  `json:"cost"`
	CostPerLead             *model.Money `json:"cost_per_lead"`
	CostPerAttendee         *model.Money `json:"cost_per_attendee"`
	ROAS                    *float64     `json:"roas"` // won revenue ÷ cost
	// registeredAttendances are the attendances of the events with
	// registrations: what the attendance rate divides.
	registeredAttendances int64
}

// EventRow is one event: its campaign and its figures.
type EventRow struct {
	ID        int64         `json:"id"`
	Code      string        `json:"code"`
	Name      string        `json:"name"`
	NameEN    string        `json:"name_en"`
	Channel   model.Channel `json:"channel"`
	Kind      string        `json:"kind"`       // webinar, exhibition, salon, conference, ...
	StartDate *string       `json:"start_date"` // YYYY-MM-DD, null when unknown
	EndDate   *string       `json:"end_date"`
	Href      string        `json:"href"` // the campaign's page
	EventFigures
	last time.Time // the end date, or the start without one
}

// EventMonth is one month of all events together.
type EventMonth struct {
	Month            string      `json:"month"` // YYYY-MM
	Registrations    int64       `json:"registrations"`
	Attendances      int64       `json:"attendances"`
	WatchSeconds     int64       `json:"watch_seconds"`
	Leads            int64       `json:"leads"`
	MQLs             int64       `json:"mqls"`
	CreditedPipeline model.Money `json:"credited_pipeline"`
	WonRevenue       model.Money `json:"won_revenue"`
	Cost             model.Money `json:"cost"`
}

// EventDay is one day of one event.
type EventDay struct {
	Day           string `json:"day"` // YYYY-MM-DD
	Registrations int64  `json:"registrations"`
	Attendances   int64  `json:"attendances"`
	Leads         int64  `json:"leads"`
}

// EventDetail is the drill-down into one event: its row, the cohort
// funnel of its leads and its days.
type EventDetail struct {
	EventRow
	Funnel []FunnelStage `json:"funnel"`
	Days   []EventDay    `json:"days"`
}

// Events is the events dashboard.
type Events struct {
	From     string       `json:"from"`
	To       string       `json:"to"`
	Model    string       `json:"model"`
	Currency string       `json:"currency"`
	Events   []EventRow   `json:"events"`
	Total    EventFigures `json:"total"`
	Months   []EventMonth `json:"months"`
	Event    *EventDetail `json:"event,omitempty"`
}

// ErrNoSuchEvent is the answer for a drill-down into a campaign that is
// not an event.
var ErrNoSuchEvent = fmt.Errorf("no such event")

// creditColumnOf is the stored column of an attribution model's credits.
func creditColumnOf(name string) (string, error) {
	col, ok := credits.Column(attribution.Model(name))
	if !ok {
		return "", fmt.Errorf("attribution model %q is not stored", name)
	}
	return store.CreditColumns[col], nil
}

// Events computes the events dashboard.
func (r Reporter) Events(ctx context.Context, q EventsQuery) (Events, error) {
	col, err := creditColumnOf(q.Model)
	if err != nil {
		return Events{}, err
	}
	out := Events{From: calendarDay(q.Period.From), To: calendarDay(q.Period.To), Model: q.Model, Currency: "CNY", Events: []EventRow{}, Months: []EventMonth{}}
	camps, err := r.Store.CampaignsOfChannels(ctx, EventChannels)
	if err != nil {
		return out, fmt.Errorf("events: campaigns: %w", err)
	}
	programmes, err := r.Store.ProgrammeCampaigns(ctx)
	if err != nil {
		return out, fmt.Errorf("events: programmes: %w", err)
	}
	if q.Event != 0 && !slices.ContainsFunc(camps, func(c model.Campaign) bool { return c.ID == q.Event }) {
		return out, ErrNoSuchEvent
	}
	if len(camps) == 0 {
		finishEvent(&out.Total)
		return out, nil
	}
	ids := make([]int64, len(camps))
	for i, c := range camps {
		ids[i] = c.ID
	}
	base := store.RollupQuery{From: q.Period.From, To: q.Period.To, Campaigns: ids}
	f, err := r.eventFacts(ctx, base, col, q.Period)
	if err != nil {
		return out, err
	}

	for _, c := range camps {
		row := EventRow{ID: c.ID, Code: c.Code, Name: c.Name, NameEN: c.NameEN, Channel: c.Channel, Kind: c.Kind,
			StartDate: calendarDayPtr(c.StartDate), EndDate: calendarDayPtr(c.EndDate), Href: fmt.Sprintf("/campaigns/%d", c.ID), last: lastDay(c)}
		row.EventFigures = f.figures(c.ID)
		// A programme that groups events is listed only for figures of
		// its own; its events are listed themselves.
		if !f.active[c.ID] && (programmes[c.ID] || !overlaps(c, q.Period)) {
			continue
		}
		finishEvent(&row.EventFigures)
		out.Events = append(out.Events, row)
		addEvent(&out.Total, row.EventFigures)
	}
	finishEvent(&out.Total)
	sortEvents(out.Events)
	out.Months = f.monthList()

	if q.Event != 0 {
		d, err := r.eventDetail(ctx, q, camps, f)
		if err != nil {
			return out, err
		}
		out.Event = d
	}
	return out, nil
}

// eventFacts are the sums the events dashboard reads, by campaign and by
// month.
type eventFacts struct {
	touches map[int64]*EventFigures // registrations, attendances, watch time
	leads   map[int64]store.LeadSum
	pipe    map[int64]float64 // credited pipeline (fen)
	won     map[int64]float64 // credited won revenue (fen)
	infl    map[int64]store.InfluenceSum
	cost    map[int64]model.Money
	watch   map[int64]store.WatchCount
	active  map[int64]bool // any figure in the range
	months  map[time.Time]*monthFacts
}

type monthFacts struct {
	EventMonth
	pipe, won float64
}

func (r Reporter) eventFacts(ctx context.Context, base store.RollupQuery, col string, p model.Period) (*eventFacts, error) {
	f := &eventFacts{touches: map[int64]*EventFigures{}, leads: map[int64]store.LeadSum{}, pipe: map[int64]float64{},
		won: map[int64]float64{}, infl: map[int64]store.InfluenceSum{}, cost: map[int64]model.Money{},
		active: map[int64]bool{}, months: map[time.Time]*monthFacts{}}
	month := func(day time.Time) *monthFacts {
		m := f.months[day]
		if m == nil {
			m = &monthFacts{EventMonth: EventMonth{Month: day.Format("2006-01")}}
			f.months[day] = m
		}
		return m
	}

	q := base
	q.By = []store.RollupDim{store.DimMonth, store.DimCampaign, store.DimType}
	touches, err := r.Store.SumTouches(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("events: touches: %w", err)
	}
	for _, t := range touches {
		e := f.touches[t.CampaignID]
		if e == nil {
			e = &EventFigures{}
			f.touches[t.CampaignID] = e
		}
		m := month(t.Day)
		e.WatchSeconds += t.WatchSeconds
		m.WatchSeconds += t.WatchSeconds
		switch {
		case slices.Contains(RegistrationTypes, t.Type):
			e.Registrations += t.Touches
			m.Registrations += t.Touches
		case slices.Contains(AttendanceTypes, t.Type):
			e.Attendances += t.Touches
			m.Attendances += t.Touches
		}
		if t.Touches > 0 {
			f.active[t.CampaignID] = true
		}
	}

	q.By = []store.RollupDim{store.DimMonth, store.DimCampaign}
	leads, err := r.Store.SumLeads(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("events: leads: %w", err)
	}
	for _, l := range leads {
		s := f.leads[l.CampaignID]
		s.Leads += l.Leads
		s.MQLs += l.MQLs
		s.SQLs += l.SQLs
		s.Opportunities += l.Opportunities
		s.Customers += l.Customers
		f.leads[l.CampaignID] = s
		m := month(l.Day)
		m.Leads += l.Leads
		m.MQLs += l.MQLs
		if l.Leads > 0 {
			f.active[l.CampaignID] = true
		}
	}

	q.By = []store.RollupDim{store.DimMonth, store.DimKind, store.DimCampaign}
	q.Kinds = []model.ConversionKind{model.ConvOpportunity, model.ConvWon}
	credited, err := r.Store.SumCredits(ctx, q, col)
	if err != nil {
		return nil, fmt.Errorf("events: credits: %w", err)
	}
	for _, c := range credited {
		m := month(c.Day)
		switch c.Kind {
		case model.ConvOpportunity:
			f.pipe[c.CampaignID] += c.Fen
			m.pipe += c.Fen
		case model.ConvWon:
			f.won[c.CampaignID] += c.Fen
			m.won += c.Fen
		}
		if c.Conversions != 0 {
			f.active[c.CampaignID] = true
		}
	}

	q.By, q.Kinds = nil, []model.ConversionKind{model.ConvOpportunity}
	infl, err := r.Store.SumInfluence(ctx, q, store.DimCampaign)
	if err != nil {
		return nil, fmt.Errorf("events: influence: %w", err)
	}
	for _, i := range infl {
		f.infl[i.CampaignID] = i
		if i.Conversions > 0 {
			f.active[i.CampaignID] = true
		}
	}

	q.By, q.Kinds = []store.RollupDim{store.DimMonth, store.DimCampaign}, nil
	costs, err := r.Store.SumCosts(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("events: costs: %w", err)
	}
	for _, c := range costs {
		f.cost[c.CampaignID] = store.AddTotal(f.cost[c.CampaignID], c.Cost)
		m := month(c.Day)
		m.Cost = store.AddTotal(m.Cost, c.Cost)
		if c.Cost != 0 {
			f.active[c.CampaignID] = true
		}
	}

	f.watch, err = r.Store.WatchCounts(ctx, p.Window(), base.Campaigns, LongWatch)
	if err != nil {
		return nil, fmt.Errorf("events: watch counts: %w", err)
	}
	return f, nil
}

// figures are one campaign's figures, before the rates.
func (f *eventFacts) figures(id int64) EventFigures {
	var e EventFigures
	if t := f.touches[id]; t != nil {
		e = *t
	}
	l := f.leads[id]
	e.Leads, e.MQLs, e.SQLs, e.Opportunities, e.Customers = l.Leads, l.MQLs, l.SQLs, l.Opportunities, l.Customers
	e.CreditedPipeline = roundedFen(f.pipe[id])
	e.WonRevenue = roundedFen(f.won[id])
	i := f.infl[id]
	e.InfluencedPipeline, e.InfluencedOpportunities = &i.Value, &i.Conversions
	e.Cost = f.cost[id]
	w := f.watch[id]
	e.Viewers, e.LongViewers = w.Viewers, w.Long
	if e.Registrations > 0 {
		e.registeredAttendances = e.Attendances
	}
	return e
}

// monthList is the months of the range in order, each of them present.
func (f *eventFacts) monthList() []EventMonth {
	out := []EventMonth{}
	var days []time.Time
	for d := range f.months {
		days = append(days, d)
	}
	slices.SortFunc(days, func(a, b time.Time) int { return a.Compare(b) })
	for i, d := range days {
		if i > 0 { // fill the gaps: a chart of months shows every month
			for gap := days[i-1].AddDate(0, 1, 0); gap.Before(d); gap = gap.AddDate(0, 1, 0) {
				out = append(out, EventMonth{Month: gap.Format("2006-01")})
			}
		}
		m := f.months[d]
		m.CreditedPipeline, m.WonRevenue = roundedFen(m.pipe), roundedFen(m.won)
		out = append(out, m.EventMonth)
	}
	return out
}

// addEvent adds an event's figures into the total; influence is left out
// (it does not add up across events).
func addEvent(t *EventFigures, e EventFigures) {
	t.Registrations += e.Registrations
	t.Attendances += e.Attendances
	t.registeredAttendances += e.registeredAttendances
	t.WatchSeconds += e.WatchSeconds
	t.Viewers += e.Viewers
	t.LongViewers += e.LongViewers
	t.Leads += e.Leads
	t.MQLs += e.MQLs
	t.SQLs += e.SQLs
	t.Opportunities += e.Opportunities
	t.Customers += e.Customers
	t.CreditedPipeline = store.AddTotal(t.CreditedPipeline, e.CreditedPipeline)
	t.WonRevenue = store.AddTotal(t.WonRevenue, e.WonRevenue)
	t.Cost = store.AddTotal(t.Cost, e.Cost)
}

// finishEvent computes the rates of an event's figures.
func finishEvent(e *EventFigures) {
	e.AttendanceRate = ratio(e.registeredAttendances, e.Registrations)
	if e.Viewers > 0 {
		e.AvgWatchMinutes = tenthsPtr(float64(e.WatchSeconds) / 60 / float64(e.Viewers))
	}
	e.LongViewShare = ratio(e.LongViewers, e.Viewers)
	e.CostPerLead = moneyPer(e.Cost, e.Leads)
	e.CostPerAttendee = moneyPer(e.Cost, e.Attendances)
	e.ROAS = returnOn(e.WonRevenue, e.Cost)
}

// eventDetail is the drill-down into q.Event.
func (r Reporter) eventDetail(ctx context.Context, q EventsQuery, camps []model.Campaign, f *eventFacts) (*EventDetail, error) {
	i := slices.IndexFunc(camps, func(c model.Campaign) bool { return c.ID == q.Event })
	c := camps[i]
	d := &EventDetail{EventRow: EventRow{ID: c.ID, Code: c.Code, Name: c.Name, NameEN: c.NameEN, Channel: c.Channel, Kind: c.Kind,
		StartDate: calendarDayPtr(c.StartDate), EndDate: calendarDayPtr(c.EndDate), Href: fmt.Sprintf("/campaigns/%d", c.ID), last: lastDay(c)},
		Days: []EventDay{}}
	d.EventFigures = f.figures(c.ID)
	finishEvent(&d.EventFigures)
	counts := []int64{d.Leads, d.MQLs, d.SQLs, d.Opportunities, d.Customers}
	for i, st := range model.FunnelStages {
		s := FunnelStage{Stage: st, Count: counts[i]}
		if i > 0 {
			s.Rate = ratio(counts[i], counts[i-1])
		}
		d.Funnel = append(d.Funnel, s)
	}

	qq := store.RollupQuery{From: q.Period.From, To: q.Period.To, Campaigns: []int64{c.ID}, By: []store.RollupDim{store.DimDay, store.DimType},
		Types: append(slices.Clone(RegistrationTypes), AttendanceTypes...)}
	touches, err := r.Store.SumTouches(ctx, qq)
	if err != nil {
		return nil, fmt.Errorf("event %d: touches by day: %w", c.ID, err)
	}
	qq.By, qq.Types = []store.RollupDim{store.DimDay}, nil
	leads, err := r.Store.SumLeads(ctx, qq)
	if err != nil {
		return nil, fmt.Errorf("event %d: leads by day: %w", c.ID, err)
	}
	days := map[time.Time]*EventDay{}
	day := func(t time.Time) *EventDay {
		if days[t] == nil {
			days[t] = &EventDay{Day: calendarDay(t)}
		}
		return days[t]
	}
	for _, t := range touches {
		if slices.Contains(RegistrationTypes, t.Type) {
			day(t.Day).Registrations += t.Touches
		} else {
			day(t.Day).Attendances += t.Touches
		}
	}
	for _, l := range leads {
		if l.Leads > 0 {
			day(l.Day).Leads += l.Leads
		}
	}
	var keys []time.Time
	for k := range days {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b time.Time) int { return a.Compare(b) })
	for _, k := range keys {
		d.Days = append(d.Days, *days[k])
	}
	return d, nil
}

// overlaps says whether an event's dates meet the period.
func overlaps(c model.Campaign, p model.Period) bool {
	if c.StartDate.IsZero() {
		return false
	}
	end := lastDay(c)
	return (p.To.IsZero() || !c.StartDate.After(p.To)) && (p.From.IsZero() || !end.Before(p.From))
}

// lastDay is an event's last day: its campaign's end date (an event
// campaign usually starts with the promotion and ends with the event), or
// its start without an end.
func lastDay(c model.Campaign) time.Time {
	if c.EndDate.IsZero() || c.EndDate.Before(c.StartDate) {
		return c.StartDate
	}
	return c.EndDate
}

// sortEvents orders events by their last day, the latest first; undated
// last.
func sortEvents(rows []EventRow) {
	slices.SortStableFunc(rows, func(a, b EventRow) int {
		switch {
		case a.last.IsZero() && b.last.IsZero():
			return cmp.Compare(a.ID, b.ID)
		case a.last.IsZero():
			return 1
		case b.last.IsZero():
			return -1
		}
		if c := b.last.Compare(a.last); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// roundedFen rounds credited value (shares × value, in fen) to the fen.
func roundedFen(v float64) model.Money { return model.Money(math.Round(v)) }

// moneyPer is money per unit, rounded half away from zero to the fen; nil
// without units or money, or when the money is beyond the reportable range.
func moneyPer(m model.Money, n int64) *model.Money {
	if n <= 0 || m == 0 || store.Saturated(m) {
		return nil
	}
	half := n / 2
	if m < 0 {
		half = -half
	}
	v := model.Money((int64(m) + half) / n)
	return &v
}

// returnOn is revenue ÷ cost rounded to four places (ROAS); nil when the
// cost is zero or either is beyond the reportable range.
func returnOn(a, b model.Money) *float64 {
	if store.Saturated(a) || store.Saturated(b) {
		return nil
	}
	return ratio(int64(a), int64(b))
}

func tenths(v float64) float64 { return math.Round(v*10) / 10 }

func tenthsPtr(v float64) *float64 {
	r := tenths(v)
	return &r
}

// calendarDay prints a calendar day; "" for none.
func calendarDay(d time.Time) string {
	if d.IsZero() {
		return ""
	}
	return d.Format("2006-01-02")
}

func calendarDayPtr(d time.Time) *string {
	if d.IsZero() {
		return nil
	}
	s := calendarDay(d)
	return &s
}
