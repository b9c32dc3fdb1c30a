// Package stats holds the statistics behind the figures revloop states
// with a confidence interval: score intervals for a proportion and for the
// difference of two (Wilson, Newcombe), the Mantel–Haenszel risk
// difference and risk ratio over strata with their variances (Sato;
// Greenland and Robins), and a stratified difference of means with a
// Welch–Satterthwaite interval. Pure functions of counts and sums; each
// names the paper its formula comes from.
package stats

import (
	"math"
)

// Interval is a confidence interval [Lo, Hi].
type Interval struct {
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
}

// Contains says whether x lies in the interval, bounds included.
func (i Interval) Contains(x float64) bool { return i.Lo <= x && x <= i.Hi }

// Wilson is the score interval of a proportion, x successes in n trials,
// without continuity correction (Wilson, J. Am. Stat. Assoc. 22:209–212,
// 1927; method 3 of Newcombe, Stat. Med. 17:857–872, 1998). Unlike the
// Wald interval it stays inside [0, 1] and is not empty at x = 0 or n.
// z is the normal quantile of the level (Z(0.95) for 95 %). ok is false
// when n is not positive or x is outside [0, n].
func Wilson(x, n int64, z float64) (Interval, bool) {
	if n <= 0 || x < 0 || x > n {
		return Interval{}, false
	}
	return wilsonAt(float64(x)/float64(n), float64(n), z), true
}

// wilsonAt is the Wilson interval of a proportion p observed over n
// trials, n any positive real (an effective size): the p′ with
// (p − p′)² = z²·p′(1 − p′)/n.
func wilsonAt(p, n, z float64) Interval {
	z2 := z * z
	mid := (p + z2/(2*n)) / (1 + z2/n)
	half := z / (1 + z2/n) * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	return Interval{Lo: clamp(mid-half, 0, 1), Hi: clamp(mid+half, 0, 1)}
}

// NewcombeDiff is the hybrid score interval of p1 − p0 for two
// independent proportions, x1 of n1 and x0 of n0: the difference with the
// distances to each proportion's Wilson bounds combined in quadrature
// (method 10 of Newcombe, Stat. Med. 17:873–890, 1998). ok is false when
// either proportion has no Wilson interval.
func NewcombeDiff(x1, n1, x0, n0 int64, z float64) (Interval, bool) {
	w1, ok1 := Wilson(x1, n1, z)
	w0, ok0 := Wilson(x0, n0, z)
	if !ok1 || !ok0 {
		return Interval{}, false
	}
	p1, p0 := float64(x1)/float64(n1), float64(x0)/float64(n0)
	d := p1 - p0
	lo := d - math.Sqrt(sq(p1-w1.Lo)+sq(w0.Hi-p0))
	hi := d + math.Sqrt(sq(w1.Hi-p1)+sq(p0-w0.Lo))
	return Interval{Lo: clamp(lo, -1, 1), Hi: clamp(hi, -1, 1)}, true
}

// Stratum is one stratum's 2×2 table: N1 persons of group 1 (the
// cohort), X1 of whom had the outcome, and N0, X0 of group 0 (the
// baseline).
type Stratum struct {
	N1, X1, N0, X0 int64
}

// MH is the Mantel–Haenszel summary of a set of strata. Each stratum
// with both groups weighs W = N1·N0/(N1+N0); Rate1 and Rate0 are the two
// groups' outcome rates averaged with those weights, so that Diff =
// Rate1 − Rate0 is the MH risk difference and Ratio = Rate1 / Rate0 the
// MH risk ratio (Mantel and Haenszel, J. Natl. Cancer Inst. 22:719–748,
// 1959).
type MH struct {
	Strata         int     // strata with both groups: the ones that count
	N1, X1, N0, X0 int64   // summed over those strata
	Weight         float64 // Σ W
	Rate1, Rate0   float64
	Diff           float64
	// DiffVar is Sato's variance of the risk difference (Sato, Biometrics
	// 45:1323–1324, 1989), valid both for many sparse strata and for a
	// few large ones — matched strata are often of one or two persons.
	DiffVar float64
	DiffCI  Interval
	// NewcombeCI is the stratified Newcombe interval of Diff: each
	// group's weighted rate gets a Wilson interval with the effective
	// size 1 / Σ (w²/N) of its strata (w the normalised MH weights),
	// whose distances to the rate are combined as in NewcombeDiff (Yan
	// and Su, Stat. Biopharm. Res. 2:329–335, 2010). A score interval, it
	// keeps its coverage where few persons have the outcome, which the
	// Wald interval of DiffVar does not.
	NewcombeCI Interval
	Ratio      float64
	// LogRatioVar is the variance of ln Ratio after Greenland and Robins
	// (Biometrics 41:55–68, 1985); RatioOK is false when either rate is
	// 0, which leaves the ratio or its logarithm undefined.
	LogRatioVar float64
	RatioCI     Interval
	RatioOK     bool
}

// MantelHaenszel summarises the strata at the level of z. Strata missing
// either group carry no weight and are left out; ok is false when none is
// left or a table is impossible (negative counts, more outcomes than
// persons).
func MantelHaenszel(strata []Stratum, z float64) (MH, bool) {
	var m MH
	// R and S are the numerator and denominator sums of the risk ratio:
	// Σ X1·N0/N and Σ X0·N1/N; their difference over Σ W is the risk
	// difference.
	var r, s, p, q, gr float64
	type weighted struct{ w, n1, n0 float64 }
	var used []weighted
	for _, st := range strata {
		if st.N1 < 0 || st.N0 < 0 || st.X1 < 0 || st.X0 < 0 || st.X1 > st.N1 || st.X0 > st.N0 {
			return MH{}, false
		}
		if st.N1 == 0 || st.N0 == 0 {
			continue
		}
		n1, n0, x1, x0 := float64(st.N1), float64(st.N0), float64(st.X1), float64(st.X0)
		n := n1 + n0
		m.Strata++
		m.N1, m.X1, m.N0, m.X0 = m.N1+st.N1, m.X1+st.X1, m.N0+st.N0, m.X0+st.X0
		m.Weight += n1 * n0 / n
		used = append(used, weighted{w: n1 * n0 / n, n1: n1, n0: n0})
		r += x1 * n0 / n
		s += x0 * n1 / n
		// Sato's P and Q terms.
		p += (n1*n1*x0 - n0*n0*x1 + n1*n0*(n0-n1)/2) / (n * n)
		q += (x1*(n0-x0) + x0*(n1-x1)) / (2 * n)
		// Greenland and Robins' numerator for ln RR.
		gr += (n1*n0*(x1+x0) - x1*x0*n) / (n * n)
	}
	if m.Strata == 0 {
		return MH{}, false
	}
	m.Rate1, m.Rate0 = r/m.Weight, s/m.Weight
	m.Diff = m.Rate1 - m.Rate0
	m.DiffVar = math.Max(0, (m.Diff*p+q)/(m.Weight*m.Weight))
	half := z * math.Sqrt(m.DiffVar)
	m.DiffCI = Interval{Lo: clamp(m.Diff-half, -1, 1), Hi: clamp(m.Diff+half, -1, 1)}
	var inv1, inv0 float64 // Σ w²/N of each group, w normalised
	for _, u := range used {
		w := u.w / m.Weight
		inv1 += w * w / u.n1
		inv0 += w * w / u.n0
	}
	w1, w0 := wilsonAt(m.Rate1, 1/inv1, z), wilsonAt(m.Rate0, 1/inv0, z)
	m.NewcombeCI = Interval{
		Lo: clamp(m.Diff-math.Sqrt(sq(m.Rate1-w1.Lo)+sq(w0.Hi-m.Rate0)), -1, 1),
		Hi: clamp(m.Diff+math.Sqrt(sq(w1.Hi-m.Rate1)+sq(m.Rate0-w0.Lo)), -1, 1),
	}
	if r > 0 && s > 0 {
		m.Ratio = r / s
		m.LogRatioVar = math.Max(0, gr/(r*s))
		lh := z * math.Sqrt(m.LogRatioVar)
		m.RatioCI = Interval{Lo: m.Ratio * math.Exp(-lh), Hi: m.Ratio * math.Exp(lh)}
		m.RatioOK = true
	}
	return m, true
}

// MeanStratum is one stratum of a numeric outcome: for each group the
// persons, the sum of their values and the sum of the values' squares.
type MeanStratum struct {
	N1           int64
	Sum1, SumSq1 float64
	N0           int64
	Sum0, SumSq0 float64
}

// MeanDiff is a stratified comparison of two means. The strata weigh as
// in MH (W = N1·N0/(N1+N0)), Mean1 and Mean0 are the groups' means
// averaged with those weights and Diff their difference. Each group's
// variance is that of all its values, but not less than the two groups'
// pooled variance; the interval is Welch's, with Satterthwaite's degrees
// of freedom (Welch, Biometrika
// 34:28–35, 1947; Satterthwaite, Biometrics Bulletin 2:110–114, 1946).
type MeanDiff struct {
	Strata       int
	N1, N0       int64
	Weight       float64
	Mean1, Mean0 float64
	Diff         float64
	SE           float64 // standard error of Diff
	DF           float64 // Satterthwaite's degrees of freedom
	DiffCI       Interval
	// Ratio is Mean1 / Mean0 with a delta-method interval on the log
	// scale; RatioOK is false when either mean is not positive.
	Ratio   float64
	RatioCI Interval
	RatioOK bool
}

// StratifiedMeans compares the groups' means over the strata at the
// confidence level conf (0.95 for 95 %). Strata missing either group are
// left out; ok is false when none is left or either group has fewer than
// two persons, so that no variance can be estimated.
func StratifiedMeans(strata []MeanStratum, conf float64) (MeanDiff, bool) {
	var m MeanDiff
	var sum1, sum0, a, b float64     // weighted mean sums; variance factors
	var tot1, tot0, sq1, sq0 float64 // group totals, for the variances
	for _, st := range strata {
		if st.N1 <= 0 || st.N0 <= 0 {
			continue
		}
		n1, n0 := float64(st.N1), float64(st.N0)
		w := n1 * n0 / (n1 + n0)
		m.Strata++
		m.N1, m.N0 = m.N1+st.N1, m.N0+st.N0
		m.Weight += w
		sum1 += w * st.Sum1 / n1
		sum0 += w * st.Sum0 / n0
		a += w * w / n1
		b += w * w / n0
		tot1, tot0, sq1, sq0 = tot1+st.Sum1, tot0+st.Sum0, sq1+st.SumSq1, sq0+st.SumSq0
	}
	if m.Strata == 0 || m.N1 < 2 || m.N0 < 2 {
		return MeanDiff{}, false
	}
	m.Mean1, m.Mean0 = sum1/m.Weight, sum0/m.Weight
	m.Diff = m.Mean1 - m.Mean0
	// A group's variance is that of its values about the group's own
	// mean. Matched strata are small, often of one person, so a variance
	// pooled within them rests on the few strata of two or more and
	// misses the values of the rest; this one also holds the differences
	// between strata, so it is, if anything, too wide. And it is at least
	// the two groups' pooled variance: the sample variance of a skewed
	// amount (pipeline: mostly nothing, now and then millions) in a small
	// group is often far below the truth exactly when the group's mean
	// is, and Welch's interval would then claim a difference that is not
	// there.
	ss := func(tot, sq float64, n int64) float64 { return math.Max(0, sq-tot*tot/float64(n)) }
	ss1, ss0 := ss(tot1, sq1, m.N1), ss(tot0, sq0, m.N0)
	pooled := (ss1 + ss0) / float64(m.N1+m.N0-2)
	v1, df1 := math.Max(ss1/float64(m.N1-1), pooled), float64(m.N1-1)
	v0, df0 := math.Max(ss0/float64(m.N0-1), pooled), float64(m.N0-1)
	w2 := m.Weight * m.Weight
	e1, e0 := v1*a/w2, v0*b/w2 // the variances of Mean1 and Mean0
	m.SE = math.Sqrt(e1 + e0)
	switch {
	case e1+e0 == 0:
		m.DF = df1 + df0
	default:
		m.DF = sq(e1+e0) / (sq(e1)/df1 + sq(e0)/df0)
	}
	t := TQuantile(1-(1-conf)/2, m.DF)
	m.DiffCI = Interval{Lo: m.Diff - t*m.SE, Hi: m.Diff + t*m.SE}
	if m.Mean1 > 0 && m.Mean0 > 0 {
		m.Ratio = m.Mean1 / m.Mean0
		lh := t * math.Sqrt(e1/sq(m.Mean1)+e0/sq(m.Mean0))
		m.RatioCI = Interval{Lo: m.Ratio * math.Exp(-lh), Hi: m.Ratio * math.Exp(lh)}
		m.RatioOK = true
	}
	return m, true
}

// Z is the two-sided normal quantile of a confidence level: Z(0.95) ≈
// 1.96.
func Z(conf float64) float64 { return NormalQuantile(1 - (1-conf)/2) }

// NormalQuantile is the p-quantile of the standard normal distribution,
// for 0 < p < 1, found by bisection on the distribution function (the
// complementary error function of the standard library), to the last
// bit.
func NormalQuantile(p float64) float64 {
	if !(p > 0 && p < 1) {
		return math.NaN()
	}
	cdf := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
	lo, hi := -40.0, 40.0
	return bisect(lo, hi, func(x float64) bool { return cdf(x) < p })
}

// TQuantile is the p-quantile of Student's t distribution with df
// degrees of freedom (any positive real, as Satterthwaite's are), for
// 0 < p < 1, found by bisection on the distribution function written
// with the regularized incomplete beta function.
func TQuantile(p, df float64) float64 {
	if !(p > 0 && p < 1) || !(df > 0) {
		return math.NaN()
	}
	if df > 1e7 {
		return NormalQuantile(p)
	}
	if p == 0.5 {
		return 0
	}
	if p < 0.5 {
		return -TQuantile(1-p, df)
	}
	// For t ≥ 0, P(T ≤ t) = 1 − I_{df/(df+t²)}(df/2, 1/2) / 2.
	cdf := func(t float64) float64 { return 1 - 0.5*RegIncBeta(df/(df+t*t), df/2, 0.5) }
	hi := 1.0
	for cdf(hi) < p && hi < 1e300 {
		hi *= 2
	}
	return bisect(0, hi, func(t float64) bool { return cdf(t) < p })
}

// bisect finds where below turns from true (at lo) to false (at hi),
// halving the bracket until it can no more.
func bisect(lo, hi float64, below func(float64) bool) float64 {
	for i := 0; i < 2000; i++ {
		mid := lo + (hi-lo)/2
		if mid <= lo || mid >= hi {
			break
		}
		if below(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + (hi-lo)/2
}

// RegIncBeta is the regularized incomplete beta function I_x(a, b) for
// 0 ≤ x ≤ 1 and a, b > 0, from its continued fraction (the expansion in
// Abramowitz and Stegun 26.5.8), evaluated with Lentz's method; beyond
// the fraction's fast region it uses I_x(a, b) = 1 − I_{1−x}(b, a).
func RegIncBeta(x, a, b float64) float64 {
	switch {
	case !(a > 0 && b > 0) || math.IsNaN(x):
		return math.NaN()
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	if x > (a+1)/(a+b+2) {
		return 1 - RegIncBeta(1-x, b, a)
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(a*math.Log(x)+b*math.Log1p(-x)-(la+lb-lab)) / a
	return front * betaFraction(x, a, b)
}

// betaFraction evaluates 1/(1+ d1/(1+ d2/(1+ …))) where
// d(2k+1) = −(a+k)(a+b+k)x / ((a+2k)(a+2k+1)) and
// d(2k) = k(b−k)x / ((a+2k−1)(a+2k)), by the modified Lentz method: a
// running product of the ratios of successive convergents, each
// denominator kept away from zero.
func betaFraction(x, a, b float64) float64 {
	const tiny, eps = 1e-300, 1e-16
	term := func(j int) float64 { // d(j), j ≥ 1
		k := float64(j / 2)
		if j%2 == 1 {
			return -(a + k) * (a + b + k) * x / ((a + 2*k) * (a + 2*k + 1))
		}
		return k * (b - k) * x / ((a + 2*k - 1) * (a + 2*k))
	}
	// The fraction is a1/(b1 + a2/(b2 + …)) with every b = 1, a1 = 1 and
	// a(j+1) = d(j).
	f, c, d := tiny, tiny, 0.0
	for j := 1; j < 10000; j++ {
		num := 1.0
		if j > 1 {
			num = term(j - 1)
		}
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		delta := c * d
		f *= delta
		if math.Abs(delta-1) < eps {
			break
		}
	}
	return f
}

func sq(x float64) float64 { return x * x }

func clamp(x, lo, hi float64) float64 { return math.Min(hi, math.Max(lo, x)) }
