package model

import (
	"math"
	"time"
)

// Campaign reviews (复盘): the metrics a campaign or a programme can have
// a target for, each with the direction that is good and its unit; the
// targets themselves; and the action items a review decides on.
// docs/metrics.md ("Campaign reviews") defines every metric.

// MetricDirection says which way a metric should move.
type MetricDirection string

// The directions.
const (
	HigherBetter MetricDirection = "higher_better" // more leads is good
	LowerBetter  MetricDirection = "lower_better"  // a higher cost per lead is bad
)

// MetricUnit is what a metric counts in.
type MetricUnit string

// The units. Targets of every unit are kept in hundredths of it (fen for
// CNY), so that a value with two decimals is exact.
const (
	UnitCount MetricUnit = "count" // whole numbers
	UnitCNY   MetricUnit = "CNY"   // yuan, two decimals
	UnitHours MetricUnit = "hours" // business hours, two decimals
	UnitRatio MetricUnit = "ratio" // 2.5 = 250 %, two decimals
)

// ReviewMetric is one metric of the catalogue.
type ReviewMetric struct {
	Key       string
	Direction MetricDirection
	Unit      MetricUnit
}

// LabelKey names the metric in the pages' catalogues (zh-CN and en).
func (m ReviewMetric) LabelKey() string { return "review.metric." + m.Key }

// TipKey names the metric's definition, shortened from docs/metrics.md.
func (m ReviewMetric) TipKey() string { return "review.tip." + m.Key }

// MaxTarget is the largest target of the metric, in hundredths of its
// unit: the bounds of a campaign's own target fields for counts and
// money, a year of hours, a thousandfold return.
func (m ReviewMetric) MaxTarget() int64 {
	switch m.Unit {
	case UnitCNY:
		return 1_000_000_000_000 // ¥10,000,000,000.00
	case UnitHours:
		return 8760 * 100
	case UnitRatio:
		return 1000 * 100
	}
	return 10_000_000 * 100
}

// The metric keys.
const (
	MetricLeads              = "leads"
	MetricMQLs               = "mqls"
	MetricSQLs               = "sqls"
	MetricOpportunities      = "opportunities"
	MetricInfluencedPipeline = "influenced_pipeline"
	MetricSourcedPipeline    = "sourced_pipeline"
	MetricWonRevenue         = "won_revenue"
	MetricOrders             = "orders"
	MetricCostPerLead        = "cost_per_lead"
	MetricCostPerMQL         = "cost_per_mql"
	MetricCost               = "cost"
	MetricROI                = "roi"
	MetricFirstFollowUpHours = "first_follow_up_hours"
	MetricRegistrations      = "registrations"
	MetricAttendance         = "attendance"
	MetricDownloads          = "downloads"
)

// ReviewMetrics is the catalogue, in the order a review lists them.
var ReviewMetrics = []ReviewMetric{
	{MetricLeads, HigherBetter, UnitCount},
	{MetricMQLs, HigherBetter, UnitCount},
	{MetricSQLs, HigherBetter, UnitCount},
	{MetricOpportunities, HigherBetter, UnitCount},
	{MetricInfluencedPipeline, HigherBetter, UnitCNY},
	{MetricSourcedPipeline, HigherBetter, UnitCNY},
	{MetricWonRevenue, HigherBetter, UnitCNY},
	{MetricOrders, HigherBetter, UnitCount},
	{MetricCostPerLead, LowerBetter, UnitCNY},
	{MetricCostPerMQL, LowerBetter, UnitCNY},
	{MetricCost, LowerBetter, UnitCNY},
	{MetricROI, HigherBetter, UnitRatio},
	{MetricFirstFollowUpHours, LowerBetter, UnitHours},
	{MetricRegistrations, HigherBetter, UnitCount},
	{MetricAttendance, HigherBetter, UnitCount},
	{MetricDownloads, HigherBetter, UnitCount},
}

// ReviewMetricByKey finds a metric of the catalogue.
func ReviewMetricByKey(key string) (ReviewMetric, bool) {
	for _, m := range ReviewMetrics {
		if m.Key == key {
			return m, true
		}
	}
	return ReviewMetric{}, false
}

// ReviewMetricKeys lists the catalogue's keys in order.
func ReviewMetricKeys() []string {
	out := make([]string, len(ReviewMetrics))
	for i, m := range ReviewMetrics {
		out[i] = m.Key
	}
	return out
}

// CampaignTarget is a campaign's target for one metric: Value in
// hundredths of the metric's unit (fen for CNY, so 500 leads is 50000).
type CampaignTarget struct {
	Metric string
	Value  int64
}

// Gap is (actual − target) ÷ target, both in the same unit; nil when the
// target is 0 or the actual is unknown (nil). ¥318,272 against a target of
// ¥5,000,000 is −0.9363456 (−93.6 %), not −36 %.
func Gap(target float64, actual *float64) *float64 {
	if actual == nil || target == 0 || math.IsNaN(*actual) || math.IsInf(*actual, 0) {
		return nil
	}
	g := (*actual - target) / target
	return &g
}

// Good says whether an actual meets its target in the metric's direction:
// at least the target for higher-better metrics, at most the target for
// lower-better ones (a gap ≥ 0 or ≤ 0 when the target is not 0); nil when
// the actual is unknown.
func Good(dir MetricDirection, target float64, actual *float64) *bool {
	if actual == nil || math.IsNaN(*actual) {
		return nil
	}
	ok := *actual >= target
	if dir == LowerBetter {
		ok = *actual <= target
	}
	return &ok
}

// ActionStatus is where a review's action item stands.
type ActionStatus string

// The statuses of an action item.
const (
	ActionOpen    ActionStatus = "open"
	ActionDone    ActionStatus = "done"
	ActionDropped ActionStatus = "dropped"
)

// ActionStatuses lists them in order.
var ActionStatuses = []ActionStatus{ActionOpen, ActionDone, ActionDropped}

// TaskCampaignAction is the kind of the task an action item gives its
// owner.
const TaskCampaignAction = "campaign_action"

// CampaignAction is an action item a campaign review decided on: what to
// do, who does it by when, how success is measured and the finding it
// answers. It is also a task of its owner (TaskID).
type CampaignAction struct {
	ID         int64
	CampaignID int64
	TaskID     int64
	Action     string
	OwnerID    int64
	OwnerName  string    // read only: joined from users
	OwnerEmail string    // read only
	Due        time.Time // a team day
	DueAt      time.Time // the last instant of Due in the team's time zone
	Success    string
	Finding    string
	Status     ActionStatus
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ClosedAt   *time.Time // when it was marked done or dropped
}

// Overdue says whether an open action is past its due time at now.
func (a CampaignAction) Overdue(now time.Time) bool {
	return a.Status == ActionOpen && now.After(a.DueAt)
}

// OnTime says whether a done action was done by its due time; nil when it
// is not done.
func (a CampaignAction) OnTime() *bool {
	if a.Status != ActionDone || a.ClosedAt == nil {
		return nil
	}
	ok := !a.ClosedAt.After(a.DueAt)
	return &ok
}

// UserTask is a task as its assignee's list shows it; CampaignID and
// ActionID are set for a review's action item.
type UserTask struct {
	Task
	CampaignID   int64
	CampaignName string
	CampaignEN   string
	ActionID     int64
	PersonName   string
	Opportunity  string // the opportunity's name, for a task of one
}

// The kinds of notifications: the reminders of an action item's task.
const (
	NotifyTaskDueSoon = "task_due_soon" // due within the reminder lead time
	NotifyTaskOverdue = "task_overdue"  // past its due time, not done
)

// Notification is an in-app notification of a user: a reminder of a task
// (the action item's text as Title, Href to its review), read or not.
type Notification struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"-"`
	Kind       string     `json:"kind"`
	TaskID     int64      `json:"task_id,omitempty"`
	Title      string     `json:"title"`
	Href       string     `json:"href"`
	DueAt      *time.Time `json:"due_at"`
	CreatedAt  time.Time  `json:"created_at"`
	ReadAt     *time.Time `json:"read_at"`
	NotifiedAt *time.Time `json:"-"`
}
