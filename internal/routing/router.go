package routing

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Router applies the active rule set to the store: it assigns pending
// leads, checks SLAs, logs activities and reassigns by hand. Every method
// takes the time from Now, so that tests can run a fake clock.
type Router struct {
	Store *store.Store
	Now   func() time.Time
	// OnBreach, when set, is told how many assignments a check marked
	// breached (the web server counts them in its metrics).
	OnBreach func(n int)
}

// Batch bounds the leads one run assigns and the breaches one check
// marks; a larger backlog continues on the next run, a minute later.
const Batch = 2000

// ActorRouting is who assignments made by the rules are assigned by.
const ActorRouting = "routing"

func (r *Router) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// Rules returns the active rule set (the defaults when none was saved).
func (r *Router) Rules(ctx context.Context) (*RuleSet, error) {
	stored, err := r.Store.ActiveRuleSet(ctx, model.RoutingRuleSets)
	if errors.Is(err, store.ErrNotFound) {
		return Default(), nil
	}
	if err != nil {
		return nil, err
	}
	rs, err := Parse(stored.Rules)
	if err != nil {
		return nil, fmt.Errorf("stored routing rules version %d: %w", stored.Version, err)
	}
	at := stored.CreatedAt
	rs.Version, rs.UpdatedAt, rs.UpdatedBy = stored.Version, &at, stored.CreatedBy
	return rs, nil
}

// WorkingStages are the stages in which a lead is being worked: the
// trigger stage and the later ones before customer. A person who enters
// them from outside is routed; an assignment is open while its person
// stays in them.
func WorkingStages(trigger model.Stage) []model.Stage {
	var out []model.Stage
	for _, st := range model.LifecycleStages {
		if st.Rank() >= trigger.Rank() && st.Rank() < model.StageCustomer.Rank() {
			out = append(out, st)
		}
	}
	return out
}

// Users converts the store's users for Decide.
func Users(us []model.RoutingUser) []User {
	out := make([]User, len(us))
	for i, u := range us {
		out[i] = User{ID: u.ID, Email: u.Email, Team: u.Team, ManagerID: u.ManagerID, Capacity: u.Capacity, Open: u.Open,
			Disabled: u.Disabled, Viewer: u.Role == model.RoleViewer, OutOfOffice: u.OutOfOffice, BackInOffice: u.BackInOffice}
	}
	return out
}

// AssignResult says what one assignment run did.
type AssignResult struct {
	Assigned int `json:"assigned"`
	Waiting  int `json:"waiting"` // pending leads nobody could take
	Closed   int `json:"closed"`  // open assignments of recycled persons closed
}

// plan is what one assignment run would write.
type plan struct {
	leads   []store.PendingLead
	as      []model.NewAssignment // for the leads somebody takes, in lead order
	waiting []store.PendingLead   // the leads nobody could take
	cursors map[string]int64      // the round-robin turns that moved
	users   []User
}

// plan decides, with rs at now, where the oldest pending leads (at most
// Batch) go, reading the store and writing nothing.
func (r *Router) plan(ctx context.Context, rs *RuleSet, now time.Time) (plan, error) {
	var p plan
	working := WorkingStages(rs.TriggerStage)
	leads, err := r.Store.PendingLeads(ctx, working, Batch)
	if err != nil || len(leads) == 0 {
		return p, err
	}
	su, err := r.Store.RoutingUsers(ctx, working)
	if err != nil {
		return p, err
	}
	users := Users(su)
	cursors, err := r.Store.RoutingCursors(ctx)
	if err != nil {
		return p, err
	}
	before := maps.Clone(cursors)
	due := rs.DueAt(now)
	p.leads = leads
	for _, l := range leads {
		d := rs.Decide(Lead{PersonID: l.PersonID, Region: l.Region, Industry: l.Industry, Tier: l.Tier, Score: l.Score, AccountOwnerID: l.AccountOwnerID},
			users, cursors, now)
		if d.UserID == 0 {
			p.waiting = append(p.waiting, l)
			continue
		}
		for i := range users {
			if users[i].ID == d.UserID {
				users[i].Open++
			}
		}
		p.as = append(p.as, model.NewAssignment{PersonID: l.PersonID, UserID: d.UserID, Rule: d.Rule, RuleSetID: rs.Version,
			AssignedBy: ActorRouting, AssignedAt: now, DueAt: due, EnteredAt: l.EnteredAt})
	}
	p.cursors = map[string]int64{}
	for k, v := range cursors {
		if before[k] != v {
			p.cursors[k] = v
		}
	}
	p.users = users
	return p, nil
}

// Assign closes the open assignments of recycled persons, then routes the
// leads pending since their last entry into the working stages, oldest
// first, and writes the assignments with their due times.
func (r *Router) Assign(ctx context.Context) (AssignResult, error) {
	var res AssignResult
	err := r.Store.WithLease(ctx, LeaseName, func(ctx context.Context) error {
		var err error
		res, err = r.assign(ctx)
		return err
	})
	return res, err
}

// LeaseName is the lease a routing run (assignments, SLA checks) holds:
// one at a time on every node that shares the database, so that no lead
// is handed out twice and no breach escalated twice.
const LeaseName = "routing"

func (r *Router) assign(ctx context.Context) (AssignResult, error) {
	var res AssignResult
	rs, err := r.Rules(ctx)
	if err != nil {
		return res, err
	}
	if res.Closed, err = r.Store.CloseRecycled(ctx, WorkingStages(rs.TriggerStage)); err != nil {
		return res, fmt.Errorf("close assignments of recycled persons: %w", err)
	}
	now := r.now()
	p, err := r.plan(ctx, rs, now)
	if err != nil {
		return res, err
	}
	res.Waiting = len(p.waiting)
	if len(p.as) == 0 {
		return res, nil
	}
	ids, err := r.Store.SaveAssignments(ctx, p.as, p.cursors, now)
	if err != nil {
		return res, err
	}
	for _, id := range ids {
		if id != 0 {
			res.Assigned++
		}
	}
	return res, nil
}

// Preview says what saving a rule set would do to the leads waiting for
// an assignee: who the next run would hand to whom.
type Preview struct {
	Pending      int         `json:"pending"`       // leads waiting for an assignee under these rules
	Considered   int         `json:"considered"`    // of which one run takes (the oldest, at most Batch)
	WouldAssign  int         `json:"would_assign"`  // of those, the leads somebody would take
	WouldWait    int         `json:"would_wait"`    // and those nobody could take
	OwnerChanges int         `json:"owner_changes"` // assigned to another user than their owner now
	Sample       []Placement `json:"sample"`        // the oldest leads first
}

// Placement is where one waiting lead would go; owner 0 is nobody.
type Placement struct {
	PersonID         int64  `json:"person_id"`
	OwnerBefore      int64  `json:"owner_before"`
	OwnerBeforeEmail string `json:"owner_before_email,omitempty"`
	OwnerAfter       int64  `json:"owner_after"`
	OwnerAfterEmail  string `json:"owner_after_email,omitempty"`
	Rule             string `json:"rule,omitempty"`
}

// Preview decides with rs (validated, its pools resolved) where the
// waiting leads would go now, writing nothing, and lists at most sample
// of them.
func (r *Router) Preview(ctx context.Context, rs *RuleSet, sample int) (Preview, error) {
	out := Preview{Sample: []Placement{}}
	working := WorkingStages(rs.TriggerStage)
	var err error
	if out.Pending, err = r.Store.CountPendingLeads(ctx, working); err != nil {
		return out, err
	}
	p, err := r.plan(ctx, rs, r.now())
	if err != nil {
		return out, err
	}
	out.Considered, out.WouldAssign, out.WouldWait = len(p.leads), len(p.as), len(p.waiting)
	email := func(id int64) string {
		for _, u := range p.users {
			if u.ID == id {
				return u.Email
			}
		}
		return ""
	}
	to := make(map[int64]model.NewAssignment, len(p.as))
	for _, a := range p.as {
		to[a.PersonID] = a
		if a.UserID != leadOwner(p.leads, a.PersonID) {
			out.OwnerChanges++
		}
	}
	for _, l := range p.leads[:min(sample, len(p.leads))] {
		pl := Placement{PersonID: l.PersonID, OwnerBefore: l.OwnerID, OwnerBeforeEmail: email(l.OwnerID)}
		if a, ok := to[l.PersonID]; ok {
			pl.OwnerAfter, pl.OwnerAfterEmail, pl.Rule = a.UserID, email(a.UserID), a.Rule
		}
		out.Sample = append(out.Sample, pl)
	}
	return out, nil
}

func leadOwner(leads []store.PendingLead, personID int64) int64 {
	for _, l := range leads {
		if l.PersonID == personID {
			return l.OwnerID
		}
	}
	return 0
}

// CheckSLA marks the open assignments past due as breached, each with one
// escalation task for the owner's manager (else the first admin), and
// returns how many it marked. It holds the routing lease, as Assign does.
func (r *Router) CheckSLA(ctx context.Context) (int, error) {
	var n int
	err := r.Store.WithLease(ctx, LeaseName, func(ctx context.Context) error {
		var err error
		n, err = r.checkSLA(ctx)
		return err
	})
	return n, err
}

func (r *Router) checkSLA(ctx context.Context) (int, error) {
	rs, err := r.Rules(ctx)
	if err != nil {
		return 0, err
	}
	working := WorkingStages(rs.TriggerStage)
	if _, err := r.Store.CloseRecycled(ctx, working); err != nil {
		return 0, fmt.Errorf("close assignments of recycled persons: %w", err)
	}
	now := r.now()
	due, err := r.Store.DueBreaches(ctx, working, now, Batch)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	admin := int64(-1)
	es := make([]model.Escalation, 0, len(due))
	for _, b := range due {
		assignee := b.ManagerID
		if assignee == 0 {
			if admin < 0 {
				if admin, err = r.Store.FirstAdmin(ctx); err != nil {
					return 0, err
				}
			}
			assignee = admin
		}
		es = append(es, model.Escalation{AssignmentID: b.AssignmentID, PersonID: b.PersonID, AssigneeID: assignee,
			Title: EscalationTitle(b.PersonName, b.UserName), BreachedAt: b.DueAt, TaskDueAt: rs.DueAt(now), CreatedAt: now})
	}
	n, err := r.Store.Escalate(ctx, es)
	if err == nil && n > 0 && r.OnBreach != nil {
		r.OnBreach(n)
	}
	return n, err
}

// EscalationTitle is the title of an SLA escalation task.
func EscalationTitle(person, owner string) string {
	return "首次跟进超时：" + person + "（负责人：" + owner + "）"
}

// InputError is a request the caller must fix; Field names what was wrong.
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Msg }

// ErrNoPerson is returned for an unknown person.
var ErrNoPerson = errors.New("no such person")

// ActivityKinds are the kinds of sales activity.
var ActivityKinds = []string{"call", "email", "meeting", "wechat", "note"}

// NewActivity is an activity to log; UserID or UserEmail names who did it.
type NewActivity struct {
	PersonID   int64
	UserID     int64
	UserEmail  string
	Kind       string
	OccurredAt time.Time // zero: now
	Note       string
	By         string // who logged it, for the record
}

// maxNote bounds an activity's note.
const maxNote = 4000

// LogActivity validates and stores an activity. Any activity by a user on
// the sales side (not a viewer, not disabled) at or after the person's
// current assignment is a follow-up: the earliest one stamps the
// assignment's first follow-up.
func (r *Router) LogActivity(ctx context.Context, in NewActivity) (model.Activity, bool, error) {
	now := r.now()
	kind := strings.ToLower(strings.TrimSpace(in.Kind))
	known := false
	for _, k := range ActivityKinds {
		known = known || k == kind
	}
	if !known {
		return model.Activity{}, false, &InputError{"kind", fmt.Sprintf("%q is not an activity kind: use one of %s", clipText(in.Kind), strings.Join(ActivityKinds, ", "))}
	}
	if in.PersonID <= 0 {
		return model.Activity{}, false, &InputError{"person_id", "want the id of a person"}
	}
	if len(in.Note) > maxNote {
		return model.Activity{}, false, &InputError{"note", fmt.Sprintf("longer than %d bytes", maxNote)}
	}
	at := in.OccurredAt
	if at.IsZero() {
		at = now
	}
	if at.After(now.Add(5 * time.Minute)) {
		return model.Activity{}, false, &InputError{"occurred_at", "is in the future"}
	}
	if at.Year() < 2000 {
		return model.Activity{}, false, &InputError{"occurred_at", "is before the year 2000"}
	}
	u, err := r.salesUser(ctx, "user", in.UserID, in.UserEmail)
	if err != nil {
		return model.Activity{}, false, err
	}
	if err := r.livePerson(ctx, in.PersonID); err != nil {
		return model.Activity{}, false, err
	}
	a := model.Activity{PersonID: in.PersonID, UserID: u.ID, UserEmail: u.Email, UserName: u.Name, Kind: kind, OccurredAt: at,
		Note: strings.TrimSpace(in.Note), CreatedBy: in.By, CreatedAt: now}
	id, stamped, err := r.Store.AddActivity(ctx, a)
	a.ID = id
	a.OccurredAt, a.CreatedAt = at.UTC().Truncate(time.Microsecond), now.Truncate(time.Microsecond)
	return a, stamped, err
}

// salesUser finds an enabled, non-viewer user by id or email.
func (r *Router) salesUser(ctx context.Context, field string, id int64, email string) (model.User, error) {
	var u model.User
	var err error
	switch {
	case id > 0:
		u, err = r.Store.UserByID(ctx, id)
	case strings.TrimSpace(email) != "":
		u, err = r.Store.UserByEmail(ctx, email)
	default:
		return u, &InputError{field + "_id", "name the user by " + field + "_id or " + field + "_email"}
	}
	if errors.Is(err, store.ErrNotFound) {
		if id > 0 {
			return u, &InputError{field + "_id", fmt.Sprintf("no user %d", id)}
		}
		return u, &InputError{field + "_email", fmt.Sprintf("no user %q", clipText(email))}
	}
	if err != nil {
		return u, err
	}
	if u.DisabledAt != nil {
		return u, &InputError{field, fmt.Sprintf("user %s is disabled", u.Email)}
	}
	if u.Role == model.RoleViewer {
		return u, &InputError{field, fmt.Sprintf("user %s is a viewer; activities and leads belong to sales, marketers and admins", u.Email)}
	}
	return u, nil
}

func (r *Router) livePerson(ctx context.Context, id int64) error {
	merged, err := r.Store.PersonRef(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoPerson
	}
	if err != nil {
		return err
	}
	if merged != 0 {
		return &InputError{"person_id", fmt.Sprintf("person %d was merged into person %d: use that one", id, merged)}
	}
	return nil
}

// Reassign hands a person to a user by hand: the current assignment is
// superseded and a new one starts its own SLA clock.
func (r *Router) Reassign(ctx context.Context, personID, userID int64, userEmail, reason, by string) (model.Assignment, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return model.Assignment{}, &InputError{"reason", "say why the person is reassigned"}
	}
	if len(reason) > 500 {
		return model.Assignment{}, &InputError{"reason", "longer than 500 bytes"}
	}
	if err := r.livePerson(ctx, personID); err != nil {
		return model.Assignment{}, err
	}
	u, err := r.salesUser(ctx, "user", userID, userEmail)
	if err != nil {
		return model.Assignment{}, err
	}
	rs, err := r.Rules(ctx)
	if err != nil {
		return model.Assignment{}, err
	}
	now := r.now()
	ids, err := r.Store.SaveAssignments(ctx, []model.NewAssignment{{PersonID: personID, UserID: u.ID, Rule: RuleManual, Reason: reason,
		RuleSetID: rs.Version, AssignedBy: by, AssignedAt: now, DueAt: rs.DueAt(now)}}, nil, now)
	if err != nil {
		return model.Assignment{}, err
	}
	return r.Store.AssignmentByID(ctx, ids[0])
}
