package model

import (
	"fmt"
	"strconv"
	"strings"
)

// Money is an exact amount in minor units (fen for CNY). It never passes
// through a float: it is stored as an integer and printed as a decimal.
type Money int64

// Yuan builds an amount from whole yuan.
func Yuan(y int64) Money { return Money(y * 100) }

// String prints the amount with two decimals, e.g. "1234.50".
func (m Money) String() string {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign = "-"
		v = -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// MarshalJSON writes the amount as a JSON number with two decimals.
func (m Money) MarshalJSON() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalJSON reads a JSON number (or a numeric string) with at most two decimals.
func (m *Money) UnmarshalJSON(b []byte) error {
	v, err := ParseMoney(strings.Trim(string(b), `"`))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// ParseMoney reads "1234", "1234.5" or "-1,234.56" exactly; more than two
// decimals is an error rather than a silent rounding.
func ParseMoney(s string) (Money, error) {
	orig := s
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if s == "" {
		return 0, fmt.Errorf("empty amount")
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && (!hasDot || frac == "") {
		return 0, fmt.Errorf("amount %q is not a number", orig)
	}
	if len(frac) > 2 {
		return 0, fmt.Errorf("amount %q has more than two decimals", orig)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	if whole == "" {
		whole = "0"
	}
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("amount %q is not a number", orig)
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<62)/100 {
		return 0, fmt.Errorf("amount %q is out of range", orig)
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	v := w*100 + f
	if neg {
		v = -v
	}
	return Money(v), nil
}
