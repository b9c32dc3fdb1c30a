package model

import (
	"math"
	"testing"
)

// The gap is (actual − target) ÷ target, in either direction; good is
// at least the target when more is better, at most when less is better.
func TestGapAndGood(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	for _, tc := range []struct {
		dir    MetricDirection
		target float64
		actual *float64
		gap    *float64
		good   *bool
		name   string
	}{
		{HigherBetter, 5_000_000, f(318_272), f(-0.9363456), ptrBool(false), "¥318,272 of ¥5,000,000 is −93.6 %, not −36 %"},
		{HigherBetter, 500, f(500), f(0), ptrBool(true), "met exactly"},
		{HigherBetter, 400, f(600), f(0.5), ptrBool(true), "beaten"},
		{LowerBetter, 300, f(375), f(0.25), ptrBool(false), "a cost per lead 25 % over"},
		{LowerBetter, 2, f(1.5), f(-0.25), ptrBool(true), "a follow-up faster than the target"},
		{LowerBetter, 2, f(2), f(0), ptrBool(true), "at the target"},
		{HigherBetter, 0, f(3), nil, ptrBool(true), "a target of 0 has no gap"},
		{LowerBetter, 0, f(3), nil, ptrBool(false), "a cost target of 0 missed"},
		{HigherBetter, 100, nil, nil, nil, "no actual"},
		{LowerBetter, 100, f(math.NaN()), nil, nil, "no actual (NaN)"},
	} {
		gap, good := Gap(tc.target, tc.actual), Good(tc.dir, tc.target, tc.actual)
		if (gap == nil) != (tc.gap == nil) || (gap != nil && *gap != *tc.gap) {
			t.Errorf("%s: gap %v, want %v", tc.name, deref(gap), deref(tc.gap))
		}
		if (good == nil) != (tc.good == nil) || (good != nil && *good != *tc.good) {
			t.Errorf("%s: good %v, want %v", tc.name, good, tc.good)
		}
	}
	for _, m := range ReviewMetrics {
		if got, ok := ReviewMetricByKey(m.Key); !ok || got != m || m.MaxTarget() <= 0 || m.LabelKey() != "review.metric."+m.Key {
			t.Errorf("catalogue entry %+v", m)
		}
	}
	if len(ReviewMetrics) != 16 {
		t.Errorf("%d metrics, want the 16 of the issue", len(ReviewMetrics))
	}
}

func ptrBool(b bool) *bool { return &b }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
