package links

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Request is what creating a tracked link takes (API body and CLI).
type Request struct {
	Campaign   string `json:"campaign"`   // campaign code (required)
	URL        string `json:"url"`        // landing URL; the campaign's landing URL when empty
	Promoter   string `json:"promoter"`   // email or id of the employee sharing the link
	CardID     string `json:"card_id"`    // sales rep's business-card id
	UTMSource  string `json:"utm_source"` // defaults: see Create
	UTMMedium  string `json:"utm_medium"`
	UTMCamp    string `json:"utm_campaign"`
	UTMTerm    string `json:"utm_term"`
	UTMContent string `json:"utm_content"`
}

// InputError is a request that cannot make a link; its text says why.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Create validates a request and stores a tracked link created at now. UTM defaults:
// utm_campaign is the campaign code; a link with a promoter is
// utm_medium=employee_sharing, utm_source=revloop_link otherwise
// utm_medium=tracked_link; a link with a card id, utm_content=card-ID.
func Create(ctx context.Context, st *store.Store, req Request, now time.Time) (model.TrackedLink, error) {
	bad := func(format string, args ...any) error { return &InputError{Msg: fmt.Sprintf(format, args...)} }
	code := strings.TrimSpace(req.Campaign)
	if code == "" {
		return model.TrackedLink{}, bad("campaign is required (a campaign code)")
	}
	c, err := st.LinkCampaignByCode(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return model.TrackedLink{}, bad("campaign %q does not exist", clipText(code, 100))
	}
	if err != nil {
		return model.TrackedLink{}, err
	}
	target := strings.TrimSpace(req.URL)
	if target == "" {
		target = c.LandingURL
	}
	if target == "" {
		return model.TrackedLink{}, bad("url is required: campaign %s has no landing URL", c.Code)
	}
	u, err := ParseTarget(target)
	if err != nil {
		return model.TrackedLink{}, bad("%v", err)
	}
	l := model.TrackedLink{CampaignID: c.ID, CampaignCode: c.Code, TargetURL: u.String(), CardID: model.CleanText(req.CardID),
		UTMSource: model.CleanText(req.UTMSource), UTMMedium: model.CleanText(req.UTMMedium), UTMCampaign: model.CleanText(req.UTMCamp),
		UTMTerm: model.CleanText(req.UTMTerm), UTMContent: model.CleanText(req.UTMContent), CreatedAt: now}
	if len(l.CardID) > 100 {
		return l, bad("card_id is longer than 100 bytes")
	}
	if p := strings.TrimSpace(req.Promoter); p != "" {
		var u model.User
		if id, perr := strconv.ParseInt(p, 10, 64); perr == nil {
			u, err = st.UserByID(ctx, id)
		} else {
			u, err = st.UserByEmail(ctx, strings.ToLower(p))
		}
		if errors.Is(err, store.ErrNotFound) {
			return l, bad("promoter %q is not a user: create the user first (revloop user create)", clipText(p, 100))
		}
		if err != nil {
			return l, err
		}
		l.PromoterID, l.PromoterEmail = u.ID, u.Email
	}
	if l.UTMCampaign == "" {
		l.UTMCampaign = c.Code
	}
	if l.UTMSource == "" {
		l.UTMSource = "revloop_link"
	}
	if l.UTMMedium == "" {
		l.UTMMedium = "tracked_link"
		if l.PromoterID != 0 {
			l.UTMMedium = "employee_sharing"
		}
	}
	if l.UTMContent == "" && l.CardID != "" {
		l.UTMContent = "card-" + l.CardID
	}
	if err := (UTM{Source: l.UTMSource, Medium: l.UTMMedium, Campaign: l.UTMCampaign, Term: l.UTMTerm, Content: l.UTMContent}).Check(); err != nil {
		return l, bad("%v", err)
	}
	for range 5 {
		l.Code = NewCode()
		l.ID, err = st.CreateTrackedLink(ctx, l)
		if !errors.Is(err, store.ErrDuplicate) {
			break
		}
	}
	return l, err
}

// clipText shortens a value quoted in an error message.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
