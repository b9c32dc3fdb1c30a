package importer

import (
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// parseDay reads the day formats ad platforms export: 2024-05-01,
// 2024/5/1, 20240501, 2024年5月1日, 5/1/2024 (LinkedIn, month first),
// "May 1, 2024" (Google Ads); a time after the day is ignored.
func parseDay(s string) (time.Time, error) {
	v := strings.TrimSpace(s)
	if d, _, ok := strings.Cut(v, " "); ok && !strings.ContainsAny(d, ",") && !isMonthName(d) {
		v = d
	}
	if d, _, ok := strings.Cut(v, "T"); ok && len(d) == 10 {
		v = d
	}
	v = strings.TrimSuffix(strings.NewReplacer("年", "-", "月", "-", "日", "").Replace(v), "-")
	for _, layout := range []string{"2006-1-2", "2006/1/2", "20060102", "2006.1.2", "1/2/2006", "Jan 2, 2006", "January 2, 2006", "2-Jan-2006", "2-Jan-06"} {
		if t, err := time.Parse(layout, v); err == nil {
			if t.Year() < 2000 || t.Year() > 2100 {
				return time.Time{}, badCell("date", "date_out_of_range", s, "date %q is out of range", s)
			}
			return t, nil
		}
	}
	return time.Time{}, badCell("date", "bad_date", s, "date %q is not a date (use YYYY-MM-DD)", s)
}

func isMonthName(s string) bool {
	_, err := time.Parse("Jan", s)
	if err == nil {
		return true
	}
	_, err = time.Parse("January", s)
	return err == nil
}

// emptyNumber says whether a report cell means "nothing": platforms write
// "--", "-" or leave the cell empty.
func emptyNumber(s string) bool {
	switch strings.TrimSpace(s) {
	case "", "-", "--", "—", "N/A", "n/a":
		return true
	}
	return false
}

// parseCount reads a non-negative whole number: "1,234", "1234", "1234.00";
// what is the field (impressions, clicks).
func parseCount(s, what string) (int64, error) {
	if emptyNumber(s) {
		return 0, nil
	}
	v := strings.NewReplacer(",", "", " ", "", "\u00a0", "").Replace(s)
	if whole, frac, ok := strings.Cut(v, "."); ok && strings.Trim(frac, "0") == "" {
		v = whole
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > 1<<50 {
		return 0, badCell(what, "bad_count", s, "%s %q is not a whole number of zero or more", what, s)
	}
	return n, nil
}

// parseCost reads an amount in yuan exactly: "¥1,234.56", "1234.5", "RMB 12".
// More than two decimals (some exports print 1.2345) are rounded half to
// even to the fen, the rounding that adds no bias over many rows.
func parseCost(s string) (model.Money, error) {
	if emptyNumber(s) {
		return 0, nil
	}
	v := strings.TrimSpace(s)
	for _, p := range []string{"¥", "￥", "CNY", "RMB", "元"} {
		v = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(v, p), p))
	}
	v = strings.NewReplacer(",", "", " ", "", "\u00a0", "").Replace(v)
	if strings.HasPrefix(v, "-") {
		return 0, badCell("cost", "negative_cost", s, "cost %q is negative", s)
	}
	whole, frac, ok := strings.Cut(v, ".")
	if ok && len(frac) > 2 {
		if len(frac) > 18 || strings.Trim(frac, "0123456789") != "" || strings.Trim(whole, "0123456789") != "" || len(whole) > 16 {
			return 0, badCell("cost", "bad_cost", s, "cost %q is not an amount", s)
		}
		fen, _ := strconv.ParseInt(whole+frac[:2], 10, 64)
		rest := frac[2:]
		half := "5" + strings.Repeat("0", len(rest)-1)
		switch {
		case rest > half:
			fen++
		case rest == half && fen%2 == 1:
			fen++
		}
		return model.Money(fen), nil
	}
	m, err := model.ParseMoney(v)
	if err != nil {
		return 0, badCell("cost", "bad_cost", s, "cost %q is not an amount in yuan", s)
	}
	return m, nil
}
