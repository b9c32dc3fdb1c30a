package links

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// ShareLink is an employee's own share link of a campaign (全员营销): a
// tracked link to the campaign's landing page that names them as
// promoter, with the defaults of Create (utm_medium=employee_sharing).
// Any user may have one per campaign; asking again returns the same link
// until it is revoked.
//
// It returns the user's newest live promoter link of the campaign without
// a card id, or creates one at now (created says which). A campaign that
// does not exist is store.ErrNotFound; an archived campaign, or one
// without a landing URL, an *InputError. Two requests at the same instant
// may both create a link: both are the user's, both count for them, and
// the next request returns the newer.
func ShareLink(ctx context.Context, st *store.Store, campaignID int64, u model.User, now time.Time) (l model.TrackedLink, created bool, err error) {
	c, err := st.CampaignByID(ctx, campaignID)
	if err != nil {
		return l, false, err
	}
	l, err = st.LiveShareLink(ctx, c.ID, u.ID)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return l, false, err
	}
	if c.ArchivedAt != nil {
		return l, false, &InputError{Msg: "campaign " + c.Code + " is archived: restore it before sharing it"}
	}
	l, err = Create(ctx, st, Request{Campaign: c.Code, Promoter: strconv.FormatInt(u.ID, 10)}, now)
	return l, err == nil, err
}
