package lifecycle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// plainAmount is a CNY amount as a CRM should send it: digits, optionally
// one to two decimals. No sign, exponent, grouping or spaces. Compiled on
// first use, like the patterns below.
var plainAmount = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{1,15}(\.[0-9]{1,2})?$`) })

// MaxAmount is the largest amount of one opportunity or order: ¥10
// billion. Larger ones are typing errors or tests, and would make totals
// meaningless (store.MaxTotal is reached by some nine thousand of them,
// not by 95).
const MaxAmount = model.Money(10_000_000_000 * 100)

// Compiled on first use: its counted repetition makes it costly to compile,
// and most commands never need it.
var exponent = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9.]{1,40}[eE][+-]?[0-9]{1,5}$`) })

// ParseAmount reads a CNY amount sent as a JSON string ("120000.00") or a
// JSON number (120000.5) into fen, exactly. Negative amounts, more than two
// decimals (a float that would lose precision), exponents, NaN and Infinity
// are errors, and so is an amount above MaxAmount.
func ParseAmount(raw json.RawMessage) (model.Money, error) {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || string(b) == "null" {
		return 0, errors.New(`missing: send a decimal string such as "120000.00"`)
	}
	var text string
	if b[0] == '"' {
		if err := json.Unmarshal(b, &text); err != nil {
			return 0, fmt.Errorf("not a JSON string: %v", err)
		}
	} else {
		text = string(b)
	}
	shown := clipText(text)
	t := strings.TrimSpace(text)
	lower := strings.ToLower(t)
	switch {
	case t == "":
		return 0, errors.New(`empty: send a decimal string such as "120000.00"`)
	case strings.HasPrefix(t, "-"):
		return 0, fmt.Errorf("%q is negative; amounts are zero or more", shown)
	case strings.Contains(lower, "nan") || strings.Contains(lower, "inf"):
		return 0, fmt.Errorf("%q is not a number", shown)
	case exponent().MatchString(t):
		return 0, fmt.Errorf("%q uses an exponent; write the amount as a plain decimal such as \"120000.00\"", shown)
	}
	if !plainAmount().MatchString(t) {
		if whole, frac, ok := strings.Cut(t, "."); ok && len(frac) > 2 && plainAmount().MatchString(whole) && isDigits(frac) {
			return 0, fmt.Errorf("%q has more than two decimals; fen is the smallest unit and the amount would lose precision", shown)
		}
		return 0, fmt.Errorf("%q is not a decimal amount such as \"120000.00\" (at most 15 digits before the point, two after)", shown)
	}
	whole, frac, _ := strings.Cut(t, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range", shown)
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	m := model.Money(w*100 + f)
	if m > MaxAmount {
		return 0, fmt.Errorf("%q is above the limit of %s (¥10 billion) for one opportunity or order", shown, MaxAmount)
	}
	return m, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Compiled on first use: its counted repetition makes it costly to compile,
// and most commands never need it.
var oppStage = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_ -]{0,49}$`) })

// NormaliseOpportunityStage lower-cases a CRM stage name and checks it:
// closed_won and closed_lost close an opportunity, anything else is open.
func NormaliseOpportunityStage(s string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	switch v {
	case "won", "closed won", "closed-won":
		v = model.OppStageClosedWon
	case "lost", "closed lost", "closed-lost":
		v = model.OppStageClosedLost
	}
	if !oppStage().MatchString(v) {
		return "", fmt.Errorf("%q: want a stage name of letters, digits, '_', '-' or spaces (at most 50), e.g. qualification, proposal, negotiation, closed_won, closed_lost", clipText(s))
	}
	return v, nil
}

// Closed reports whether an opportunity stage is closed.
func Closed(stage string) bool {
	return stage == model.OppStageClosedWon || stage == model.OppStageClosedLost
}

// ContactMoves plans the automatic forward moves of an opportunity's
// contacts: an opportunity, open or not, moves them to opportunity; a won
// one on to customer. Moves go forward only (a contact in nurture or
// disqualified, or already further, stays); the actor is "system" and the
// reason names the opportunity. Moves are dated when the opportunity was
// created and won, but never before the contact's current stage began nor
// after now.
func ContactMoves(now time.Time) store.ContactMoves { return contactMoves(now, "", time.Time{}) }

// OrderContactMoves plans the moves of an order's opportunity's contacts:
// an order is revenue won, so they move on to customer (forward only, as
// ContactMoves), with the order named in the reason, dated when the
// opportunity closed or else when the order was placed.
func OrderContactMoves(now time.Time, order string, orderedAt time.Time) store.ContactMoves {
	return contactMoves(now, "order "+clipText(order), orderedAt)
}

func contactMoves(now time.Time, order string, orderedAt time.Time) store.ContactMoves {
	return func(o model.OpportunityRecord, created bool) []model.StageMove {
		var out []model.StageMove
		target := model.StageOpportunity
		if o.Stage == model.OppStageClosedWon || order != "" {
			target = model.StageCustomer
		}
		label := fmt.Sprintf("opportunity %q (#%d", clipText(o.Name), o.ID)
		if o.ExternalID != "" {
			label += ", CRM " + clipText(o.ExternalID)
		}
		label += ")"
		for _, c := range o.Contacts {
			from := c.Stage
			since := c.StageAt
			for _, step := range []model.Stage{model.StageOpportunity, model.StageCustomer} {
				if step.Rank() > target.Rank() || !Forward(from, step) {
					continue
				}
				at, reason := o.CreatedAt, label+" created"
				if step == model.StageCustomer {
					at, reason = now, label+" won"
					if o.ClosedAt != nil {
						at = *o.ClosedAt
					}
					if order != "" {
						reason = label + " won: " + order
						if o.ClosedAt == nil {
							at = orderedAt
						}
					}
				}
				if at.After(now) {
					at = now
				}
				if since != nil && at.Before(*since) {
					at = *since
				}
				if Check(from, step, reason, ActorSystem) != nil {
					continue
				}
				out = append(out, model.StageMove{PersonID: c.PersonID, From: from, To: step, At: at, Reason: reason, Actor: ActorSystem})
				from, since = step, &at
			}
		}
		return out
	}
}
