package jobs

// The kinds of jobs, each its own type, named in River's table by Kind.
// A kind no node knows (left by another version) fails as River's
// "unknown kind": it is an error, never silently dropped.

// ProcessEvents processes stored events not yet processed; enqueued
// (debounced) after events were committed unprocessed.
type ProcessEvents struct{}

func (ProcessEvents) Kind() string { return "process_events" }

// SweepEvents is the periodic pass that picks up events left
// unprocessed, e.g. after a crash between commit and enqueue.
type SweepEvents struct{}

func (SweepEvents) Kind() string { return "sweep_events" }

// Kinds that run by themselves (see the application's schedule).

// CreditsIncremental brings the stored attribution credits up to date
// with what changed since the last run.
type CreditsIncremental struct{}

func (CreditsIncremental) Kind() string { return "credits_incremental" }

// CreditsFull recomputes every stored credit.
type CreditsFull struct{}

func (CreditsFull) Kind() string { return "credits_full" }

// RollupsRefresh brings the dashboards' roll-ups up to date with what
// processing, credit runs, lifecycle moves and other writers changed (and
// rebuilds them after a time zone change).
type RollupsRefresh struct{}

func (RollupsRefresh) Kind() string { return "rollups_refresh" }

// ScoresNew rescores the persons with new activity, identity or traits,
// and runs the lifecycle rules over them.
type ScoresNew struct{}

func (ScoresNew) Kind() string { return "scores_new" }

// ScoresDaily rescores everyone, so that decay shows.
type ScoresDaily struct{}

func (ScoresDaily) Kind() string { return "scores_daily" }

// LifecycleRules runs the lifecycle rules over everyone (time-based rules
// move people without any new activity).
type LifecycleRules struct{}

func (LifecycleRules) Kind() string { return "lifecycle_rules" }

// RoutingAssign assigns the leads that wait for an owner.
type RoutingAssign struct{}

func (RoutingAssign) Kind() string { return "routing_assign" }

// RoutingSLA escalates follow-ups past their SLA.
type RoutingSLA struct{}

func (RoutingSLA) Kind() string { return "routing_sla" }

// JourneySteps runs the due steps of the journeys and enters persons
// from the segment feed and the date-trait pass.
type JourneySteps struct{}

func (JourneySteps) Kind() string { return "journey_steps" }

// ReviewFacts computes again the reviews' kept facts that the roll-up
// refresh made stale and that people read lately.
type ReviewFacts struct{}

func (ReviewFacts) Kind() string { return "review_facts" }

// ReviewReminders reminds the owners of action items due soon or
// overdue (an in-app notification, and the notification hook).
type ReviewReminders struct{}

func (ReviewReminders) Kind() string { return "review_reminders" }

// AuthCleanup deletes expired sessions and old login failures.
type AuthCleanup struct{}

func (AuthCleanup) Kind() string { return "auth_cleanup" }

// PrivacyRetention applies the retention of raw event payloads.
type PrivacyRetention struct{}

func (PrivacyRetention) Kind() string { return "privacy_retention" }

// SQLiteCheckpoint truncates SQLite's write-ahead log.
type SQLiteCheckpoint struct{}

func (SQLiteCheckpoint) Kind() string { return "sqlite_checkpoint" }

// TrainModelDaily retrains the predictive model.
type TrainModelDaily struct{}

func (TrainModelDaily) Kind() string { return "train_model_daily" }

// Operations people start, each with a record in the jobs table.

// Rescore rescores everyone with the rules in force.
type Rescore struct{ Op }

func (Rescore) Kind() string { return "op_rescore" }

// RecomputeCredits recomputes the stored credits: Mode "full" or
// "incremental".
type RecomputeCredits struct {
	Op
	Mode string `json:"mode"`
}

func (RecomputeCredits) Kind() string { return "op_recompute_credits" }

// TrainModel trains the predictive model and scores every lead with it.
type TrainModel struct{ Op }

func (TrainModel) Kind() string { return "op_train_model" }

// Reclassify classifies every touchpoint again with the channel rules in
// force.
type Reclassify struct{ Op }

func (Reclassify) Kind() string { return "op_reclassify" }

// RunLifecycleRules runs the lifecycle rules over everyone now.
type RunLifecycleRules struct{ Op }

func (RunLifecycleRules) Kind() string { return "op_lifecycle_rules" }

// RunRouting assigns waiting leads and checks SLAs now.
type RunRouting struct{ Op }

func (RunRouting) Kind() string { return "op_routing" }

// ErasePerson erases a person (privacy): the receipt is the result.
type ErasePerson struct {
	Op
	PersonID int64  `json:"person_id"`
	Actor    string `json:"actor"`
}

func (ErasePerson) Kind() string { return "op_erase_person" }

// Import imports a file kept in the database (store.SaveUpload): costs or
// events.
type Import struct {
	Op
	Upload          int64  `json:"upload"`
	File            string `json:"file"` // "costs" or "events"
	Name            string `json:"name"`
	CreateCampaigns bool   `json:"create_campaigns"`
	Actor           string `json:"actor"`
}

func (Import) Kind() string { return "op_import" }

// SegmentsNew re-evaluates the segments of the persons that changed
// (after processing and scoring), and builds new or edited segments.
type SegmentsNew struct{}

func (SegmentsNew) Kind() string { return "segments_new" }

// SegmentsTimed builds again the segments whose filters ask about a window
// of days, so that members leave as time passes.
type SegmentsTimed struct{}

func (SegmentsTimed) Kind() string { return "segments_timed" }

// SegmentsDaily builds every segment again (scores decay).
type SegmentsDaily struct{}

func (SegmentsDaily) Kind() string { return "segments_daily" }

// RebuildSegment builds one segment in full.
type RebuildSegment struct {
	Op
	SegmentID int64 `json:"segment_id"`
}

func (RebuildSegment) Kind() string { return "op_rebuild_segment" }
