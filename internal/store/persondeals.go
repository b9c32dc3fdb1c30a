package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// PersonOpportunity is an opportunity a person is a contact of, with the
// person's role on it.
type PersonOpportunity struct {
	ID         int64
	ExternalID string
	Name       string
	AccountID  int64
	Account    string
	OwnerName  string
	Stage      string
	Amount     model.Money
	CreatedAt  time.Time
	ClosedAt   *time.Time
	Role       string
	Primary    bool
}

// PersonOpportunities lists the opportunities a person is a contact of,
// newest first.
func (s *Store) PersonOpportunities(ctx context.Context, personID int64) ([]PersonOpportunity, error) {
	return orEmpty(scanAll(ctx, s, s.r, `SELECT o.id, COALESCE(o.external_id, ''), o.name, o.account_id, COALESCE(ac.name, ''), COALESCE(u.name, u.email, ''),
		o.stage, o.amount_fen, o.created_at, o.closed_at, oc.role, oc.is_primary
		FROM opportunity_contacts oc JOIN opportunities o ON o.id = oc.opportunity_id LEFT JOIN accounts ac ON ac.id = o.account_id
		LEFT JOIN users u ON u.id = o.owner_id WHERE oc.person_id = ? ORDER BY o.created_at DESC, o.id DESC`, []any{personID},
		func(r rowScanner) (PersonOpportunity, error) {
			var o PersonOpportunity
			var closed sql.NullTime
			err := r.Scan(&o.ID, &o.ExternalID, &o.Name, &o.AccountID, &o.Account, &o.OwnerName, &o.Stage, &o.Amount, &o.CreatedAt, &closed, &o.Role, &o.Primary)
			o.CreatedAt, o.ClosedAt = o.CreatedAt.UTC(), nullTimePtr(closed)
			return o, err
		}))
}

// PersonOrder is an order on an opportunity a person is a contact of.
type PersonOrder struct {
	ID              int64
	ExternalID      string
	OpportunityID   int64
	OpportunityName string
	Kind            string
	Amount          model.Money
	OrderedAt       time.Time
}

// PersonOrders lists the orders on the opportunities a person is a
// contact of, newest first.
func (s *Store) PersonOrders(ctx context.Context, personID int64) ([]PersonOrder, error) {
	return orEmpty(scanAll(ctx, s, s.r, `SELECT r.id, COALESCE(r.external_id, ''), o.id, o.name, r.kind, r.amount_fen, r.ordered_at
		FROM opportunity_contacts oc JOIN orders r ON r.opportunity_id = oc.opportunity_id JOIN opportunities o ON o.id = r.opportunity_id
		WHERE oc.person_id = ? ORDER BY r.ordered_at DESC, r.id DESC`, []any{personID},
		func(r rowScanner) (PersonOrder, error) {
			var o PersonOrder
			err := r.Scan(&o.ID, &o.ExternalID, &o.OpportunityID, &o.OpportunityName, &o.Kind, &o.Amount, &o.OrderedAt)
			o.OrderedAt = o.OrderedAt.UTC()
			return o, err
		}))
}

// PersonCredit is what a person's touches earned in one conversion under
// one model: the shares of its credited touches summed, and that share of
// the conversion's value.
type PersonCredit struct {
	Kind         model.ConversionKind
	ConversionID int64 // the opportunity, order or stage change
	At           time.Time
	Value        model.Money // the conversion's value
	Share        float64     // 0..1: the person's touches' shares summed
	Touches      int         // the person's touches among the credited ones
	// Label names the conversion: the opportunity's name (opportunity,
	// won, order), empty for a stage entry.
	Label string
}

// Credited is the credited value: share × value, in fen (not rounded).
func (c PersonCredit) Credited() float64 { return c.Share * float64(c.Value) }

// PersonCredits lists the stored credits of a person's touches under the
// model stored in column (an index of CreditColumns), per conversion,
// newest first. A person's touches are credited only in the conversions
// the person takes part in: the opportunities they are a contact of (and
// those opportunities' wins and orders) and their own entries into MQL
// and SQL, which is where this looks, each along its key.
func (s *Store) PersonCredits(ctx context.Context, personID int64, column int) ([]PersonCredit, error) {
	if column < 0 || column >= NumCreditModels {
		return nil, fmt.Errorf("person credits: no model column %d", column)
	}
	col := "ac." + CreditColumns[column]
	type conv struct {
		kind  model.ConversionKind
		id    int64
		label string
	}
	var convs []conv
	err := s.each(ctx, `SELECT o.id, o.name, o.closed_at IS NOT NULL AND o.stage = 'closed_won' FROM opportunity_contacts oc
		JOIN opportunities o ON o.id = oc.opportunity_id WHERE oc.person_id = ?`, []any{personID}, func(r *sql.Rows) error {
		var id int64
		var name string
		var won bool
		if err := r.Scan(&id, &name, &won); err != nil {
			return err
		}
		convs = append(convs, conv{model.ConvOpportunity, id, name})
		if won {
			convs = append(convs, conv{model.ConvWon, id, name})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.each(ctx, `SELECT r.id, o.name FROM opportunity_contacts oc JOIN orders r ON r.opportunity_id = oc.opportunity_id
		JOIN opportunities o ON o.id = r.opportunity_id WHERE oc.person_id = ?`, []any{personID}, func(r *sql.Rows) error {
		var c conv
		c.kind = model.ConvOrder
		if err := r.Scan(&c.id, &c.label); err != nil {
			return err
		}
		convs = append(convs, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, kind := range []model.ConversionKind{model.ConvMQL, model.ConvSQL} {
		err = s.each(ctx, `SELECT conversion_id FROM attribution_conversions WHERE kind = ? AND person_id = ?`, []any{string(kind), personID},
			func(r *sql.Rows) error {
				c := conv{kind: kind}
				if err := r.Scan(&c.id); err != nil {
					return err
				}
				convs = append(convs, c)
				return nil
			})
		if err != nil {
			return nil, err
		}
	}
	out := []PersonCredit{}
	for _, c := range convs {
		pc := PersonCredit{Kind: c.kind, ConversionID: c.id, Label: c.label}
		var share sql.NullFloat64
		err := s.r.QueryRowContext(ctx, s.q(`SELECT cv.converted_at, cv.value_fen,
			(SELECT SUM(`+col+`) FROM attribution_credits ac WHERE ac.kind = cv.kind AND ac.conversion_id = cv.conversion_id
				AND ac.touch_id IN (SELECT t.id FROM touchpoints t WHERE t.person_id = ?)),
			(SELECT COUNT(*) FROM attribution_credits ac WHERE ac.kind = cv.kind AND ac.conversion_id = cv.conversion_id
				AND ac.touch_id IN (SELECT t.id FROM touchpoints t WHERE t.person_id = ?))
			FROM attribution_conversions cv WHERE cv.kind = ? AND cv.conversion_id = ?`), personID, personID, string(c.kind), c.id).
			Scan(&pc.At, &pc.Value, &share, &pc.Touches)
		if err == sql.ErrNoRows {
			continue // not credited yet
		}
		if err != nil {
			return nil, err
		}
		if pc.Touches == 0 {
			continue
		}
		pc.At, pc.Share = pc.At.UTC(), share.Float64
		out = append(out, pc)
	}
	sortCredits(out)
	return out, nil
}

// sortCredits orders credits newest first, then by kind and id.
func sortCredits(cs []PersonCredit) {
	slices.SortFunc(cs, func(a, b PersonCredit) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return cmp.Compare(a.ConversionID, b.ConversionID)
	})
}
