package channel

import (
	"fmt"
	"time"
)

// Saved is a rule set as it was saved: its JSON, its version, and who
// saved it when.
type Saved struct {
	JSON    []byte
	Version int64
	At      time.Time
	By      string
}

// Load returns the rules in force: the saved ones, stamped with who saved
// them when, or the defaults when none were ever saved (saved is nil).
// Saved rules that no longer parse are an error naming their version, not
// a silent fall back to the defaults.
func Load(saved *Saved) (*RuleSet, error) {
	if saved == nil {
		return DefaultRules(), nil
	}
	rs, err := ParseRules(saved.JSON)
	if err != nil {
		return nil, fmt.Errorf("stored channel rules version %d: %w", saved.Version, err)
	}
	at := saved.At
	rs.UpdatedAt, rs.UpdatedBy = &at, saved.By
	return rs, nil
}
