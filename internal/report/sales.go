package report

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"

	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/routing"
	"github.com/revloop/revloop/internal/store"
	"golang.org/x/sync/errgroup"
)

// The sales follow-up dashboard: how fast and how well sales works the
// leads marketing hands over. Every figure is one of the words of
// docs/metrics.md ("Sales follow-up"), computed here for the page and the
// API alike.

// SalesQuery chooses a sales dashboard.
type SalesQuery struct {
	Period model.Period // the team days of the range
	Now    time.Time
	// QueueUser is whose queue to list: a user's open assignments, or
	// everyone's when 0.
	QueueUser  int64
	QueueLimit int // at most this many queue rows (all are counted)
}

// SalesDashboard is the sales follow-up dashboard of a range.
type SalesDashboard struct {
	From, To     time.Time   `json:"-"`
	Now          time.Time   `json:"now"`
	TriggerStage model.Stage `json:"trigger_stage"`
	// WorkingStages are the stages leads are worked in (routing.md).
	WorkingStages []model.Stage `json:"working_stages"`
	SLA           string        `json:"sla_first_follow_up"`
	Waiting       SalesWaiting  `json:"waiting"`
	Follow        SLAFigures    `json:"sla"`
	Decisions     Decisions     `json:"decisions"`
	OpenLeads     OpenLeads     `json:"open_leads"`
	Queue         SalesQueue    `json:"queue"`
	Owners        []OwnerRow    `json:"owners"`
	OwnersTotal   OwnerRow      `json:"owners_total"`
	// Buckets are the weeks (ranges up to 92 days) or months of the range,
	// by due day (SLA) and decision day.
	Bucket  string        `json:"bucket"` // week or month
	Buckets []SalesBucket `json:"buckets"`
}

// SalesWaiting are the leads waiting now, whatever the range.
type SalesWaiting struct {
	Unassigned    int `json:"unassigned"`      // in the working stages, no assignment since entering them
	NotFollowedUp int `json:"not_followed_up"` // open assignments
	Overdue       int `json:"overdue"`         // open assignments past their due time
}

// SLAFigures are the first-follow-up figures of the assignments due in a
// range.
type SLAFigures struct {
	Due        int      `json:"due"`
	WithinSLA  int      `json:"within_sla"`
	Breached   int      `json:"breached"`
	Compliance *float64 `json:"compliance"` // within_sla ÷ due; null when none is due
	// MedianBusinessHours is the median time from assignment to first
	// follow-up, in the rules' business hours, over the due assignments
	// followed up (whenever); null when none was.
	MedianBusinessHours *float64 `json:"median_business_hours"`
	FollowedUp          int      `json:"followed_up"`
	hours               []float64
}

// Decisions are the SDRs' accepts and rejects of a range.
type Decisions struct {
	Accepted       int      `json:"accepted"`
	Rejected       int      `json:"rejected"`
	AcceptanceRate *float64 `json:"acceptance_rate"` // accepted ÷ (accepted + rejected); null when none
	Nurtured       int      `json:"rejected_to_nurture"`
	Disqualified   int      `json:"rejected_to_disqualified"`
}

// OpenLeads are the persons in the working stages now, by grade and SDR
// class.
type OpenLeads struct {
	Total      int64        `json:"total"`
	Grades     []ValueCount `json:"grades"`
	SDRClasses []ValueCount `json:"sdr_classes"`
}

// ValueCount is how many have one value ("" for none).
type ValueCount struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// SalesQueue is a queue of open assignments, the soonest due first.
type SalesQueue struct {
	UserID    int64      `json:"user_id"` // 0: the whole team
	Count     int        `json:"count"`
	Rows      []QueueRow `json:"rows"`
	Truncated bool       `json:"truncated"`
}

// QueueRow is one open assignment of a queue.
type QueueRow struct {
	AssignmentID int64       `json:"assignment_id"`
	PersonID     int64       `json:"person_id"`
	Name         string      `json:"name"`
	Stage        model.Stage `json:"stage"`
	UserID       int64       `json:"user_id"`
	UserName     string      `json:"user_name"`
	UserEmail    string      `json:"user_email"`
	AssignedAt   time.Time   `json:"assigned_at"`
	DueAt        time.Time   `json:"due_at"`
	State        SLAState    `json:"sla_state"`
}

// SLAState is where an open assignment stands against its due time.
type SLAState string

// The SLA states of an open assignment.
const (
	SLAOverdue SLAState = "overdue"  // the due time has passed
	SLADueSoon SLAState = "due_soon" // due within the next hour
	SLAOnTime  SLAState = "on_time"  // due later
)

// dueSoon is how close a due time makes an assignment due soon.
const dueSoon = time.Hour

// StateAt is an open assignment's SLA state at now.
func StateAt(due, now time.Time) SLAState {
	switch {
	case !due.After(now):
		return SLAOverdue
	case due.Sub(now) <= dueSoon:
		return SLADueSoon
	}
	return SLAOnTime
}

// OwnerRow is one owner's figures; UserID 0 in OwnersTotal.
type OwnerRow struct {
	UserID   int64  `json:"user_id,omitempty"`
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	Team     string `json:"team,omitempty"`
	Capacity int    `json:"capacity"` // 0: no limit
	Open     int    `json:"open"`
	Overdue  int    `json:"overdue"`
	SLAFigures
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
}

// SalesBucket is one week or month of the range.
type SalesBucket struct {
	Start      time.Time `json:"start"` // a team day
	Due        int       `json:"due"`
	WithinSLA  int       `json:"within_sla"`
	Compliance *float64  `json:"compliance"`
	Accepted   int       `json:"accepted"`
	Rejected   int       `json:"rejected"`
}

// Sales builds the sales follow-up dashboard.
func Sales(ctx context.Context, s *store.Store, rt *routing.Router, q SalesQuery) (*SalesDashboard, error) {
	rs, err := rt.Rules(ctx)
	if err != nil {
		return nil, err
	}
	win := q.Period.Window()
	working := routing.WorkingStages(rs.TriggerStage)
	d := &SalesDashboard{From: win.From, To: win.To, Now: q.Now.UTC(), TriggerStage: rs.TriggerStage, WorkingStages: working,
		SLA: rs.SLA.FirstFollowUp, Owners: []OwnerRow{}}

	// The reads are independent: they run side by side, each on its own
	// connection of the read pool.
	limit := q.QueueLimit
	if limit <= 0 {
		limit = 200
	}
	var (
		users     []model.RoutingUser
		loads     map[int64]store.OpenLoad
		due       []store.DueAssignment
		decisions []store.DecisionCount
		spread    store.StageSpread
		open      []model.Assignment
	)
	// The buckets: the weeks or months of the range, and the instants
	// that start them (the first starts with the range).
	bucketOf := bucketer(q.Period)
	var starts, bounds []time.Time
	for start := bucketOf(q.Period.From); !q.Period.From.IsZero() && !q.Period.To.IsZero() && !start.After(q.Period.To); start = nextBucket(q.Period, start) {
		starts = append(starts, start)
		bounds = append(bounds, maxTime(q.Period.Cal.Start(start), win.From))
	}
	if bounds != nil {
		bounds = append(bounds, win.To)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { due, err = s.AssignmentsDue(gctx, win.From, minTime(win.To, q.Now)); return })
	g.Go(func() (err error) { decisions, err = s.DecisionCounts(gctx, win.From, win.To, bounds); return })
	g.Go(func() (err error) { d.Waiting.Unassigned, err = s.CountPendingLeads(gctx, working); return })
	g.Go(func() error {
		var err error
		if users, err = s.RoutingUsers(gctx, nil); err != nil {
			return err
		}
		if loads, err = s.OpenAssignmentLoads(gctx, working, q.Now); err != nil {
			return err
		}
		if open, err = s.OpenAssignmentsOf(gctx, working, q.QueueUser, limit+1); err != nil {
			return err
		}
		spread, err = s.SpreadIn(gctx, working)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}

	owners := map[int64]*OwnerRow{}
	owner := func(id int64) *OwnerRow {
		if o := owners[id]; o != nil {
			return o
		}
		o := &OwnerRow{UserID: id}
		for _, u := range users {
			if u.ID == id {
				o.Name, o.Email, o.Team, o.Capacity = u.Name, u.Email, u.Team, u.Capacity
			}
		}
		owners[id] = o
		return o
	}
	for _, u := range users {
		if u.Role == model.RoleSales && !u.Disabled {
			owner(u.ID)
		}
	}

	// Waiting now.
	for id, l := range loads {
		o := owner(id)
		o.Open, o.Overdue = l.Open, l.Overdue
		d.Waiting.NotFollowedUp += l.Open
		d.Waiting.Overdue += l.Overdue
	}

	// First follow-up against the SLA, by due time.
	d.Bucket = bucketName(q.Period)
	buckets := map[time.Time]*SalesBucket{}
	bucket := func(at time.Time) *SalesBucket {
		start := bucketOf(q.Period.Cal.Day(at))
		b := buckets[start]
		if b == nil {
			b = &SalesBucket{Start: start}
			buckets[start] = b
		}
		return b
	}
	clock := rs.Clock()
	for _, a := range due {
		if !CountsAsDue(a, q.Now) {
			continue
		}
		within, hours := FirstFollowUp(a, clock)
		for _, f := range []*SLAFigures{&d.Follow, &owner(a.UserID).SLAFigures} {
			f.add(within, hours)
		}
		b := bucket(a.DueAt)
		b.Due++
		if within {
			b.WithinSLA++
		}
	}

	// Accepts and rejects.
	for _, x := range decisions {
		var b *SalesBucket
		if x.Bucket < len(starts) {
			b = bucket(q.Period.Cal.Start(starts[x.Bucket]))
		}
		switch Decision(x.To) {
		case Accepted:
			d.Decisions.Accepted += x.N
			if b != nil {
				b.Accepted += x.N
			}
			if x.OwnerID != 0 {
				owner(x.OwnerID).Accepted += x.N
			}
		case Rejected:
			d.Decisions.Rejected += x.N
			if x.To == model.StageNurture {
				d.Decisions.Nurtured += x.N
			} else {
				d.Decisions.Disqualified += x.N
			}
			if b != nil {
				b.Rejected += x.N
			}
			if x.OwnerID != 0 {
				owner(x.OwnerID).Rejected += x.N
			}
		}
	}
	d.Decisions.AcceptanceRate = rate(d.Decisions.Accepted, d.Decisions.Accepted+d.Decisions.Rejected)

	// Open leads by grade and SDR class.
	d.OpenLeads = OpenLeads{Total: spread.Persons, Grades: counted(spread.Grades, lifecycle.Grades), SDRClasses: counted(spread.SDRClass, lifecycle.SDRClasses)}

	// The queue.
	d.Queue = SalesQueue{UserID: q.QueueUser, Rows: []QueueRow{}}
	if q.QueueUser != 0 {
		d.Queue.Count = loads[q.QueueUser].Open
	} else {
		d.Queue.Count = d.Waiting.NotFollowedUp
	}
	if len(open) > limit {
		open, d.Queue.Truncated = open[:limit], true
	}
	for _, a := range open {
		d.Queue.Rows = append(d.Queue.Rows, QueueRow{AssignmentID: a.ID, PersonID: a.PersonID, Name: a.PersonName, Stage: a.PersonStage,
			UserID: a.UserID, UserName: a.UserName, UserEmail: a.UserEmail, AssignedAt: a.AssignedAt, DueAt: a.DueAt, State: StateAt(a.DueAt, q.Now)})
	}

	// Owners, the total and the buckets.
	d.Follow.finish()
	for _, o := range owners {
		o.finish()
		d.Owners = append(d.Owners, *o)
		t := &d.OwnersTotal
		t.Capacity += o.Capacity
		t.Open += o.Open
		t.Overdue += o.Overdue
		t.Accepted += o.Accepted
		t.Rejected += o.Rejected
	}
	d.OwnersTotal.SLAFigures = d.Follow
	slices.SortFunc(d.Owners, func(a, b OwnerRow) int {
		if c := cmp.Compare(b.Open, a.Open); c != 0 {
			return c
		}
		return cmp.Compare(a.UserID, b.UserID)
	})
	d.Buckets = []SalesBucket{}
	for start := bucketOf(q.Period.From); !q.Period.From.IsZero() && !start.After(q.Period.To); start = nextBucket(q.Period, start) {
		b := buckets[start]
		if b == nil {
			b = &SalesBucket{Start: start}
		}
		b.Compliance = rate(b.WithinSLA, b.Due)
		d.Buckets = append(d.Buckets, *b)
	}
	return d, nil
}

// CountsAsDue says whether an assignment whose due time lies in a range
// counts among the assignments due: its due time has passed by now, and
// it was still open then or was followed up. One reassigned or recycled
// before its due time without a follow-up owed nothing.
func CountsAsDue(a store.DueAssignment, now time.Time) bool {
	if a.DueAt.After(now) {
		return false
	}
	if !a.FollowedUpAt.IsZero() {
		return true
	}
	return a.Superseded.IsZero() || a.Superseded.After(a.DueAt)
}

// FirstFollowUp says whether an assignment due was followed up within
// its SLA, and after how many business hours (of clock); hours is
// negative when it was not followed up.
func FirstFollowUp(a store.DueAssignment, clock *routing.Clock) (within bool, hours float64) {
	if a.FollowedUpAt.IsZero() {
		return false, -1
	}
	return !a.FollowedUpAt.After(a.DueAt), clock.Between(a.AssignedAt, a.FollowedUpAt).Hours()
}

// DueOf is what the SLA figures need of an assignment.
func DueOf(a model.Assignment) store.DueAssignment {
	d := store.DueAssignment{UserID: a.UserID, AssignedAt: a.AssignedAt, DueAt: a.DueAt}
	if a.FirstFollowUpAt != nil {
		d.FollowedUpAt = *a.FirstFollowUpAt
	}
	if a.SupersededAt != nil {
		d.Superseded = *a.SupersededAt
	}
	return d
}

// DecisionKind is what a stage change out of mql or sql means for the
// sales dashboard.
type DecisionKind int

// The decisions.
const (
	NoDecision DecisionKind = iota
	Accepted                // mql → sql by a person
	Rejected                // mql or sql → nurture or disqualified by a person
)

// Decision classifies an SDR's decision (store.DecisionCounts: a stage
// change made by a person, lifecycle.ByPerson, as the accept and reject
// actions are; the same moves by a rule or the system, an opportunity
// created or a recycling rule, are no decision) by where it led: to sql
// (from mql) an accept, to nurture or disqualified (from mql or sql) a
// reject.
func Decision(to model.Stage) DecisionKind {
	switch to {
	case model.StageSQL:
		return Accepted
	case model.StageNurture, model.StageDisqualified:
		return Rejected
	}
	return NoDecision
}

// add counts an assignment due; hours is its time to first follow-up, or
// negative when it was not followed up.
func (f *SLAFigures) add(within bool, hours float64) {
	f.Due++
	if within {
		f.WithinSLA++
	} else {
		f.Breached++
	}
	if hours >= 0 {
		f.FollowedUp++
		f.hours = append(f.hours, hours)
	}
}

func (f *SLAFigures) finish() {
	f.Compliance = rate(f.WithinSLA, f.Due)
	f.MedianBusinessHours = median(f.hours)
	f.hours = nil // summed up: what is left is the same computed or kept
}

func (o *OwnerRow) finish() { o.SLAFigures.finish() }

// median is the middle value (or the mean of the two middle ones),
// rounded to 0.01; nil for none.
func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	m := s[n/2]
	if n%2 == 0 {
		m = (s[n/2-1] + s[n/2]) / 2
	}
	m = math.Round(m*100) / 100
	return &m
}

// rate is n ÷ of rounded to four places, as the API gives ratios; nil
// when of is 0.
func rate(n, of int) *float64 {
	if of == 0 {
		return nil
	}
	r := math.Round(float64(n)/float64(of)*1e4) / 1e4
	return &r
}

// counted lists counts by value: the known values in their order, then
// others, then none ("").
func counted(m map[string]int64, known []string) []ValueCount {
	out := []ValueCount{}
	for _, k := range known {
		out = append(out, ValueCount{Value: k, Count: m[k]})
	}
	var other []string
	for k := range m {
		if k != "" && !slices.Contains(known, k) {
			other = append(other, k)
		}
	}
	slices.Sort(other)
	for _, k := range other {
		out = append(out, ValueCount{Value: k, Count: m[k]})
	}
	return append(out, ValueCount{Value: "", Count: m[""]})
}

// bucketName is week for ranges up to 92 days, month beyond.
func bucketName(p model.Period) string {
	if d := p.Days(); d > 0 && d <= 92 {
		return "week"
	}
	return "month"
}

func bucketer(p model.Period) func(day time.Time) time.Time {
	if bucketName(p) == "week" {
		return model.WeekOf
	}
	return model.MonthOf
}

func nextBucket(p model.Period, start time.Time) time.Time {
	if bucketName(p) == "week" {
		return start.AddDate(0, 0, 7)
	}
	return start.AddDate(0, 1, 0)
}

func maxTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
