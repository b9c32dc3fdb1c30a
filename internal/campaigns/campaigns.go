// Package campaigns holds the rules of creating and editing campaigns by
// hand (the campaigns page and API): what each field may hold, the UTM
// code (unique in any case, a charset links and imports can carry,
// suggested from the name), the owner, the parent programme without
// cycles, and the version that keeps two people's edits from undoing each
// other unseen.
package campaigns

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/revloop/revloop/internal/links"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Bounds of the fields.
const (
	MaxName     = 200                            // characters
	MaxCode     = 64                             // bytes
	MaxBudget   = model.Money(1_000_000_000_000) // ¥10,000,000,000.00
	MaxTarget   = 10_000_000                     // leads, MQLs, opportunities
	MaxPlatform = 40
)

// Kinds are the kinds of campaign the form offers, by group; the API
// takes any word of lower-case letters, digits and underscores, so that
// campaigns made by imports (kind "ads") and older data stay editable.
var Kinds = []string{
	"search_ads", "feed_ads", "video_ads", "display_ads", "sponsored_content", "lead_gen_forms",
	"webinar", "exhibition", "conference", "salon", "roundtable",
	"whitepaper", "report", "case_study", "toolkit", "article", "social_content", "social_video",
	"newsletter", "nurture", "reactivation",
	"employee_sharing", "community", "private_domain",
	"partner_referral", "customer_referral", "marketplace",
	"outbound_abm", "cold_call",
}

// Platforms the form suggests (free text otherwise).
var Platforms = []string{"baidu", "oceanengine", "tencent_ads", "google_ads", "linkedin_ads", "wechat", "wecom", "weibo", "zhihu", "xiaohongshu", "bilibili", "email"}

var (
	codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	wordRE = regexp.MustCompile(`^[a-z0-9_]*$`)
)

// Input is a campaign as the API and the form send it. Absent (nil)
// fields keep the stored value on an edit (PATCH) and take the default on
// a create; PUT sends them all.
type Input struct {
	Code                *string      `json:"code"`
	Name                *string      `json:"name"`
	NameEN              *string      `json:"name_en"`
	Kind                *string      `json:"kind"`
	Channel             *string      `json:"channel"`
	Platform            *string      `json:"platform"`
	StartDate           *string      `json:"start_date"`
	EndDate             *string      `json:"end_date"`
	Budget              *model.Money `json:"budget"`
	OwnerID             *int64       `json:"owner_id"`
	ParentID            *int64       `json:"parent_id"`
	LandingURL          *string      `json:"landing_url"`
	TargetLeads         *int         `json:"target_leads"`
	TargetMQLs          *int         `json:"target_mqls"`
	TargetOpportunities *int         `json:"target_opportunities"`
	TargetPipeline      *model.Money `json:"target_pipeline"`
	TargetRevenue       *model.Money `json:"target_revenue"`
	// Version is the version the edit was made on: a newer stored one
	// refuses it (ErrStale). Absent: the last write wins.
	Version *int64 `json:"version"`
}

// FieldError is one field the user must fix: Key names the message in
// the page's catalogue (with Args), Msg says it in English for the API.
type FieldError struct {
	Field string
	Key   string
	Args  []any
	Msg   string
}

// InvalidError lists every field to fix.
type InvalidError struct{ Fields []FieldError }

func (e *InvalidError) Error() string {
	var parts []string
	for _, f := range e.Fields {
		parts = append(parts, f.Field+": "+f.Msg)
	}
	return strings.Join(parts, "; ")
}

// Has says whether field has an error.
func (e *InvalidError) Has(field string) bool {
	return slices.ContainsFunc(e.Fields, func(f FieldError) bool { return f.Field == field })
}

type checker struct{ errs []FieldError }

func (c *checker) add(field, key, msg string, args ...any) {
	c.errs = append(c.errs, FieldError{Field: field, Key: key, Args: args, Msg: msg})
}

// apply puts the input's fields onto c and checks each; dates are team
// days.
func (in Input) apply(c model.Campaign) (model.Campaign, *checker) {
	ck := &checker{}
	text := func(field string, v *string, dst *string, max int, required bool) {
		if v != nil {
			*dst = model.CleanText(*v)
		}
		switch {
		case required && *dst == "":
			ck.add(field, "campaigns.error.required", "is required")
		case utf8.RuneCountInString(*dst) > max:
			ck.add(field, "campaigns.error.too_long", fmt.Sprintf("at most %d characters", max), "n", max)
		case strings.ContainsFunc(*dst, unicode.IsControl):
			ck.add(field, "campaigns.error.control", "must not hold control characters")
		}
	}
	text("name", in.Name, &c.Name, MaxName, true)
	text("name_en", in.NameEN, &c.NameEN, MaxName, false)
	if in.Code != nil {
		c.Code = strings.TrimSpace(*in.Code)
	}
	switch {
	case c.Code == "":
		ck.add("code", "campaigns.error.required", "is required (the utm_campaign value links carry)")
	case len(c.Code) > MaxCode:
		ck.add("code", "campaigns.error.code_long", fmt.Sprintf("at most %d characters", MaxCode), "n", MaxCode)
	case !codeRE.MatchString(c.Code):
		ck.add("code", "campaigns.error.code_charset", "use letters, digits, '-', '_' and '.', starting with a letter or digit")
	}
	if in.Kind != nil {
		c.Kind = strings.TrimSpace(*in.Kind)
	}
	if len(c.Kind) > 40 || !wordRE.MatchString(c.Kind) {
		ck.add("kind", "campaigns.error.kind", "lower-case letters, digits and '_' (e.g. webinar, exhibition, search_ads)")
	}
	if in.Channel != nil {
		c.Channel = model.Channel(strings.TrimSpace(*in.Channel))
	}
	if !slices.Contains(model.Channels, c.Channel) {
		names := make([]string, len(model.Channels))
		for i, ch := range model.Channels {
			names[i] = string(ch)
		}
		ck.add("channel", "campaigns.error.channel", "want one of "+strings.Join(names, ", "))
	}
	if in.Platform != nil {
		c.Platform = strings.ToLower(strings.TrimSpace(*in.Platform))
	}
	if len(c.Platform) > MaxPlatform || !wordRE.MatchString(c.Platform) {
		ck.add("platform", "campaigns.error.platform", "lower-case letters, digits and '_' (e.g. baidu, oceanengine)")
	}
	day := func(field string, v *string, dst *time.Time) {
		if v == nil {
			return
		}
		s := strings.TrimSpace(*v)
		if s == "" {
			*dst = time.Time{}
			return
		}
		d, err := time.Parse("2006-01-02", s)
		if err != nil || d.Year() < 1990 || d.Year() > 2200 {
			ck.add(field, "campaigns.error.date", "a day as YYYY-MM-DD (the team's time zone)")
			return
		}
		*dst = d
	}
	day("start_date", in.StartDate, &c.StartDate)
	day("end_date", in.EndDate, &c.EndDate)
	if !c.StartDate.IsZero() && !c.EndDate.IsZero() && c.EndDate.Before(c.StartDate) && !ck.has("end_date") {
		ck.add("end_date", "campaigns.error.end_before_start", "must not be before start_date")
	}
	money := func(field string, v *model.Money, dst *model.Money) {
		if v != nil {
			*dst = *v
		}
		if *dst < 0 || *dst > MaxBudget {
			ck.add(field, "campaigns.error.money", "between 0 and 10,000,000,000.00 yuan, at most two decimals")
		}
	}
	money("budget", in.Budget, &c.Budget)
	money("target_pipeline", in.TargetPipeline, &c.TargetPipeline)
	money("target_revenue", in.TargetRevenue, &c.TargetRevenue)
	count := func(field string, v *int, dst *int) {
		if v != nil {
			*dst = *v
		}
		if *dst < 0 || *dst > MaxTarget {
			ck.add(field, "campaigns.error.count", "a whole number between 0 and 10,000,000")
		}
	}
	count("target_leads", in.TargetLeads, &c.TargetLeads)
	count("target_mqls", in.TargetMQLs, &c.TargetMQLs)
	count("target_opportunities", in.TargetOpportunities, &c.TargetOpportunities)
	if in.OwnerID != nil {
		c.OwnerID = *in.OwnerID
	}
	if in.ParentID != nil {
		c.ParentID = *in.ParentID
	}
	if c.OwnerID < 0 {
		ck.add("owner_id", "campaigns.error.owner", "not a user")
	}
	if c.ParentID < 0 || (c.ParentID != 0 && c.ParentID == c.ID) {
		ck.add("parent_id", "campaigns.error.parent_self", "a campaign cannot be inside itself")
	}
	if in.LandingURL != nil {
		c.LandingURL = strings.TrimSpace(*in.LandingURL)
	}
	if c.LandingURL != "" {
		if u, err := links.ParseTarget(c.LandingURL); err != nil {
			ck.add("landing_url", "campaigns.error.url", err.Error())
		} else {
			c.LandingURL = u.String()
		}
	}
	return c, ck
}

func (c *checker) has(field string) bool {
	return slices.ContainsFunc(c.errs, func(f FieldError) bool { return f.Field == field })
}

func (c *checker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return &InvalidError{Fields: c.errs}
}

// Service creates and edits campaigns in a store.
type Service struct {
	Store *store.Store
	Now   func() time.Time
}

// Warning is something the user should know about a saved edit.
type Warning struct {
	Key string // catalogue key
	Msg string // English, for the API
	N   int64
}

// ErrStale is an edit made on an older version than the stored one.
var ErrStale = store.ErrStale

// Create validates in and stores a new campaign. Without a code one is
// suggested from the names.
func (s Service) Create(ctx context.Context, in Input) (model.Campaign, error) {
	c := model.Campaign{Channel: "", Kind: ""}
	if in.Code == nil || strings.TrimSpace(*in.Code) == "" {
		name, nameEN, kind := deref(in.Name), deref(in.NameEN), deref(in.Kind)
		var start time.Time
		if in.StartDate != nil {
			start, _ = time.Parse("2006-01-02", strings.TrimSpace(*in.StartDate))
		}
		code, err := s.SuggestCode(ctx, name, nameEN, kind, start, 0)
		if err != nil {
			return c, err
		}
		in.Code = &code
	}
	c, ck := in.apply(c)
	if err := ck.err(); err != nil {
		return c, err
	}
	out, err := s.Store.CreateCampaign(ctx, c, s.Now())
	return out, storeError(err)
}

// Update validates in over the stored campaign id and stores the result.
// A new code on a campaign that touches already carry is saved, with a
// warning: links and forms that carry the old code no longer find it.
func (s Service) Update(ctx context.Context, id int64, in Input) (model.Campaign, []Warning, error) {
	cur, err := s.Store.CampaignByID(ctx, id)
	if err != nil {
		return cur, nil, err
	}
	c, ck := in.apply(cur)
	if err := ck.err(); err != nil {
		return c, nil, err
	}
	var warnings []Warning
	if c.Code != cur.Code {
		u, err := s.Store.CampaignUsage(ctx, id)
		if err != nil {
			return c, nil, err
		}
		if u.Touches > 0 || u.Links > 0 {
			warnings = append(warnings, Warning{Key: "campaigns.warn.code_changed", N: u.Touches,
				Msg: fmt.Sprintf("the code changed from %s to %s: %d touch(es) and %d tracked link(s) carry the old code; links, ads and forms that still send utm_campaign=%s no longer find this campaign", cur.Code, c.Code, u.Touches, u.Links, cur.Code)})
		}
	}
	out, err := s.Store.UpdateCampaign(ctx, c, in.Version, s.Now())
	return out, warnings, storeError(err)
}

// CodeChangeNeedsCare says whether changing id's code would leave touches
// or links carrying the old one, and how many touches.
func (s Service) CodeChangeNeedsCare(ctx context.Context, id int64) (int64, bool, error) {
	u, err := s.Store.CampaignUsage(ctx, id)
	return u.Touches, u.Touches > 0 || u.Links > 0, err
}

// storeError turns what the store refused into field errors.
func storeError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrDuplicate):
		return &InvalidError{Fields: []FieldError{{Field: "code", Key: "campaigns.error.code_taken", Msg: "another campaign has this code (codes are compared in any case)"}}}
	case errors.Is(err, store.ErrCycle):
		return &InvalidError{Fields: []FieldError{{Field: "parent_id", Key: "campaigns.error.parent_cycle", Msg: "the parent is inside this campaign: a campaign cannot be inside itself"}}}
	case errors.Is(err, store.ErrNotFound) && strings.HasPrefix(err.Error(), "owner"):
		return &InvalidError{Fields: []FieldError{{Field: "owner_id", Key: "campaigns.error.owner", Msg: "not a user"}}}
	case errors.Is(err, store.ErrNotFound) && strings.HasPrefix(err.Error(), "parent"):
		return &InvalidError{Fields: []FieldError{{Field: "parent_id", Key: "campaigns.error.parent", Msg: "no such campaign"}}}
	}
	return err
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// SuggestCode makes a code from a campaign's names: the ASCII words of
// the English name (else of the name), else its kind, with the start
// month, in lower case joined by '-', made unique by a number. except is
// the campaign being edited (0 for a new one).
func (s Service) SuggestCode(ctx context.Context, name, nameEN, kind string, start time.Time, except int64) (string, error) {
	base := slug(nameEN)
	if base == "" {
		base = slug(name)
	}
	if base == "" {
		base = slug(kind)
	}
	if base == "" {
		base = "campaign"
	}
	if !start.IsZero() && !strings.Contains(base, strconv.Itoa(start.Year())) {
		base += "-" + start.Format("200601")
	}
	if len(base) > 48 {
		base = strings.TrimRight(base[:48], "-")
	}
	code := base
	for n := 2; n < 1000; n++ {
		taken, err := s.Store.CampaignCodeTaken(ctx, code, except)
		if err != nil || !taken {
			return code, err
		}
		code = base + "-" + strconv.Itoa(n)
	}
	return code, nil
}

// slug keeps the ASCII letters and digits of s, lower case, words joined
// by '-'.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	return b.String()
}
