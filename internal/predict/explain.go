package predict

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Factor is one reason for a person's probability, in words.
type Factor struct {
	Factor string  `json:"factor"`
	Effect string  `json:"effect"` // "raises" or "lowers"
	Weight float64 `json:"weight"` // size of the effect on the log-odds, relative to the average lead
}

// Effects.
const (
	Raises = "raises"
	Lowers = "lowers"
)

// minFactorWeight hides effects too small to mention.
const minFactorWeight = 0.01

// Factors explains a lead's probability: the top n factors that raise it
// and the top n that lower it, compared with the average lead the model
// learned from. A category field (industry, say) counts as one factor, the
// sum of its levels' contributions; a behaviour is one factor worded by
// what the person did ("Attended 2 webinars") or did not do.
func (m *Model) Factors(l Lead, now time.Time, n int) []Factor {
	r := Extract(l, now, m.Window())
	contrib := m.contributions(r)
	byField := map[string]float64{}
	var order []string
	for j, c := range m.Columns {
		if _, ok := byField[c.Field]; !ok {
			order = append(order, c.Field)
		}
		byField[c.Field] += contrib[j]
	}
	var up, down []Factor
	for _, f := range order {
		w := byField[f]
		if math.Abs(w) < minFactorWeight {
			continue
		}
		fa := Factor{Factor: describe(f, r), Weight: math.Round(math.Abs(w)*100) / 100}
		if w > 0 {
			fa.Effect = Raises
			up = append(up, fa)
		} else {
			fa.Effect = Lowers
			down = append(down, fa)
		}
	}
	byWeight := func(a, b Factor) int {
		if c := cmp.Compare(b.Weight, a.Weight); c != 0 {
			return c
		}
		return strings.Compare(a.Factor, b.Factor)
	}
	slices.SortStableFunc(up, byWeight)
	slices.SortStableFunc(down, byWeight)
	n = max(n, 0)
	out := make([]Factor, 0, 2*n)
	out = append(out, up[:min(n, len(up))]...)
	return append(out, down[:min(n, len(down))]...)
}

// Feature is one input of a model with its standardised coefficient, for
// an overview of what the model learned.
type Feature struct {
	Feature     string  `json:"feature"`
	Coefficient float64 `json:"coefficient"` // change in log-odds per standard deviation
	Effect      string  `json:"effect"`
}

// TopFeatures are the n columns with the largest coefficients (by size).
func (m *Model) TopFeatures(n int) []Feature {
	out := make([]Feature, 0, len(m.Columns))
	for _, c := range m.Columns {
		f := Feature{Feature: m.columnName(c), Coefficient: math.Round(c.Coef*1000) / 1000, Effect: Raises}
		if c.Coef < 0 {
			f.Effect = Lowers
		}
		out = append(out, f)
	}
	slices.SortStableFunc(out, func(a, b Feature) int {
		if c := cmp.Compare(math.Abs(b.Coefficient), math.Abs(a.Coefficient)); c != 0 {
			return c
		}
		return strings.Compare(a.Feature, b.Feature)
	})
	return out[:min(max(n, 0), len(out))]
}

// columnName describes a column for the model overview.
func (m *Model) columnName(c Column) string {
	if c.Level == "" {
		if b, ok := behaviourIndex[c.Field]; ok {
			return fmt.Sprintf("%s in the first %g days as a lead", behaviourNouns[b], m.WindowDays)
		}
		return c.Field
	}
	lv := c.Level
	if lv == otherLevel {
		lv = "other"
	}
	switch c.Field {
	case fieldIndustry:
		return "industry: " + words(lv)
	case fieldSize:
		return "company size: " + lv
	case fieldTier:
		return "account tier: " + lv
	case fieldRegion:
		return "region: " + words(lv)
	case fieldSeniority:
		return "title seniority: " + lv
	case fieldEmail:
		return "email: " + lv
	case fieldFirstChannel:
		return "first came through: " + channelWords(lv)
	}
	return c.Field + ": " + lv
}

// behaviourNouns name the behaviours in the model overview.
var behaviourNouns = [numBehaviours]string{
	"web page views", "pricing page views", "content downloads", "webinar registrations", "webinar attendances",
	"event badge scans", "demo requests", "form submissions", "email opens", "email clicks",
	"WeChat follows", "WeCom adds", "ad clicks", "clicks on shared links", "other tracked actions", "active days",
}

// behaviourWords word a behaviour for a person: for one, for many (with
// %d), and for none.
var behaviourWords = [numBehaviours][3]string{
	{"Viewed a web page", "Viewed %d web pages", "No page views since becoming a lead"},
	{"Viewed the pricing page", "Viewed the pricing page %d times", "Has not looked at pricing"},
	{"Downloaded content", "Downloaded %d pieces of content", "Has not downloaded any content"},
	{"Registered for a webinar", "Registered for %d webinars", "Has not registered for a webinar"},
	{"Attended a webinar", "Attended %d webinars", "Has not attended a webinar"},
	{"Met us at an event", "Met us at %d events", "Has not been to one of our events"},
	{"Asked for a demo", "Asked for a demo %d times", "Has not asked for a demo"},
	{"Filled in a form", "Filled in %d forms", "Has not filled in a form"},
	{"Opened an email", "Opened %d emails", "Has not opened our emails"},
	{"Clicked a link in an email", "Clicked links in %d emails", "Has not clicked in our emails"},
	{"Follows our WeChat account", "Followed our WeChat account", "Does not follow our WeChat account"},
	{"Added us on WeCom", "Added us on WeCom", "Has not added us on WeCom"},
	{"Clicked an ad", "Clicked %d ads", "Has not clicked our ads"},
	{"Opened a link a colleague shared", "Opened %d shared links", "Has not opened shared links"},
	{"Took another tracked action", "Took %d other tracked actions", "No other tracked actions"},
	{"Active on one day", "Active on %d different days", "No activity since becoming a lead"},
}

// describe words a field's value for one person.
func describe(field string, r Raw) string {
	if b, ok := behaviourIndex[field]; ok {
		n := r.Counts[b]
		w := behaviourWords[b]
		switch {
		case n == 0:
			return w[2]
		case n == 1:
			return w[0]
		case strings.Contains(w[1], "%d"):
			return fmt.Sprintf(w[1], n)
		default:
			return w[1]
		}
	}
	if fi, ok := categoryIndex[field]; ok {
		lv := r.Categories[fi]
		switch field {
		case fieldIndustry:
			if lv == unknownLevel {
				return "Industry unknown"
			}
			return "Company in " + words(lv)
		case fieldSize:
			if lv == unknownLevel {
				return "Company size unknown"
			}
			return "Company of " + lv + " employees"
		case fieldTier:
			if lv == "none" {
				return "Not a target account"
			}
			return "Tier " + lv + " target account"
		case fieldRegion:
			if lv == unknownLevel {
				return "Region unknown"
			}
			return "Based in the " + words(lv) + " region"
		case fieldSeniority:
			switch lv {
			case SeniorityExecutive:
				return "Executive (CEO, VP, general manager)"
			case SeniorityDirector:
				return "Director or head of a function"
			case SeniorityManager:
				return "Manager-level title"
			case SeniorityIndividual:
				return "Individual contributor (specialist, engineer, analyst)"
			}
			return "Title unknown or unclear"
		case fieldEmail:
			switch lv {
			case EmailBusiness:
				return "Uses a company email address"
			case EmailFree:
				return "Uses a personal email address (QQ, 163, Gmail…)"
			}
			return "No email address"
		case fieldFirstChannel:
			if lv == unknownLevel {
				return "First touch unknown"
			}
			return "First came through " + channelWords(lv)
		}
	}
	return field
}

// words turns a stored key into words: financial_services → financial services.
func words(s string) string { return strings.ReplaceAll(s, "_", " ") }

// channelNames are the channels in words.
var channelNames = map[string]string{
	"paid_search": "paid search", "paid_social": "paid social ads", "display": "display ads",
	"organic_search": "organic search", "organic_social": "organic social media", "wechat": "WeChat",
	"wecom": "WeCom", "email": "email", "referral": "a referral", "direct": "a direct visit",
	"webinar": "a webinar", "offline_event": "an event", "content": "content", "employee_sharing": "an employee's shared link",
	"outbound": "outbound sales", "unknown": "an unknown channel",
}

func channelWords(ch string) string {
	if w, ok := channelNames[ch]; ok {
		return w
	}
	return words(ch)
}
