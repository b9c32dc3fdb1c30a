package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/identity"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The CRM's input rules: what an opportunity or an order sent by a CRM
// must hold, how its references (account, contacts, owner, opportunity)
// are found, and which times it keeps. The API parses JSON into the
// requests below and answers an *InputError with 400.

// InputError is CRM input the caller must fix; its text says what.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErr(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// MaxContacts bounds an opportunity's contacts in one request.
const MaxContacts = 200

// OpportunityRequest is an opportunity as a CRM sends it.
type OpportunityRequest struct {
	ExternalID       string          `json:"external_id"`
	AccountID        int64           `json:"account_id"`
	AccountDomain    string          `json:"account_domain"`
	Name             string          `json:"name"`
	Amount           json.RawMessage `json:"amount"`
	Stage            string          `json:"stage"`
	OwnerEmail       string          `json:"owner_email"`
	ContactPersonIDs []int64         `json:"contact_person_ids"`
	ContactEmails    []string        `json:"contact_emails"`
	CreatedAt        string          `json:"created_at"`
	ClosedAt         string          `json:"closed_at"`
}

// OpportunityInput checks a request and resolves its references into the
// store's upsert, whose Complete fills in the times the CRM left out
// (completeOpportunityDates) when the stored opportunity is at hand.
func OpportunityInput(ctx context.Context, s *store.Store, req OpportunityRequest, now time.Time) (store.OpportunityUpsert, error) {
	var in store.OpportunityUpsert
	var err error
	if in.ExternalID, err = externalID("external_id", req.ExternalID); err != nil {
		return in, err
	}
	if in.Name = model.CleanText(req.Name); in.Name == "" || len(in.Name) > 500 {
		return in, inputErr("name: want 1 to 500 bytes")
	}
	if in.Amount, err = ParseAmount(req.Amount); err != nil {
		return in, inputErr("amount: %v", err)
	}
	if strings.TrimSpace(req.Stage) == "" {
		return in, inputErr("stage: missing; e.g. qualification, proposal, negotiation, closed_won, closed_lost")
	}
	if in.Stage, err = NormaliseOpportunityStage(req.Stage); err != nil {
		return in, inputErr("stage: %v", err)
	}
	if in.AccountID, err = resolveAccount(ctx, s, req.AccountID, req.AccountDomain); err != nil {
		return in, err
	}
	if in.AccountID == 0 {
		return in, inputErr("account_id or account_domain: missing; an opportunity belongs to an account")
	}
	if e := strings.TrimSpace(req.OwnerEmail); e != "" {
		u, err := s.UserByEmail(ctx, e)
		if errors.Is(err, store.ErrNotFound) {
			return in, inputErr("owner_email: no user %q", clipText(e))
		}
		if err != nil {
			return in, err
		}
		in.OwnerID = u.ID
	}
	if in.ContactIDs, err = resolveContacts(ctx, s, req.ContactPersonIDs, req.ContactEmails); err != nil {
		return in, err
	}
	now = now.UTC()
	cal, err := s.Calendar(ctx)
	if err != nil {
		return in, err
	}
	created, err := CRMTime(cal, "created_at", req.CreatedAt)
	if err != nil {
		return in, err
	}
	closed, err := CRMTime(cal, "closed_at", req.ClosedAt)
	if err != nil {
		return in, err
	}
	in.Complete = func(in *store.OpportunityUpsert, stored *model.Opportunity) error {
		completeOpportunityDates(in, stored, created, closed, now)
		return closeOpportunity(in.Stage, &in.ClosedAt, in.CreatedAt, now)
	}
	return in, nil
}

// OpportunityPatch changes an opportunity's stage, amount or closing time
// (nil: unchanged).
type OpportunityPatch struct {
	Stage    *string         `json:"stage"`
	Amount   json.RawMessage `json:"amount"`
	ClosedAt *string         `json:"closed_at"`
}

// PatchOpportunity applies a patch and moves the contacts as the new stage
// says (winning moves them to customer). An unknown opportunity is
// store.ErrNotFound.
func PatchOpportunity(ctx context.Context, s *store.Store, id int64, p OpportunityPatch, now time.Time) (store.OpportunityWrite, error) {
	if p.Stage == nil && p.Amount == nil && p.ClosedAt == nil {
		return store.OpportunityWrite{}, inputErr(`give at least one of "stage", "amount", "closed_at"`)
	}
	var stage string
	var amount model.Money
	var closedAt *time.Time
	var err error
	if p.Stage != nil {
		if stage, err = NormaliseOpportunityStage(*p.Stage); err != nil {
			return store.OpportunityWrite{}, inputErr("stage: %v", err)
		}
	}
	if p.Amount != nil {
		if amount, err = ParseAmount(p.Amount); err != nil {
			return store.OpportunityWrite{}, inputErr("amount: %v", err)
		}
	}
	if p.ClosedAt != nil {
		cal, err := s.Calendar(ctx)
		if err != nil {
			return store.OpportunityWrite{}, err
		}
		if closedAt, err = CRMTime(cal, "closed_at", *p.ClosedAt); err != nil {
			return store.OpportunityWrite{}, err
		}
	}
	now = now.UTC()
	return s.UpdateOpportunity(ctx, id, func(o *model.Opportunity) error {
		if p.Stage != nil {
			if stage != o.Stage && !Closed(stage) {
				o.ClosedAt = nil // reopened
			}
			if stage != o.Stage && Closed(stage) && closedAt == nil {
				o.ClosedAt = nil // closes now, unless a time is given
			}
			o.Stage = stage
		}
		if p.Amount != nil {
			o.Amount = amount
		}
		if closedAt != nil {
			o.ClosedAt = closedAt
		}
		return closeOpportunity(o.Stage, &o.ClosedAt, o.CreatedAt, now)
	}, ContactMoves(now))
}

// OrderRequest is an order as a CRM sends it.
type OrderRequest struct {
	ExternalID            string          `json:"external_id"`
	OpportunityID         int64           `json:"opportunity_id"`
	OpportunityExternalID string          `json:"opportunity_external_id"`
	AccountID             int64           `json:"account_id"`
	AccountDomain         string          `json:"account_domain"`
	Amount                json.RawMessage `json:"amount"`
	Kind                  string          `json:"kind"`
	OrderedAt             string          `json:"ordered_at"`
}

// OrderInput checks an order and resolves its opportunity and account: an
// order of an opportunity belongs to the opportunity's account.
func OrderInput(ctx context.Context, s *store.Store, req OrderRequest) (store.OrderUpsert, error) {
	var in store.OrderUpsert
	var err error
	if in.ExternalID, err = externalID("external_id", req.ExternalID); err != nil {
		return in, err
	}
	if in.Amount, err = ParseAmount(req.Amount); err != nil {
		return in, inputErr("amount: %v", err)
	}
	if in.Kind = strings.ToLower(strings.TrimSpace(req.Kind)); in.Kind == "" {
		in.Kind = "new"
	}
	if !slices.Contains(model.OrderKinds, in.Kind) {
		return in, inputErr("kind %q: want new, renewal or upsell", clipText(req.Kind))
	}
	cal, err := s.Calendar(ctx)
	if err != nil {
		return in, err
	}
	at, err := CRMTime(cal, "ordered_at", req.OrderedAt)
	if err != nil {
		return in, err
	}
	if at == nil {
		return in, inputErr("ordered_at: missing; when the order was placed (RFC 3339 or YYYY-MM-DD)")
	}
	in.OrderedAt = *at
	switch {
	case req.OpportunityID != 0 && req.OpportunityExternalID != "":
		return in, inputErr("give opportunity_id or opportunity_external_id, not both")
	case req.OpportunityID < 0:
		return in, inputErr("opportunity_id: want a positive number")
	case req.OpportunityID > 0:
		in.OpportunityID = req.OpportunityID
	case strings.TrimSpace(req.OpportunityExternalID) != "":
		id, err := s.OpportunityIDByExternal(ctx, strings.TrimSpace(req.OpportunityExternalID))
		if errors.Is(err, store.ErrNotFound) {
			return in, inputErr("opportunity_external_id: no opportunity %q; post the opportunity first", clipText(req.OpportunityExternalID))
		}
		if err != nil {
			return in, err
		}
		in.OpportunityID = id
	}
	if in.AccountID, err = resolveAccount(ctx, s, req.AccountID, req.AccountDomain); err != nil {
		return in, err
	}
	if in.OpportunityID != 0 {
		o, err := s.Opportunity(ctx, in.OpportunityID)
		if errors.Is(err, store.ErrNotFound) {
			return in, inputErr("opportunity_id: no opportunity %d", in.OpportunityID)
		}
		if err != nil {
			return in, err
		}
		if in.AccountID != 0 && in.AccountID != o.AccountID {
			return in, inputErr("account: the order's account %d is not the opportunity's (%d)", in.AccountID, o.AccountID)
		}
		in.AccountID = o.AccountID
	}
	if in.AccountID == 0 {
		return in, inputErr("account_id or account_domain: missing; an order without an opportunity needs its account")
	}
	return in, nil
}

// CRMTime reads an optional RFC 3339 time or YYYY-MM-DD of a CRM field. A
// date alone is the end of that day in the team's time zone: a deal
// "closed on 3 November" credits every touch of 3 November, whatever hour
// it came.
func CRMTime(cal model.Calendar, field, v string) (*time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse("2006-01-02", v)
	if err == nil {
		t = cal.EndOfDay(t).UTC()
	} else if t, err = time.Parse(time.RFC3339, v); err != nil {
		return nil, inputErr("%s: %q is not a date: use YYYY-MM-DD (a day in the team's time zone) or an RFC 3339 time such as 2026-01-31T08:00:00+08:00", field, clipText(v))
	}
	if t.Year() < 1990 || t.Year() > 2200 {
		return nil, inputErr("%s: %s is out of range (years 1990 to 2200)", field, v)
	}
	return &t, nil
}

func externalID(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", inputErr("%s: missing; it identifies the record in your CRM, so that sending it again updates it", field)
	}
	if len(v) > 200 {
		return "", inputErr("%s: at most 200 bytes", field)
	}
	return v, nil
}

func resolveAccount(ctx context.Context, s *store.Store, id int64, domain string) (int64, error) {
	switch {
	case id != 0 && domain != "":
		return 0, inputErr("give account_id or account_domain, not both")
	case id < 0:
		return 0, inputErr("account_id: want a positive number")
	case id > 0:
		ok, err := s.AccountExists(ctx, id)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, inputErr("account_id: no account %d", id)
		}
		return id, nil
	case strings.TrimSpace(domain) != "":
		got, err := s.AccountIDByDomain(ctx, domain)
		if errors.Is(err, store.ErrNotFound) {
			return 0, inputErr("account_domain: no account has the domain %q", clipText(domain))
		}
		return got, err
	}
	return 0, nil
}

func resolveContacts(ctx context.Context, s *store.Store, ids []int64, emails []string) ([]int64, error) {
	if ids == nil && emails == nil {
		return nil, nil
	}
	if len(ids)+len(emails) > MaxContacts {
		return nil, inputErr("at most %d contacts", MaxContacts)
	}
	out := []int64{}
	for _, id := range ids {
		if id <= 0 {
			return nil, inputErr("contact_person_ids: %d is not a person id", id)
		}
		out = append(out, id)
	}
	region, err := identity.PhoneRegion(ctx, s)
	if err != nil {
		return nil, err
	}
	norm := identity.Normaliser{PhoneRegion: region}
	for _, e := range emails {
		v, err := norm.Normalise(model.IdentityEmail, e)
		if err != nil {
			return nil, inputErr("contact_emails: %q: %v", clipText(e), err)
		}
		id, err := s.PersonIDByEmail(ctx, v)
		if errors.Is(err, store.ErrNotFound) {
			return nil, inputErr("contact_emails: no person has the email %s", v)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// completeOpportunityDates fills in the times a CRM left out. An update
// keeps the stored created_at, and the stored closed_at while the
// opportunity stays in the same closed stage: resending an opportunity
// without its dates must not move its pipeline or revenue into the
// current period. A new opportunity is created now; one that closes
// without a closed_at closes now (closeOpportunity).
func completeOpportunityDates(in *store.OpportunityUpsert, stored *model.Opportunity, created, closed *time.Time, now time.Time) {
	switch {
	case created != nil:
		in.CreatedAt = *created
	case stored != nil:
		in.CreatedAt = stored.CreatedAt
	default:
		in.CreatedAt = now
	}
	in.ClosedAt = closed
	if closed == nil && stored != nil && stored.ClosedAt != nil && stored.Stage == in.Stage && Closed(in.Stage) {
		at := *stored.ClosedAt
		in.ClosedAt = &at
	}
}

// closeOpportunity keeps closed_at consistent with the stage: a closed
// opportunity without one closes now, an open one has none.
func closeOpportunity(stage string, closedAt **time.Time, createdAt, now time.Time) error {
	switch {
	case !Closed(stage) && *closedAt != nil:
		return inputErr("closed_at: given, but stage %s is open; send a closed stage (closed_won, closed_lost) or no closed_at", stage)
	case !Closed(stage):
		return nil
	case *closedAt == nil:
		*closedAt = &now
	}
	if (*closedAt).Before(createdAt) {
		return inputErr("closed_at: %s is before the opportunity was created (%s)", (*closedAt).UTC().Format(time.RFC3339), createdAt.UTC().Format(time.RFC3339))
	}
	return nil
}
