package store

import "github.com/revloop/revloop/internal/model"

// MaxTotal is the largest total of amounts the store reports: 2^53 fen
// (about ¥90 trillion). Below it every sum is exact on both engines; a
// sum that reaches it is reported as MaxTotal (saturated) instead of
// overflowing, and reports show such a figure as unavailable. Single
// amounts are bounded far lower at input (lifecycle.MaxAmount), so only
// data written around those checks gets here.
const MaxTotal model.Money = 1 << 53

// Saturated reports whether a total reached MaxTotal, so that it is not
// the true sum.
func Saturated(m model.Money) bool { return m >= MaxTotal || m < 0 }

// sumFen is an aggregate over an integer fen expression that cannot
// overflow on either engine and is clamped to MaxTotal: PostgreSQL sums
// bigint into numeric (exact, any size); SQLite's SUM raises "integer
// overflow", so it uses TOTAL, a float sum that is exact below 2^53.
// It is never NULL.
func (s *Store) sumFen(expr string) string {
	if s.dialect == Postgres {
		return "CAST(LEAST(COALESCE(SUM(" + expr + "), 0), 9007199254740992) AS BIGINT)"
	}
	return "CAST(MIN(TOTAL(" + expr + "), 9007199254740992.0) AS INTEGER)"
}

// AddTotal adds two totals, saturating at MaxTotal.
func AddTotal(a, b model.Money) model.Money {
	if a >= MaxTotal-b {
		return MaxTotal
	}
	return a + b
}
