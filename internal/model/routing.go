package model

import "time"

// RoutingUser is a user with what routing needs to know about them.
type RoutingUser struct {
	ID           int64
	Email        string
	Name         string
	Role         Role
	Team         string
	ManagerID    int64
	Capacity     int
	Disabled     bool
	OutOfOffice  *time.Time
	BackInOffice *time.Time
	Open         int // assignments the user holds open
}

// UserRouting is the routing side of a user's settings.
type UserRouting struct {
	Team         string
	ManagerID    int64 // 0: none
	Capacity     int   // 0: no limit
	OutOfOffice  *time.Time
	BackInOffice *time.Time
}

// NewAssignment is one assignment to write.
type NewAssignment struct {
	PersonID   int64
	UserID     int64
	Rule       string
	Reason     string
	RuleSetID  int64
	AssignedBy string
	AssignedAt time.Time
	DueAt      time.Time
	// EnteredAt guards automatic assignments: the person is skipped when
	// an assignment at or after it exists by now (another run was first).
	// Zero for manual reassignments.
	EnteredAt time.Time
}

// Why an assignment closed (assignments.closed_reason).
const (
	ClosedReassigned = "reassigned" // the person was assigned again
	ClosedRecycled   = "recycled"   // the person left the working stages for an earlier one
)

// Assignment is a stored assignment.
type Assignment struct {
	ID               int64
	PersonID         int64
	PersonName       string
	PersonStage      Stage
	UserID           int64
	UserEmail        string
	UserName         string
	UserTeam         string
	Rule             string
	Reason           string
	RuleSetID        int64
	AssignedBy       string
	AssignedAt       time.Time
	DueAt            time.Time
	FirstFollowUpAt  *time.Time
	BreachedAt       *time.Time
	EscalationTaskID int64
	SupersededAt     *time.Time // when it closed; nil while open
	ClosedReason     string     // ClosedReassigned, ClosedRecycled; "" while open
}

// Escalation marks one assignment breached and raises its task.
type Escalation struct {
	AssignmentID int64
	PersonID     int64
	AssigneeID   int64 // 0: unassigned task
	Title        string
	BreachedAt   time.Time
	TaskDueAt    time.Time
	CreatedAt    time.Time
}

// Activity is a logged sales activity: a call, email, meeting, WeChat
// conversation or note about a person.
type Activity struct {
	ID         int64
	PersonID   int64
	UserID     int64
	UserEmail  string
	UserName   string
	Kind       string
	OccurredAt time.Time
	Note       string
	CreatedBy  string
	CreatedAt  time.Time
}

// Recycling is one move back from a sales stage to marketing.
type Recycling struct {
	PersonID  int64
	From, To  Stage
	ChangedAt time.Time
	Reason    string
	OwnerID   int64 // the person's assignee at the time, else its owner now; 0: none
}
