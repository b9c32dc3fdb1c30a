package web

import (
	"html/template"
	"math"
	"strconv"
	"strings"

	"github.com/revloop/revloop/internal/model"
)

// formatMoney prints an amount as ¥1,234,567.89, from its integer fen and
// never through a float.
func formatMoney(m model.Money) string {
	v := int64(m)
	sign := ""
	u := uint64(v)
	if v < 0 {
		sign = "-"
		u = uint64(-(v + 1)) + 1 // safe for math.MinInt64
	}
	frac := u % 100
	return sign + "¥" + group(strconv.FormatUint(u/100, 10)) + "." + strconv.FormatUint(frac/10, 10) + strconv.FormatUint(frac%10, 10)
}

// formatMoneyPtr prints an optional amount, "—" when absent.
func formatMoneyPtr(m *model.Money) string {
	if m == nil {
		return "—"
	}
	return formatMoney(*m)
}

// formatInt prints a count with thousands separators.
func formatInt(n int64) string {
	if n < 0 {
		return "-" + group(strconv.FormatUint(uint64(-(n+1))+1, 10))
	}
	return group(strconv.FormatInt(n, 10))
}

// formatPercent prints a rate (0.5) as a percentage with one decimal
// (50.0%), "—" when there is none.
func formatPercent(r *float64) string {
	if r == nil || math.IsNaN(*r) || math.IsInf(*r, 0) {
		return "—"
	}
	return formatDecimal(*r*100, 1) + "%"
}

// formatROI prints won revenue per yuan of cost as 12.34×, "—" without cost.
func formatROI(r *float64) string {
	if r == nil || math.IsNaN(*r) || math.IsInf(*r, 0) {
		return "—"
	}
	return formatDecimal(*r, 2) + "×"
}

// roiHTML is formatROI for pages: the × sign is set smaller, as a unit.
func roiHTML(r *float64) template.HTML {
	s := formatROI(r)
	if n, ok := strings.CutSuffix(s, "×"); ok {
		return template.HTML(template.HTMLEscapeString(n) + `<span class="unit">×</span>`)
	}
	return template.HTML(template.HTMLEscapeString(s))
}

// formatDecimal prints x rounded to prec decimals with thousands separators.
func formatDecimal(x float64, prec int) string {
	s := strconv.FormatFloat(x, 'f', prec, 64)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	out := sign + group(whole)
	if hasFrac {
		out += "." + frac
	}
	return out
}

// group puts a comma between every three digits of a digit string.
func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}
