package scoring

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// RuleSet is a versioned rule set: the stored one, or the default
// (version 1) while none was saved.
type RuleSet struct {
	Version   int64
	CreatedAt time.Time // zero for the unsaved default
	CreatedBy string
	Rules     *Rules
	Default   bool // the built-in default, never saved
}

// Active returns the active rule set.
func Active(ctx context.Context, s *store.Store) (RuleSet, error) {
	rs, err := s.ActiveRuleSet(ctx, model.ScoringRuleSets)
	if errors.Is(err, store.ErrNotFound) {
		return RuleSet{Version: 1, CreatedBy: "default", Rules: Default(), Default: true}, nil
	}
	if err != nil {
		return RuleSet{}, err
	}
	return ruleSetOf(rs)
}

// Version returns one rule set by version, or store.ErrNotFound.
func Version(ctx context.Context, s *store.Store, version int64) (RuleSet, error) {
	rs, err := s.RuleSetVersion(ctx, model.ScoringRuleSets, version)
	if errors.Is(err, store.ErrNotFound) && version == 1 {
		if _, aerr := s.ActiveRuleSet(ctx, model.ScoringRuleSets); errors.Is(aerr, store.ErrNotFound) {
			return RuleSet{Version: 1, CreatedBy: "default", Rules: Default(), Default: true}, nil
		}
	}
	if err != nil {
		return RuleSet{}, err
	}
	return ruleSetOf(rs)
}

func ruleSetOf(rs model.RuleSet) (RuleSet, error) {
	r, err := Parse(rs.Rules)
	if err != nil {
		return RuleSet{}, fmt.Errorf("stored scoring rules version %d: %w", rs.Version, err)
	}
	return RuleSet{Version: rs.Version, CreatedAt: rs.CreatedAt, CreatedBy: rs.CreatedBy, Rules: r}, nil
}

// Save stores rules as the new active version (the default is stored as
// version 1 first when nothing was saved before). It does not rescore.
func Save(ctx context.Context, s *store.Store, r *Rules, by string, now time.Time) (RuleSet, error) {
	saved, err := s.SaveRuleSet(ctx, model.ScoringRuleSets, r.JSON(), by, now, Default().JSON())
	if err != nil {
		return RuleSet{}, err
	}
	return RuleSet{Version: saved.Version, CreatedAt: saved.CreatedAt, CreatedBy: saved.CreatedBy, Rules: r}, nil
}

// TouchEvents names the touchpoints that no event is behind (bulk loads,
// the demo) as events, so that one set of engagement rules scores both.
// Page views are "page"; a type not listed here scores under its own name.
var TouchEvents = map[string]string{
	"page_view":        "page",
	"content_download": "Content Downloaded",
	"webinar_register": "Webinar Registered",
	"webinar_attend":   "Webinar Attended",
	"badge_scan":       "Event Check-in",
	"form_submit":      "Form Submitted",
	"email_open":       "Email Opened",
	"email_click":      "Email Clicked",
	"wechat_follow":    "WeChat Followed",
	"wecom_add":        "WeCom Added",
	"ad_click":         "Ad Clicked",
	"share_click":      "Shared Link Clicked",
	"call":             "Call",
}

// activityOf turns a stored row into an activity; ok is false for rows
// that never score.
func activityOf(row *store.ActivityRow) (event, path string, ok bool) {
	if !row.FromEvent {
		event, ok := TouchEvents[row.Type]
		if !ok {
			event = row.Type
		}
		return event, urlPath(row.URL), event != ""
	}
	switch row.Type {
	case "page":
		return "page", urlPath(row.URL), true
	case "screen":
		return "screen", "", true
	case "track":
		return row.Name, urlPath(row.URL), row.Name != ""
	}
	return "", "", false
}

// watchOf is an activity's watch time: a touchpoint's column, an event's
// properties (read only for the events a rule asks about).
func watchOf(row *store.ActivityRow, props map[string]any) int64 {
	if !row.FromEvent {
		return row.WatchSeconds
	}
	return model.WatchSeconds(props)
}

// urlPath is the path of an absolute or relative URL, without query or
// fragment; "" when there is no URL.
func urlPath(u string) string {
	if u == "" {
		return ""
	}
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
		j := strings.IndexByte(u, '/')
		if j < 0 {
			return "/"
		}
		u = u[j:]
	}
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if u == "" {
		return "/"
	}
	return u
}

func propertiesOf(payload string) map[string]any {
	if payload == "" {
		return nil
	}
	var m struct {
		Properties map[string]any `json:"properties"`
	}
	if json.Unmarshal([]byte(payload), &m) != nil {
		return nil
	}
	return m.Properties
}

func profileOf(p *store.ScoringProfile, traits bool) Profile {
	out := Profile{Stage: p.Stage, Title: p.Title, Email: p.Email, Industry: p.Industry, SizeBand: p.SizeBand,
		Employees: p.Employees, Region: p.Region, City: p.City, Tier: p.Tier, Plan: p.Plan}
	if traits && p.Traits != "" && p.Traits != "{}" {
		// Malformed traits count as none rather than stopping every score.
		_ = json.Unmarshal([]byte(p.Traits), &out.Traits)
	}
	return out
}

// Result says what a rescoring run did.
type Result struct {
	Version    int64         `json:"version"`
	Persons    int           `json:"persons"`    // persons scored
	Updated    int           `json:"updated"`    // of which written (a newer score is kept)
	Activities int           `json:"activities"` // activities that some rule counted
	MovedToMQL int           `json:"moved_to_mql"`
	Took       time.Duration `json:"-"`
	TookMS     int64         `json:"took_ms"`
	ReadMS     int64         `json:"read_ms"`  // reading persons and activities
	WriteMS    int64         `json:"write_ms"` // writing scores and stage moves
	// Rescored are the ids of the persons an incremental run scored (those
	// with new activity, identity or traits), for what follows them (the
	// lifecycle rules). Empty after a full replay, which Full says.
	Rescored []int64 `json:"-"`
	Full     bool    `json:"-"`
}

// LeaseName is the lease a rescoring holds: one at a time on every node
// that shares the database (two at once would read and write the same
// scores and watermarks).
const LeaseName = "scores"

// Rescore scores the persons with the given ids at now with the active
// rules, or every person when only is nil (a full replay, which also
// moves the incremental watermarks), and moves those who reach the MQL
// threshold to mql. While another rescoring runs (here or on another
// node) it does nothing and the error is store.ErrLeaseHeld.
func Rescore(ctx context.Context, s *store.Store, now time.Time, only []int64) (Result, error) {
	var res Result
	err := s.WithLease(ctx, LeaseName, func(ctx context.Context) error {
		var err error
		res, err = rescoreLeased(ctx, s, now, only)
		return err
	})
	return res, err
}

func rescoreLeased(ctx context.Context, s *store.Store, now time.Time, only []int64) (Result, error) {
	rs, err := Active(ctx, s)
	if err != nil {
		return Result{}, err
	}
	var hw store.ScoringWatermarks
	if only == nil {
		// Read the high water before the activities: what arrives during
		// the run is picked up by the next incremental run.
		if hw, err = s.ScoringHighWater(ctx); err != nil {
			return Result{}, err
		}
	}
	res, err := rescore(ctx, s, rs, now, only)
	if err != nil || only != nil {
		return res, err
	}
	res.Full = true
	if err := s.SetScoringWatermarks(ctx, hw, now); err != nil {
		return res, err
	}
	return res, nil
}

// RescoreNew scores the persons with events or touches stored since the
// last run, and those logged as changed since (merged, a merge undone,
// traits or account changed: a merge moves touches and events whose ids
// the last run has passed already). A person merged away is not scored
// again; its survivor is, with everything moved to it. A full replay when
// scoring never ran. Like Rescore it holds the scores lease.
func RescoreNew(ctx context.Context, s *store.Store, now time.Time) (Result, error) {
	var res Result
	err := s.WithLease(ctx, LeaseName, func(ctx context.Context) error {
		var err error
		res, err = rescoreNew(ctx, s, now)
		return err
	})
	return res, err
}

func rescoreNew(ctx context.Context, s *store.Store, now time.Time) (Result, error) {
	wm, err := s.ScoringWatermarks(ctx)
	if err != nil {
		return Result{}, err
	}
	if !wm.Set {
		return rescoreLeased(ctx, s, now, nil)
	}
	hw, err := s.ScoringHighWater(ctx)
	if err != nil {
		return Result{}, err
	}
	if hw.EventID <= wm.EventID && hw.TouchpointID <= wm.TouchpointID && hw.PersonChangeID <= wm.PersonChangeID {
		return Result{}, nil
	}
	ids, err := s.PersonsActiveBetween(ctx, wm, hw)
	if err != nil {
		return Result{}, err
	}
	res := Result{}
	if len(ids) > 0 {
		rs, err := Active(ctx, s)
		if err != nil {
			return Result{}, err
		}
		if res, err = rescore(ctx, s, rs, now, ids); err != nil {
			return res, err
		}
		res.Rescored = ids
	}
	hw.EventID, hw.TouchpointID = max(hw.EventID, wm.EventID), max(hw.TouchpointID, wm.TouchpointID)
	hw.PersonChangeID = max(hw.PersonChangeID, wm.PersonChangeID)
	return res, s.SetScoringWatermarks(ctx, hw, now)
}

// mqlOrBeyond are the stages a person who was ever in is never moved to
// mql by score again.
var mqlOrBeyond = []model.Stage{model.StageMQL, model.StageSQL, model.StageOpportunity, model.StageCustomer}

// computed is a replay's outcome before anything is written: every
// person's new score, and who reached the MQL threshold while a lead or a
// subscriber.
type computed struct {
	profiles   []store.ScoringProfile // as read, with the stored score
	scores     []model.PersonScore    // in the order of profiles
	index      map[int64]int32        // person id → position in profiles
	candidates []int64
	activities int
	readMS     int64
}

// compute scores the persons with the given ids (everyone when only is
// nil) at now with rs, reading the store and writing nothing.
func compute(ctx context.Context, s *store.Store, rs RuleSet, now time.Time, only []int64) (computed, error) {
	start := time.Now()
	r := rs.Rules
	var c computed
	profiles, err := s.ScoringProfiles(ctx, only)
	if err != nil {
		return c, fmt.Errorf("read persons: %w", err)
	}
	index := make(map[int64]int32, len(profiles))
	for i := range profiles {
		index[profiles[i].PersonID] = int32(i)
	}

	// Gather every counted activity as (person, rule, time), then bucket
	// them by person; the database is read in whatever order is cheapest.
	type personHit struct {
		person int32
		hit
	}
	var flat []personHit
	var buf []int
	err = s.ScoringActivities(ctx, only, r.payloadFor, func(row store.ActivityRow) error {
		p, ok := index[row.PersonID]
		if !ok {
			return nil // merged, or not asked for
		}
		event, path, ok := activityOf(&row)
		if !ok {
			return nil
		}
		props := propertiesOf(row.Properties)
		buf = r.match(event, path, props, watchOf(&row, props), buf[:0])
		at := row.At.UnixMicro()
		for _, rule := range buf {
			flat = append(flat, personHit{person: p, hit: hit{rule: int32(rule), at: at}})
		}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("read activities: %w", err)
	}
	c.activities = len(flat)
	c.readMS = time.Since(start).Milliseconds()
	offsets := make([]int32, len(profiles)+1)
	for _, h := range flat {
		offsets[h.person+1]++
	}
	for i := 1; i < len(offsets); i++ {
		offsets[i] += offsets[i-1]
	}
	hits := make([]hit, len(flat))
	fill := make([]int32, len(profiles))
	copy(fill, offsets[:len(profiles)])
	for _, h := range flat {
		hits[fill[h.person]] = h.hit
		fill[h.person]++
	}
	flat = nil

	nowMicro := now.UnixMicro()
	scores := make([]model.PersonScore, len(profiles))
	var candidates []int64
	for i := range profiles {
		sp := &profiles[i]
		p := profileOf(sp, r.needTraits)
		mine := hits[offsets[i]:offsets[i+1]]
		sortHits(mine)
		fit, eng, score := totals(r.fit(&p, nil), r.engagement(mine, nowMicro, nil))
		scores[i] = model.PersonScore{PersonID: sp.PersonID, Fit: fit, Engagement: eng, Score: score}
		if score >= r.MQLThreshold && (sp.Stage == model.StageLead || sp.Stage == model.StageSubscriber) {
			candidates = append(candidates, sp.PersonID)
		}
	}
	c.profiles, c.scores, c.index, c.candidates = profiles, scores, index, candidates
	return c, nil
}

func rescore(ctx context.Context, s *store.Store, rs RuleSet, now time.Time, only []int64) (Result, error) {
	start := time.Now()
	res := Result{Version: rs.Version}
	c, err := compute(ctx, s, rs, now, only)
	if err != nil {
		return res, err
	}
	res.Activities, res.ReadMS, res.Persons = c.activities, c.readMS, len(c.scores)
	wrote := time.Now()
	if res.Updated, err = s.WriteScores(ctx, c.scores, rs.Version, now); err != nil {
		return res, fmt.Errorf("write scores: %w", err)
	}
	moves, err := mqlMoves(ctx, s, rs, now, c)
	if err != nil {
		return res, err
	}
	if res.MovedToMQL, err = applyMoves(ctx, s, moves); err != nil {
		return res, err
	}
	res.WriteMS = time.Since(wrote).Milliseconds()
	res.Took = time.Since(start)
	res.TookMS = res.Took.Milliseconds()
	return res, nil
}

// mqlMoves are the moves to mql of the candidates who were never in mql
// or beyond, at now, naming the crossing and the rule version. It only
// reads.
func mqlMoves(ctx context.Context, s *store.Store, rs RuleSet, now time.Time, c computed) ([]model.StageMove, error) {
	if len(c.candidates) == 0 {
		return nil, nil
	}
	before, err := s.EverReached(ctx, c.candidates, mqlOrBeyond)
	if err != nil {
		return nil, fmt.Errorf("read stage history: %w", err)
	}
	var moves []model.StageMove
	for _, id := range c.candidates {
		if before[id] {
			continue
		}
		i := c.index[id]
		from := c.profiles[i].Stage
		reason := fmt.Sprintf("score %s ≥ %s", num(c.scores[i].Score), num(rs.Rules.MQLThreshold))
		if err := lifecycle.Check(from, model.StageMQL, reason, lifecycle.ActorScoring); err != nil {
			return nil, err
		}
		moves = append(moves, model.StageMove{PersonID: id, From: from, To: model.StageMQL, At: now, Reason: reason,
			Actor: lifecycle.ActorScoring, RuleVersion: rs.Version})
	}
	return moves, nil
}

// applyMoves writes stage moves in parts and counts those applied.
func applyMoves(ctx context.Context, s *store.Store, moves []model.StageMove) (int, error) {
	moved := 0
	for len(moves) > 0 {
		part := moves[:min(500, len(moves))]
		moves = moves[len(part):]
		applied, err := s.MoveStages(ctx, part)
		if err != nil {
			return moved, fmt.Errorf("move to mql: %w", err)
		}
		for _, ok := range applied {
			if ok {
				moved++
			}
		}
	}
	return moved, nil
}

// Preview says what saving a rule set would do: the replay that follows
// a save, computed without writing anything.
type Preview struct {
	Persons        int           `json:"persons"`          // persons scored
	ScoreChanges   int           `json:"score_changes"`    // of which the score would change
	WouldBecomeMQL int           `json:"would_become_mql"` // moved to mql by the new scores
	Sample         []ScoreChange `json:"sample"`           // the moves to mql first, then the largest changes
}

// ScoreChange is one person's score (and stage) before and after.
type ScoreChange struct {
	PersonID    int64       `json:"person_id"`
	ScoreBefore float64     `json:"score_before"`
	ScoreAfter  float64     `json:"score_after"`
	StageBefore model.Stage `json:"stage_before"`
	StageAfter  model.Stage `json:"stage_after"`
}

// PreviewRules replays every score at now with rules as the next version
// would, without writing, and lists at most sample changed persons.
func PreviewRules(ctx context.Context, s *store.Store, rules *Rules, now time.Time, sample int) (Preview, error) {
	var p Preview
	active, err := Active(ctx, s)
	if err != nil {
		return p, err
	}
	rs := RuleSet{Version: active.Version + 1, Rules: rules}
	c, err := compute(ctx, s, rs, now, nil)
	if err != nil {
		return p, err
	}
	moves, err := mqlMoves(ctx, s, rs, now, c)
	if err != nil {
		return p, err
	}
	toMQL := make(map[int64]bool, len(moves))
	for _, m := range moves {
		toMQL[m.PersonID] = true
	}
	p.Persons, p.WouldBecomeMQL = len(c.scores), len(moves)
	var changes []ScoreChange
	for i, sc := range c.scores {
		before := c.profiles[i]
		if math.Abs(sc.Score-before.Score) < 0.005 && !toMQL[sc.PersonID] {
			continue
		}
		if math.Abs(sc.Score-before.Score) >= 0.005 {
			p.ScoreChanges++
		}
		ch := ScoreChange{PersonID: sc.PersonID, ScoreBefore: before.Score, ScoreAfter: sc.Score, StageBefore: before.Stage, StageAfter: before.Stage}
		if toMQL[sc.PersonID] {
			ch.StageAfter = model.StageMQL
		}
		changes = append(changes, ch)
	}
	slices.SortFunc(changes, func(a, b ScoreChange) int {
		am, bm := a.StageAfter != a.StageBefore, b.StageAfter != b.StageBefore
		if am != bm {
			if am {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(math.Abs(b.ScoreAfter-b.ScoreBefore), math.Abs(a.ScoreAfter-a.ScoreBefore)); c != 0 {
			return c
		}
		return cmp.Compare(a.PersonID, b.PersonID)
	})
	p.Sample = changes[:min(sample, len(changes))]
	if p.Sample == nil {
		p.Sample = []ScoreChange{}
	}
	return p, nil
}

func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// Explain scores one person live at now with the active rules, saying
// which rules gave how many points. It returns store.ErrNotFound for an
// unknown or merged person.
func Explain(ctx context.Context, s *store.Store, personID int64, now time.Time) (Breakdown, error) {
	rs, err := Active(ctx, s)
	if err != nil {
		return Breakdown{}, err
	}
	profiles, err := s.ScoringProfiles(ctx, []int64{personID})
	if err != nil {
		return Breakdown{}, err
	}
	if len(profiles) == 0 {
		return Breakdown{}, store.ErrNotFound
	}
	r := rs.Rules
	var acts []Activity
	err = s.ScoringActivities(ctx, []int64{personID}, r.payloadFor, func(row store.ActivityRow) error {
		if event, path, ok := activityOf(&row); ok {
			props := propertiesOf(row.Properties)
			acts = append(acts, Activity{At: row.At, Event: event, Path: path, Properties: props, WatchSeconds: watchOf(&row, props)})
		}
		return nil
	})
	if err != nil {
		return Breakdown{}, err
	}
	b := r.Evaluate(profileOf(&profiles[0], r.needTraits), acts, now)
	b.Version = rs.Version
	return b, nil
}
