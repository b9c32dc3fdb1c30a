package routing

import (
	"context"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Report is the follow-up SLA report of a window: per owner and per team,
// the leads waiting now, and the leads recycled in the window.
type Report struct {
	From          *time.Time    `json:"from"`
	To            *time.Time    `json:"to"`
	Now           time.Time     `json:"now"`
	TriggerStage  model.Stage   `json:"trigger_stage"`
	SLA           string        `json:"sla_first_follow_up"`
	BusinessHours BusinessHours `json:"business_hours"`
	Owners        []ReportRow   `json:"owners"`
	Teams         []ReportRow   `json:"teams"`
	Total         ReportRow     `json:"total"`
	Waiting       Waiting       `json:"waiting"`
	Recycling     Recycling     `json:"recycling"`
}

// ReportRow sums the assignments made in the window for one owner, one
// team or all.
type ReportRow struct {
	UserID int64  `json:"user_id,omitempty"`
	Email  string `json:"email,omitempty"`
	Name   string `json:"name,omitempty"`
	Team   string `json:"team"`

	Assigned   int `json:"assigned"`
	FollowedUp int `json:"followed_up"`
	WithinSLA  int `json:"within_sla"`
	// WithinSLAPercent is within_sla over the assignments whose outcome is
	// known (followed up, or past due); null when there are none.
	WithinSLAPercent *float64 `json:"within_sla_percent"`
	Breached         int      `json:"breached"`
	Open             int      `json:"open"`
	// Time from assignment to first follow-up, over the followed-up ones.
	BusinessHours  Spread `json:"time_to_first_follow_up_business_hours"`
	WallClockHours Spread `json:"time_to_first_follow_up_wall_clock_hours"`

	business, wall []float64
	decided        int
}

// Spread is a median and a 90th percentile; null without data.
type Spread struct {
	Median *float64 `json:"median"`
	P90    *float64 `json:"p90"`
}

// Waiting are the leads waiting now, whatever the window.
type Waiting struct {
	Unassigned    WaitingList `json:"unassigned"`      // in the working stages, no assignment since entering them
	NotFollowedUp WaitingList `json:"not_followed_up"` // assigned, open, no follow-up yet
}

// WaitingList counts waiting leads and shows the oldest.
type WaitingList struct {
	Count  int          `json:"count"`
	Oldest []WaitingRow `json:"oldest"`
}

// WaitingRow is one waiting lead; its age runs from entering the working
// stages (unassigned) or from the assignment (not followed up).
type WaitingRow struct {
	PersonID         int64       `json:"person_id"`
	Name             string      `json:"name"`
	Stage            model.Stage `json:"stage"`
	Since            time.Time   `json:"since"`
	AgeHours         float64     `json:"age_hours"`
	AgeBusinessHours float64     `json:"age_business_hours"`
	UserID           int64       `json:"user_id,omitempty"`
	UserEmail        string      `json:"user_email,omitempty"`
	DueAt            *time.Time  `json:"due_at,omitempty"`
	Breached         bool        `json:"breached,omitempty"`
}

// Recycling counts persons moved from mql or sql back to lead or nurture
// in the window, by the owner they had then.
type Recycling struct {
	Total   int            `json:"total"`
	ByOwner []RecycleCount `json:"by_owner"`
}

// RecycleCount is one owner's recycled leads; user 0 is "no owner".
type RecycleCount struct {
	UserID int64  `json:"user_id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
	Count  int    `json:"count"`
}

// maxWaitingShown bounds the waiting leads listed (all are counted).
const maxWaitingShown = 50

// Report builds the report of assignments made in [from, to) (zero bounds
// are open).
func (r *Router) Report(ctx context.Context, from, to time.Time) (*Report, error) {
	rs, err := r.Rules(ctx)
	if err != nil {
		return nil, err
	}
	now := r.now()
	clock := rs.Clock()
	working := WorkingStages(rs.TriggerStage)
	rep := &Report{From: optTime(from), To: optTime(to), Now: now, TriggerStage: rs.TriggerStage, SLA: rs.SLA.FirstFollowUp,
		BusinessHours: rs.SLA.BusinessHours, Owners: []ReportRow{}, Teams: []ReportRow{}}

	as, err := r.Store.AssignmentsIn(ctx, from, to)
	if err != nil {
		return nil, err
	}
	inWorking := map[model.Stage]bool{}
	for _, st := range working {
		inWorking[st] = true
	}
	owners, teams := map[int64]*ReportRow{}, map[string]*ReportRow{}
	for _, a := range as {
		o := owners[a.UserID]
		if o == nil {
			o = &ReportRow{UserID: a.UserID, Email: a.UserEmail, Name: a.UserName, Team: a.UserTeam}
			owners[a.UserID] = o
		}
		t := teams[a.UserTeam]
		if t == nil {
			t = &ReportRow{Team: a.UserTeam}
			teams[a.UserTeam] = t
		}
		for _, row := range []*ReportRow{o, t, &rep.Total} {
			row.add(a, clock, now, inWorking)
		}
	}
	for _, o := range owners {
		o.finish()
		rep.Owners = append(rep.Owners, *o)
	}
	for _, t := range teams {
		t.finish()
		rep.Teams = append(rep.Teams, *t)
	}
	rep.Total.finish()
	sort.Slice(rep.Owners, func(i, j int) bool {
		if rep.Owners[i].Assigned != rep.Owners[j].Assigned {
			return rep.Owners[i].Assigned > rep.Owners[j].Assigned
		}
		return rep.Owners[i].UserID < rep.Owners[j].UserID
	})
	sort.Slice(rep.Teams, func(i, j int) bool { return rep.Teams[i].Team < rep.Teams[j].Team })

	if rep.Waiting.Unassigned.Count, err = r.Store.CountPendingLeads(ctx, working); err != nil {
		return nil, err
	}
	pending, err := r.Store.PendingLeads(ctx, working, maxWaitingShown)
	if err != nil {
		return nil, err
	}
	rep.Waiting.Unassigned.Oldest = []WaitingRow{}
	for _, l := range pending {
		rep.Waiting.Unassigned.Oldest = append(rep.Waiting.Unassigned.Oldest, WaitingRow{PersonID: l.PersonID, Name: l.Name, Stage: l.Stage,
			Since: l.EnteredAt, AgeHours: hours(now.Sub(l.EnteredAt)), AgeBusinessHours: hours(clock.Between(l.EnteredAt, now))})
	}
	perUser, err := r.Store.OpenAssignmentCounts(ctx, working)
	if err != nil {
		return nil, err
	}
	for _, n := range perUser {
		rep.Waiting.NotFollowedUp.Count += n
	}
	open, err := r.Store.OpenAssignments(ctx, working, maxWaitingShown)
	if err != nil {
		return nil, err
	}
	rep.Waiting.NotFollowedUp.Oldest = []WaitingRow{}
	for _, a := range open {
		due := a.DueAt
		rep.Waiting.NotFollowedUp.Oldest = append(rep.Waiting.NotFollowedUp.Oldest, WaitingRow{PersonID: a.PersonID, Name: a.PersonName,
			Stage: a.PersonStage, Since: a.AssignedAt, AgeHours: hours(now.Sub(a.AssignedAt)), AgeBusinessHours: hours(clock.Between(a.AssignedAt, now)),
			UserID: a.UserID, UserEmail: a.UserEmail, DueAt: &due, Breached: a.BreachedAt != nil})
	}

	rec, err := r.Store.Recyclings(ctx, []model.Stage{model.StageMQL, model.StageSQL}, []model.Stage{model.StageLead, model.StageNurture}, from, to)
	if err != nil {
		return nil, err
	}
	users, err := r.Store.RoutingUsers(ctx, nil)
	if err != nil {
		return nil, err
	}
	byOwner := map[int64]*RecycleCount{}
	for _, x := range rec {
		c := byOwner[x.OwnerID]
		if c == nil {
			c = &RecycleCount{UserID: x.OwnerID}
			for _, u := range users {
				if u.ID == x.OwnerID {
					c.Email, c.Name = u.Email, u.Name
				}
			}
			byOwner[x.OwnerID] = c
		}
		c.Count++
		rep.Recycling.Total++
	}
	rep.Recycling.ByOwner = []RecycleCount{}
	for _, c := range byOwner {
		rep.Recycling.ByOwner = append(rep.Recycling.ByOwner, *c)
	}
	sort.Slice(rep.Recycling.ByOwner, func(i, j int) bool {
		a, b := rep.Recycling.ByOwner[i], rep.Recycling.ByOwner[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.UserID < b.UserID
	})
	return rep, nil
}

func (row *ReportRow) add(a model.Assignment, clock *Clock, now time.Time, working map[model.Stage]bool) {
	row.Assigned++
	if a.BreachedAt != nil {
		row.Breached++
	}
	if f := a.FirstFollowUpAt; f != nil {
		row.FollowedUp++
		row.decided++
		if !f.After(a.DueAt) {
			row.WithinSLA++
		}
		row.business = append(row.business, hours(clock.Between(a.AssignedAt, *f)))
		row.wall = append(row.wall, hours(f.Sub(a.AssignedAt)))
		return
	}
	if !a.DueAt.After(now) {
		row.decided++
	}
	if a.SupersededAt == nil && working[a.PersonStage] {
		row.Open++
	}
}

func (row *ReportRow) finish() {
	if row.decided > 0 {
		p := round(100*float64(row.WithinSLA)/float64(row.decided), 1)
		row.WithinSLAPercent = &p
	}
	row.BusinessHours = spread(row.business)
	row.WallClockHours = spread(row.wall)
}

// spread is the median (the middle value, or the mean of the two middle
// ones) and the 90th percentile by nearest rank (the ⌈0.9·n⌉-th smallest),
// rounded to 0.01.
func spread(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	p90 := s[int(math.Ceil(0.9*float64(n)))-1]
	med, p90 = round(med, 2), round(p90, 2)
	return Spread{Median: &med, P90: &p90}
}

func hours(d time.Duration) float64 { return round(d.Hours(), 2) }

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
