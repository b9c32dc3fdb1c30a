package credits

import (
	"fmt"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// ConversionKinds lists every kind of conversion credits are kept for, in
// a stable order.
var ConversionKinds = []model.ConversionKind{model.ConvOpportunity, model.ConvWon, model.ConvOrder, model.ConvMQL, model.ConvSQL}

// ParseConversionKind accepts a kind as the API spells it.
func ParseConversionKind(s string) (model.ConversionKind, error) {
	k := model.ConversionKind(strings.ToLower(strings.TrimSpace(s)))
	for _, ok := range ConversionKinds {
		if k == ok {
			return k, nil
		}
	}
	names := make([]string, len(ConversionKinds))
	for i, k := range ConversionKinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown conversion %q (one of %s)", s, strings.Join(names, ", "))
}

// DefaultLookback is how far before a conversion touches count unless the
// caller says otherwise: B2B buying cycles are long. The stored credits
// are computed with it.
const DefaultLookback = 365 * 24 * time.Hour
