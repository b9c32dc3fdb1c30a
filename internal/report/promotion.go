package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The employee promotion (全员营销) leaderboard: for each employee and
// each team, the links they shared, the visits and visitors their shares
// brought, the leads whose first touch was theirs and how many of those
// became MQLs, and the pipeline and revenue the chosen model credits their
// touches with. A promoter touch is a touch that names the employee as its
// promoter: a click on their share link always does. The words are
// defined in docs/metrics.md ("Employee promotion").

// Grouping of the leaderboard's rows.
const (
	ByEmployee = "employee"
	ByTeam     = "team"
)

// PromotionQuery selects the leaderboard.
type PromotionQuery struct {
	Period     model.Period // team days, both included
	Model      string       // a stored attribution model (credits.Models)
	CampaignID int64        // 0: every campaign
}

// PromotionFigures are an employee's figures, a team's or all of them.
type PromotionFigures struct {
	// Links are the promoter links created in the range.
	Links int64 `json:"links"`
	// Visits are the promoter touches in the range; Visitors the distinct
	// persons who made them (they do not add up across employees).
	Visits   int64 `json:"visits"`
	Visitors int64 `json:"visitors"`
	// Leads became leads in the range with a promoter touch as their first
	// touch; MQLs are those of them who have reached MQL by now.
	Leads int64 `json:"leads"`
	MQLs  int64 `json:"mqls"`
	// Credited pipeline and won revenue: what the model credits the
	// promoter touches with, of the opportunities created and the deals
	// won in the range, to the fen.
	CreditedPipeline model.Money `json:"credited_pipeline"`
	CreditedRevenue  model.Money `json:"credited_revenue"`
}

// PromoterRow is one employee on the leaderboard.
type PromoterRow struct {
	Rank     int        `json:"rank"`
	UserID   int64      `json:"user_id"`
	Email    string     `json:"email"`
	Name     string     `json:"name"`
	Team     string     `json:"team"` // "" for none
	Role     model.Role `json:"role"`
	Disabled bool       `json:"disabled,omitempty"`
	PromotionFigures
}

// TeamRow is one team on the leaderboard: its employees' figures summed,
// visitors counted once per team.
type TeamRow struct {
	Rank      int    `json:"rank"`
	Team      string `json:"team"` // "" for the employees of no team
	Employees int    `json:"employees"`
	// Sharing are the employees with a link or a visit in the range.
	Sharing int `json:"sharing"`
	PromotionFigures
}

// PromotionCampaign is the campaign the leaderboard is narrowed to.
type PromotionCampaign struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

// Promotion is the leaderboard.
type Promotion struct {
	From      string             `json:"from"`
	To        string             `json:"to"`
	Model     string             `json:"model"`
	Currency  string             `json:"currency"`
	Campaign  *PromotionCampaign `json:"campaign"`
	Employees []PromoterRow      `json:"employees"`
	Teams     []TeamRow          `json:"teams"`
	// Total: every employee's figures summed, visitors counted once.
	Total PromotionFigures `json:"total"`
}

// Promotion computes the leaderboard. It lists every enabled user, and a
// disabled one with a figure in the range, ranked by leads, then credited
// pipeline, then visits; teams likewise.
func (r Reporter) Promotion(ctx context.Context, q PromotionQuery) (Promotion, error) {
	out := Promotion{From: calendarDay(q.Period.From), To: calendarDay(q.Period.To), Model: q.Model, Currency: "CNY",
		Employees: []PromoterRow{}, Teams: []TeamRow{}}
	col, ok := credits.Column(attribution.Model(q.Model))
	if !ok {
		return out, fmt.Errorf("attribution model %q is not stored", q.Model)
	}
	if q.CampaignID > 0 {
		c, err := r.Store.CampaignByID(ctx, q.CampaignID)
		if err != nil {
			return out, fmt.Errorf("promotion: campaign %d: %w", q.CampaignID, err)
		}
		out.Campaign = &PromotionCampaign{ID: c.ID, Code: c.Code, Name: c.Name}
	}
	users, err := r.Store.Employees(ctx)
	if err != nil {
		return out, fmt.Errorf("promotion: users: %w", err)
	}
	team := map[int64]string{}
	for _, u := range users {
		team[u.ID] = u.Team
	}
	key := promotionKey{Window: q.Period.Window(), Column: col, CampaignID: q.CampaignID, Teams: team}
	pf, err := kept(ctx, r, factsPromotion, key, r.promotionFacts)
	if err != nil {
		return out, err
	}
	links, err := r.Store.PromoterLinksCreated(ctx, key.Window, q.CampaignID)
	if err != nil {
		return out, fmt.Errorf("promotion: links: %w", err)
	}
	by := pf.Promoters
	if by == nil {
		by = map[int64]*promoterFacts{}
	}
	for id, n := range links {
		if by[id] == nil {
			by[id] = &promoterFacts{}
		}
		by[id].Links = n
	}
	teamVisitors, allVisitors := pf.TeamVisitors, pf.Visitors

	teams := map[string]*TeamRow{}
	for _, u := range users {
		f := by[u.ID]
		if f == nil {
			f = &promoterFacts{}
		}
		row := PromoterRow{UserID: u.ID, Email: u.Email, Name: u.Name, Team: u.Team, Role: u.Role, Disabled: u.Disabled, PromotionFigures: f.PromotionFigures}
		row.CreditedPipeline, row.CreditedRevenue = roundedFen(f.Pipe), roundedFen(f.Revenue)
		if u.Disabled && row.PromotionFigures == (PromotionFigures{}) {
			continue
		}
		out.Employees = append(out.Employees, row)
		t := teams[u.Team]
		if t == nil {
			t = &TeamRow{Team: u.Team, PromotionFigures: PromotionFigures{Visitors: teamVisitors[u.Team]}}
			teams[u.Team] = t
		}
		t.Employees++
		if row.Links > 0 || row.Visits > 0 {
			t.Sharing++
		}
		addPromotion(&t.PromotionFigures, row.PromotionFigures)
		addPromotion(&out.Total, row.PromotionFigures)
	}
	out.Total.Visitors = allVisitors
	for _, t := range teams {
		out.Teams = append(out.Teams, *t)
	}
	slices.SortStableFunc(out.Employees, func(a, b PromoterRow) int {
		return cmp.Or(comparePromotion(a.PromotionFigures, b.PromotionFigures), cmp.Compare(a.UserID, b.UserID))
	})
	slices.SortStableFunc(out.Teams, func(a, b TeamRow) int {
		return cmp.Or(comparePromotion(a.PromotionFigures, b.PromotionFigures), cmp.Compare(a.Team, b.Team))
	})
	for i := range out.Employees {
		out.Employees[i].Rank = i + 1
		if i > 0 && comparePromotion(out.Employees[i-1].PromotionFigures, out.Employees[i].PromotionFigures) == 0 {
			out.Employees[i].Rank = out.Employees[i-1].Rank
		}
	}
	for i := range out.Teams {
		out.Teams[i].Rank = i + 1
		if i > 0 && comparePromotion(out.Teams[i-1].PromotionFigures, out.Teams[i].PromotionFigures) == 0 {
			out.Teams[i].Rank = out.Teams[i-1].Rank
		}
	}
	return out, nil
}

// The kept facts of the leaderboard (facts.go).
const factsPromotion = "promotion"

func init() {
	registerFacts(factsPromotion, func(r Reporter) func(context.Context, promotionKey) (promotionFacts, error) { return r.promotionFacts })
}

// promotionKey is what the leaderboard's touch facts depend on besides
// the facts themselves: the window, the model's column, the campaign and
// each user's team (visitors are counted once per team).
type promotionKey struct {
	Window     model.Window     `json:"window"`
	Column     int              `json:"column"`
	CampaignID int64            `json:"campaign_id"`
	Teams      map[int64]string `json:"teams"`
}

// promoterFacts are an employee's figures before rounding: their credits
// in fen as summed.
type promoterFacts struct {
	PromotionFigures
	Pipe    float64 `json:"pipe"`
	Revenue float64 `json:"revenue"`
}

// promotionFacts are the leaderboard's sums of touches, leads and
// credits: per promoter, and the distinct visitors per team and in all.
type promotionFacts struct {
	Promoters    map[int64]*promoterFacts `json:"promoters"`
	TeamVisitors map[string]int64         `json:"team_visitors"`
	Visitors     int64                    `json:"visitors"`
}

// promotionFacts reads the leaderboard's facts of the touches, leads and
// credits (links are counted apart, always afresh).
func (r Reporter) promotionFacts(ctx context.Context, k promotionKey) (promotionFacts, error) {
	out := promotionFacts{Promoters: map[int64]*promoterFacts{}, TeamVisitors: map[string]int64{}}
	of := func(id int64) *promoterFacts {
		if out.Promoters[id] == nil {
			out.Promoters[id] = &promoterFacts{}
		}
		return out.Promoters[id]
	}
	w := k.Window
	// Visitors per employee, per team and in all: the distinct persons of
	// the pairs.
	teamVisitors := map[string]map[int64]bool{}
	allVisitors := map[int64]bool{}
	err := r.Store.PromoterVisits(ctx, w, k.CampaignID, func(v store.PromoterVisit) error {
		f := of(v.Promoter)
		f.Visits += v.Touches
		if v.Person == 0 {
			return nil
		}
		f.Visitors++
		t := k.Teams[v.Promoter]
		if teamVisitors[t] == nil {
			teamVisitors[t] = map[int64]bool{}
		}
		teamVisitors[t][v.Person] = true
		allVisitors[v.Person] = true
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("promotion: visits: %w", err)
	}
	for t, m := range teamVisitors {
		out.TeamVisitors[t] = int64(len(m))
	}
	out.Visitors = int64(len(allVisitors))
	err = r.Store.PromoterLeads(ctx, w, k.CampaignID, func(l store.PromoterLead) error {
		f := of(l.Promoter)
		f.Leads++
		if l.MQL {
			f.MQLs++
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("promotion: leads: %w", err)
	}
	for _, c := range []struct {
		kind model.ConversionKind
		dst  func(*promoterFacts) *float64
	}{{model.ConvOpportunity, func(f *promoterFacts) *float64 { return &f.Pipe }}, {model.ConvWon, func(f *promoterFacts) *float64 { return &f.Revenue }}} {
		fen, err := r.Store.PromoterCredits(ctx, c.kind, k.Column, w, k.CampaignID)
		if err != nil {
			return out, fmt.Errorf("promotion: %s credits: %w", c.kind, err)
		}
		for id, v := range fen {
			*c.dst(of(id)) += v
		}
	}
	return out, nil
}

// comparePromotion orders the leaderboard: more leads first, then more
// credited pipeline, then more visits. Equal figures share a rank.
func comparePromotion(a, b PromotionFigures) int {
	return cmp.Or(cmp.Compare(b.Leads, a.Leads), cmp.Compare(b.CreditedPipeline, a.CreditedPipeline), cmp.Compare(b.Visits, a.Visits))
}

// addPromotion adds an employee's figures into a team's or the total;
// visitors are left out (they are counted once per team and in all).
func addPromotion(t *PromotionFigures, f PromotionFigures) {
	t.Links += f.Links
	t.Visits += f.Visits
	t.Leads += f.Leads
	t.MQLs += f.MQLs
	t.CreditedPipeline = store.AddTotal(t.CreditedPipeline, f.CreditedPipeline)
	t.CreditedRevenue = store.AddTotal(t.CreditedRevenue, f.CreditedRevenue)
}
