package predict

import (
	"errors"
	"math"
	"sort"
)

// ErrOneClass means a metric needs both outcomes and got only one.
var ErrOneClass = errors.New("AUC needs at least one positive and one negative example")

// AUC is the area under the ROC curve: the probability that a random
// positive scores above a random negative, ties counting half (the
// Mann–Whitney U statistic over n₊·n₋, with average ranks for ties).
func AUC(scores []float64, labels []bool) (float64, error) {
	if len(scores) != len(labels) {
		return 0, errors.New("AUC: scores and labels differ in length")
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var rankSum float64
	var pos, neg int
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		// Ranks i+1 … j share their average.
		avg := float64(i+1+j) / 2
		for m := i; m < j; m++ {
			if labels[idx[m]] {
				rankSum += avg
				pos++
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return 0, ErrOneClass
	}
	u := rankSum - float64(pos)*float64(pos+1)/2
	return u / (float64(pos) * float64(neg)), nil
}

// Brier is the mean squared difference between predicted probability and
// outcome (0 is perfect; always predicting the base rate r scores r(1−r)).
func Brier(probs []float64, labels []bool) float64 {
	if len(probs) == 0 {
		return 0
	}
	s := 0.0
	for i, p := range probs {
		y := 0.0
		if labels[i] {
			y = 1
		}
		s += (p - y) * (p - y)
	}
	return s / float64(len(probs))
}

// CalibrationBin compares predictions with outcomes for the examples whose
// predicted probability falls in [Lower, Upper) (the last bin includes 1).
type CalibrationBin struct {
	Lower         float64  `json:"lower"`
	Upper         float64  `json:"upper"`
	Count         int      `json:"count"`
	Positives     int      `json:"positives"`
	MeanPredicted *float64 `json:"mean_predicted"` // null for an empty bin
	ObservedRate  *float64 `json:"observed_rate"`  // null for an empty bin
}

// Calibration sorts examples into n equal-width probability bins and
// reports, per bin, how many fell in, the mean predicted probability and
// the observed rate of positives. A well calibrated model has the two
// close in every bin that holds enough examples.
func Calibration(probs []float64, labels []bool, n int) []CalibrationBin {
	if n <= 0 {
		n = 10
	}
	bins := make([]CalibrationBin, n)
	sums := make([]float64, n)
	for i := range bins {
		bins[i].Lower = round6(float64(i) / float64(n))
		bins[i].Upper = round6(float64(i+1) / float64(n))
	}
	for i, p := range probs {
		if math.IsNaN(p) {
			continue
		}
		b := int(p * float64(n))
		b = min(max(b, 0), n-1)
		bins[b].Count++
		sums[b] += p
		if labels[i] {
			bins[b].Positives++
		}
	}
	for i := range bins {
		if c := bins[i].Count; c > 0 {
			m := sums[i] / float64(c)
			r := float64(bins[i].Positives) / float64(c)
			bins[i].MeanPredicted, bins[i].ObservedRate = &m, &r
		}
	}
	return bins
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
