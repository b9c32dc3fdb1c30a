// Package review holds the rules of what people enter for a campaign
// review: targets (metrics of the catalogue, each once, in its unit,
// bounded) and action items (what, whose, by when, how success is
// measured, the finding it answers; open, done or dropped), each of which
// becomes a task of its owner. The figures of a review are computed in
// package report.
package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Bounds of the inputs.
const (
	MaxTargets = 16  // one per metric of the catalogue
	MaxActions = 200 // action items of one campaign
	MaxAction  = 500 // characters of an action, of its success criterion
	MaxFinding = 200 // characters of the finding it answers
)

// FieldError is one input the user must fix: Key names the message in
// the pages' catalogue (with Args), Msg says it in English for the API,
// naming the field.
type FieldError struct {
	Field string
	Key   string
	Args  []any
	Msg   string
}

// InvalidError lists every input to fix.
type InvalidError struct{ Fields []FieldError }

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Msg
	}
	return strings.Join(parts, "; ")
}

func invalid(field, key, msg string, args ...any) *InvalidError {
	return &InvalidError{Fields: []FieldError{{Field: field, Key: key, Args: args, Msg: msg}}}
}

// ErrStale is a targets edit made on an older version of the campaign.
var ErrStale = store.ErrStale

// TargetInput is one target as the API sends it: {"metric": "leads",
// "value": 500}; money in yuan.
type TargetInput struct {
	Metric string          `json:"metric"`
	Value  json.RawMessage `json:"value"` // a number, or a string holding one
}

// TargetsInput is the body of PUT /api/v1/campaigns/{id}/targets: the
// campaign's targets, all of them (a metric left out has no target), and
// optionally the campaign version the edit was made on.
type TargetsInput struct {
	Targets []TargetInput `json:"targets"`
	Version *int64        `json:"version"`
}

// ParseTargets checks targets: metrics of the catalogue, each once, values
// in the metric's unit with at most two decimals (whole numbers for
// counts), not negative, at most the metric's bound.
func ParseTargets(in []TargetInput) ([]model.CampaignTarget, error) {
	if len(in) > MaxTargets {
		return nil, invalid("targets", "review.error.too_many_targets", fmt.Sprintf("%d targets; at most %d, one per metric", len(in), MaxTargets), "n", MaxTargets)
	}
	var errs []FieldError
	add := func(field, key, msg string, args ...any) {
		errs = append(errs, FieldError{Field: field, Key: key, Args: args, Msg: msg})
	}
	seen := map[string]int{}
	out := make([]model.CampaignTarget, 0, len(in))
	for i, t := range in {
		field := fmt.Sprintf("targets[%d]", i)
		key := strings.ToLower(strings.TrimSpace(t.Metric))
		m, ok := model.ReviewMetricByKey(key)
		switch {
		case key == "":
			add(field+".metric", "review.error.metric_missing", "required: one of "+strings.Join(model.ReviewMetricKeys(), ", "))
			continue
		case !ok:
			add(field+".metric", "review.error.metric_unknown", fmt.Sprintf("unknown metric %q: want one of %s", clip(t.Metric, 40), strings.Join(model.ReviewMetricKeys(), ", ")), "metric", clip(t.Metric, 40))
			continue
		}
		if j, dup := seen[key]; dup {
			add(field+".metric", "review.error.metric_twice", fmt.Sprintf("%s is also targets[%d]: give each metric once", key, j), "metric", key)
			continue
		}
		seen[key] = i
		v, err := parseValue(m, t.Value)
		if err != nil {
			add(field+".value", err.Key, key+": "+err.Msg, append([]any{"metric", key}, err.Args...)...)
			continue
		}
		out = append(out, model.CampaignTarget{Metric: key, Value: v})
	}
	if len(errs) > 0 {
		return nil, &InvalidError{Fields: errs}
	}
	return out, nil
}

// parseValue reads a target in the metric's unit into hundredths of it.
func parseValue(m model.ReviewMetric, raw json.RawMessage) (int64, *FieldError) {
	s := strings.TrimSpace(string(raw))
	if strings.HasPrefix(s, `"`) {
		var text string
		if json.Unmarshal(raw, &text) != nil {
			return 0, &FieldError{Key: "review.error.value_number", Msg: "not a number"}
		}
		s = strings.TrimSpace(strings.ReplaceAll(text, ",", ""))
	}
	if s == "" || s == "null" {
		return 0, &FieldError{Key: "review.error.value_missing", Msg: "a value is required"}
	}
	// The shape first: a number with a huge exponent would take big.Rat
	// a long time to expand.
	mt := numberRE.FindStringSubmatch(s)
	if len(s) > 40 || mt == nil {
		return 0, &FieldError{Key: "review.error.value_number", Msg: fmt.Sprintf("%q is not a number", clip(s, 40))}
	}
	if e, _ := strconv.Atoi(strings.TrimLeft(mt[3], "eE+")); mt[3] != "" && e > 20 {
		return 0, &FieldError{Key: "review.error.value_max", Msg: "at most " + valueText(m, m.MaxTarget()), Args: []any{"max", valueText(m, m.MaxTarget())}}
	} else if e < -20 {
		return 0, &FieldError{Key: "review.error.value_decimals", Msg: "at most two decimals"}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, &FieldError{Key: "review.error.value_number", Msg: fmt.Sprintf("%q is not a number", clip(s, 40))}
	}
	if r.Sign() < 0 {
		return 0, &FieldError{Key: "review.error.value_negative", Msg: "must not be negative"}
	}
	h := new(big.Rat).Mul(r, big.NewRat(100, 1))
	if !h.IsInt() {
		return 0, &FieldError{Key: "review.error.value_decimals", Msg: "at most two decimals"}
	}
	if m.Unit == model.UnitCount && !r.IsInt() {
		return 0, &FieldError{Key: "review.error.value_whole", Msg: "a whole number"}
	}
	max := m.MaxTarget()
	if !h.Num().IsInt64() || h.Num().Int64() > max {
		return 0, &FieldError{Key: "review.error.value_max", Msg: "at most " + valueText(m, max), Args: []any{"max", valueText(m, max)}}
	}
	return h.Num().Int64(), nil
}

// numberRE is a decimal number, as JSON writes one (a leading + too).
var numberRE = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// valueText prints hundredths of a metric's unit as it is entered.
func valueText(m model.ReviewMetric, v int64) string {
	if v%100 == 0 {
		return strconv.FormatInt(v/100, 10)
	}
	return model.Money(v).String()
}

// Service changes targets and action items in a store.
type Service struct {
	Store *store.Store
	Now   func() time.Time
}

// SetTargets replaces a campaign's targets.
func (s Service) SetTargets(ctx context.Context, campaignID int64, in TargetsInput) ([]model.CampaignTarget, int64, error) {
	ts, err := ParseTargets(in.Targets)
	if err != nil {
		return nil, 0, err
	}
	return s.Store.SetCampaignTargets(ctx, campaignID, ts, in.Version, s.Now())
}

// ActionInput is an action item as the API sends it. Owner is a user's
// email or id (a number or a string); absent, the caller owns it.
type ActionInput struct {
	Action  string          `json:"action"`
	Owner   json.RawMessage `json:"owner"`
	Due     string          `json:"due"`
	Success string          `json:"success"`
	Finding string          `json:"finding"`
	// Status is open unless an action decided earlier is recorded done or
	// dropped.
	Status string `json:"status"`
}

// Caller is who records an action item.
type Caller struct {
	UserID int64  // 0 for an API key of no user
	Name   string // for the record: an email or an API key's name
	Role   model.Role
}

// ErrNotYours refuses a change of an action item's status by a caller who
// neither owns it nor recorded it, unless a marketer or an admin.
var ErrNotYours = errors.New("status: only the action item's owner, whoever recorded it, a marketer or an admin may change it")

// CreateAction checks an action item and stores it with its owner's task.
func (s Service) CreateAction(ctx context.Context, campaignID int64, in ActionInput, by Caller) (model.CampaignAction, error) {
	var errs []FieldError
	add := func(field, key, msg string, args ...any) {
		errs = append(errs, FieldError{Field: field, Key: key, Args: args, Msg: msg})
	}
	text := func(field, v string, max int, required bool) string {
		v = model.CleanText(v)
		switch {
		case required && v == "":
			add(field, "review.error.required", "is required")
		case utf8.RuneCountInString(v) > max:
			add(field, "review.error.too_long", fmt.Sprintf("at most %d characters", max), "n", max)
		case strings.ContainsFunc(v, unicode.IsControl):
			add(field, "review.error.control", "must not hold control characters")
		}
		return v
	}
	a := model.CampaignAction{CampaignID: campaignID, CreatedBy: by.Name, CreatedAt: s.Now(), Status: model.ActionOpen}
	a.Action = text("action", in.Action, MaxAction, true)
	a.Success = text("success", in.Success, MaxAction, false)
	a.Finding = text("finding", in.Finding, MaxFinding, false)
	if st := strings.TrimSpace(in.Status); st != "" {
		status, err := ParseStatus(st)
		if err != nil {
			var ie *InvalidError
			errors.As(err, &ie)
			errs = append(errs, ie.Fields...)
		}
		a.Status = status
		if status != model.ActionOpen {
			t := a.CreatedAt
			a.ClosedAt = &t
		}
	}
	due, err := time.Parse("2006-01-02", strings.TrimSpace(in.Due))
	switch {
	case strings.TrimSpace(in.Due) == "":
		add("due", "review.error.due_missing", "required: the day it is due, as YYYY-MM-DD")
	case err != nil || due.Year() < 2000 || due.Year() > 2200:
		add("due", "review.error.due", fmt.Sprintf("%q is not a day: use YYYY-MM-DD", clip(in.Due, 40)))
	}
	owner, ferr := s.owner(ctx, in.Owner, by)
	if ferr != nil {
		errs = append(errs, *ferr)
	}
	if len(errs) > 0 {
		return a, &InvalidError{Fields: errs}
	}
	cal, err := s.Store.Calendar(ctx)
	if err != nil {
		return a, err
	}
	a.OwnerID, a.Due, a.DueAt = owner, due, cal.EndOfDay(due).UTC()
	out, err := s.Store.CreateCampaignAction(ctx, a, MaxActions)
	if errors.Is(err, store.ErrTooMany) {
		return a, invalid("action", "review.error.too_many_actions", fmt.Sprintf("the campaign has %d action items, the most it may have", MaxActions), "n", MaxActions)
	}
	return out, err
}

// owner finds the action's owner: a user's id (a JSON number or a string
// of digits) or email; the caller when absent.
func (s Service) owner(ctx context.Context, raw json.RawMessage, by Caller) (int64, *FieldError) {
	v := strings.TrimSpace(string(raw))
	if v == "" || v == "null" || v == `""` {
		if by.UserID == 0 {
			return 0, &FieldError{Field: "owner", Key: "review.error.owner_missing", Msg: "name the owner (a user's email or id): this API key belongs to no user"}
		}
		return by.UserID, nil
	}
	var u model.User
	var err error
	var text string
	if json.Unmarshal(raw, &text) != nil {
		text = v // a number
	}
	text = strings.TrimSpace(text)
	if id, perr := strconv.ParseInt(text, 10, 64); perr == nil {
		u, err = s.Store.UserByID(ctx, id)
	} else if strings.Contains(text, "@") && len(text) <= 320 {
		u, err = s.Store.UserByEmail(ctx, text)
	} else {
		return 0, &FieldError{Field: "owner", Key: "review.error.owner", Msg: fmt.Sprintf("%q is neither a user's email nor a user id", clip(text, 40)), Args: []any{"owner", clip(text, 40)}}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, &FieldError{Field: "owner", Key: "review.error.owner", Msg: fmt.Sprintf("no user %q", clip(text, 40)), Args: []any{"owner", clip(text, 40)}}
	case err != nil:
		return 0, &FieldError{Field: "owner", Key: "review.error.owner", Msg: err.Error()}
	case u.DisabledAt != nil:
		return 0, &FieldError{Field: "owner", Key: "review.error.owner_disabled", Msg: fmt.Sprintf("user %s is disabled", u.Email), Args: []any{"owner", u.Email}}
	case !MayOwn(u):
		return 0, &FieldError{Field: "owner", Key: "review.error.owner_viewer", Msg: fmt.Sprintf("user %s is a viewer: an action item's owner must be able to work on the campaign (a marketer, sales or an admin)", u.Email), Args: []any{"owner", u.Email}}
	}
	return u.ID, nil
}

// MayOwn says whether a user may own an action item: enabled, and able
// to work on a campaign (a marketer, sales or an admin; not a viewer).
func MayOwn(u model.User) bool {
	return u.DisabledAt == nil && u.Role != model.RoleViewer
}

// ParseStatus reads an action item's status.
func ParseStatus(s string) (model.ActionStatus, error) {
	st := model.ActionStatus(strings.ToLower(strings.TrimSpace(s)))
	for _, ok := range model.ActionStatuses {
		if st == ok {
			return st, nil
		}
	}
	return "", invalid("status", "review.error.status", fmt.Sprintf("%q: want open, done or dropped", clip(s, 40)))
}

// SetActionStatus moves an action item (and its task) to a status.
// MayChange says whether a caller may change an action item's status: a
// marketer or an admin any, anyone else those they own or recorded.
func MayChange(a model.CampaignAction, by Caller) bool {
	if by.Role == model.RoleAdmin || by.Role == model.RoleMarketer {
		return true
	}
	return (by.UserID != 0 && a.OwnerID == by.UserID) || (by.Name != "" && a.CreatedBy == by.Name)
}

func (s Service) SetActionStatus(ctx context.Context, campaignID, id int64, status string, by Caller) (model.CampaignAction, error) {
	st, err := ParseStatus(status)
	if err != nil {
		return model.CampaignAction{}, err
	}
	a, err := s.Store.CampaignAction(ctx, campaignID, id)
	if err != nil {
		return a, err
	}
	if !MayChange(a, by) {
		return a, ErrNotYours
	}
	return s.Store.SetCampaignActionStatus(ctx, campaignID, id, st, s.Now())
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
