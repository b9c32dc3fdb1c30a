package stats

import (
	"math"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.10g, want %.10g (±%g)", what, got, want, tol)
	}
}

// The quantiles are those of the printed tables: the normal ones to the
// digits of the NIST/SEMATECH e-Handbook of Statistical Methods (section
// 1.3.6.7.1), Student's t at 97.5 % from its table of critical values
// (1.3.6.7.2), given there to three decimals.
func TestQuantiles(t *testing.T) {
	near(t, "z(0.975)", NormalQuantile(0.975), 1.959963984540054, 1e-12)
	near(t, "z(0.95)", NormalQuantile(0.95), 1.6448536269514722, 1e-12)
	near(t, "z(0.5)", NormalQuantile(0.5), 0, 1e-12)
	near(t, "z(0.025)", NormalQuantile(0.025), -1.959963984540054, 1e-12)
	near(t, "Z(0.95)", Z(0.95), 1.959963984540054, 1e-12)
	for _, c := range []struct{ df, want float64 }{
		{1, 12.706}, {2, 4.303}, {5, 2.571}, {10, 2.228}, {20, 2.086}, {30, 2.042}, {60, 2.000}, {100, 1.984},
	} {
		near(t, "t(0.975, df)", TQuantile(0.975, c.df), c.want, 5e-4)
	}
	// Two exact cases: with one degree of freedom t is Cauchy, tan(π(p−½));
	// with two, t = (2p−1)·√(2 / (4p(1−p))).
	near(t, "t(0.9, 1)", TQuantile(0.9, 1), math.Tan(math.Pi*0.4), 1e-9)
	p := 0.975
	near(t, "t(0.975, 2)", TQuantile(p, 2), (2*p-1)*math.Sqrt(2/(4*p*(1-p))), 1e-9)
	near(t, "t(0.025, 10)", TQuantile(0.025, 10), -TQuantile(0.975, 10), 1e-12)
	if !math.IsNaN(TQuantile(1, 3)) || !math.IsNaN(TQuantile(0.5, 0)) || !math.IsNaN(NormalQuantile(0)) {
		t.Error("quantiles outside (0, 1) or without degrees of freedom should be NaN")
	}
}

func TestRegIncBeta(t *testing.T) {
	// Closed forms: I_x(1, 1) = x, I_x(a, 1) = x^a, I_x(1, b) = 1 − (1−x)^b,
	// I_½(a, a) = ½.
	for _, x := range []float64{0.01, 0.2, 0.5, 0.77, 0.99} {
		near(t, "I(1,1)", RegIncBeta(x, 1, 1), x, 1e-13)
		near(t, "I(3.5,1)", RegIncBeta(x, 3.5, 1), math.Pow(x, 3.5), 1e-13)
		near(t, "I(1,7)", RegIncBeta(x, 1, 7), 1-math.Pow(1-x, 7), 1e-13)
	}
	near(t, "I(12.5,12.5) at ½", RegIncBeta(0.5, 12.5, 12.5), 0.5, 1e-13)
	near(t, "I at 0", RegIncBeta(0, 2, 3), 0, 0)
	near(t, "I at 1", RegIncBeta(1, 2, 3), 1, 0)
}

// The examples of Newcombe, "Two-sided confidence intervals for the single
// proportion: comparison of seven methods", Stat. Med. 17:857–872 (1998),
// table I (81 of 263: Wilson 0.2553 to 0.3662), and "Interval estimation
// for the difference between independent proportions: comparison of
// eleven methods", Stat. Med. 17:873–890 (1998), table II, method 10.
func TestWilsonAndNewcombe(t *testing.T) {
	z := Z(0.95)
	w, ok := Wilson(81, 263, z)
	if !ok {
		t.Fatal("no interval")
	}
	near(t, "Wilson 81/263 lo", w.Lo, 0.2553, 5e-5)
	near(t, "Wilson 81/263 hi", w.Hi, 0.3662, 5e-5)
	w, _ = Wilson(0, 20, z)
	near(t, "Wilson 0/20 lo", w.Lo, 0, 0)
	near(t, "Wilson 0/20 hi", w.Hi, 0.1611, 5e-5)
	for _, c := range []struct {
		x1, n1, x0, n0 int64
		lo, hi         float64
	}{
		{56, 70, 48, 80, 0.0524, 0.3339},
		{9, 10, 3, 10, 0.1705, 0.8090},
		{6, 7, 2, 7, 0.0582, 0.8062},
		{5, 56, 0, 29, -0.0381, 0.1926},
		{0, 10, 0, 20, -0.1611, 0.2775},
		{10, 10, 0, 20, 0.6791, 1.0000},
	} {
		iv, ok := NewcombeDiff(c.x1, c.n1, c.x0, c.n0, z)
		if !ok {
			t.Fatalf("%+v: no interval", c)
		}
		near(t, "Newcombe lo", iv.Lo, c.lo, 5e-5)
		near(t, "Newcombe hi", iv.Hi, c.hi, 5e-5)
	}
	for _, bad := range [][2]int64{{1, 0}, {-1, 5}, {6, 5}} {
		if _, ok := Wilson(bad[0], bad[1], z); ok {
			t.Errorf("Wilson(%d, %d) should have no interval", bad[0], bad[1])
		}
	}
	if _, ok := NewcombeDiff(1, 2, 0, 0, z); ok {
		t.Error("Newcombe with an empty group should have no interval")
	}
}

// ugdp is the University Group Diabetes Program's tolbutamide trial by
// age, the stratified example of Rothman, Greenland and Lash, Modern
// Epidemiology (3rd ed., 2008, ch. 15): deaths among patients given
// tolbutamide (group 1) and placebo (group 0), under 55 and 55 or older.
var ugdp = []Stratum{{N1: 106, X1: 8, N0: 120, X0: 5}, {N1: 98, X1: 22, N0: 85, X0: 16}}

// TestMantelHaenszel checks the MH summary of the UGDP strata against the
// book (risk difference 0.035, risk ratio 1.33) and, to more digits,
// against the formulas worked by hand:
//
//	W     = 106·120/226 + 98·85/183           = 56.28319 + 45.51913 = 101.80232
//	R     = 8·120/226 + 22·85/183             = 4.24779 + 10.21858  = 14.46637
//	S     = 5·106/226 + 16·98/183             = 2.34513 + 8.56831   = 10.91344
//	Rate1 = R/W = 0.1421025, Rate0 = S/W = 0.1072023
//	RD    = 0.0349003; RR = R/S = 1.3255553
//	P     = (106²·5 − 120²·8 + 106·120·14/2)/226² + (98²·16 − 85²·22 + 98·85·(−13)/2)/183²
//	      = 30020/51076 + (−59431)/33489         = 0.5877516 − 1.7746424 = −1.1868908
//	Q     = (8·115 + 5·98)/452 + (22·69 + 16·76)/366 = 3.1194690 + 7.4699454 = 10.5894144
//	Var   = (RD·P + Q)/W² = (−0.0414228 + 10.5894144)/10363.711 = 0.00101778;
//	        95 % interval 0.0349003 ± 1.959964·0.0319027 = −0.02763 to 0.09743
//	ln RR variance (Greenland–Robins): Σ (N1·N0·(X1+X0) − X1·X0·N)/N² ÷ (R·S)
//	      = (165360 − 9040)/51076 + (316540 − 64416)/33489 = 3.0605372 + 7.5285616 = 10.5890989
//	      ÷ 157.87781 = 0.0670715; interval 1.3255553·exp(∓1.959964·0.258982) = 0.7979 to 2.2021
func TestMantelHaenszel(t *testing.T) {
	m, ok := MantelHaenszel(ugdp, Z(0.95))
	if !ok {
		t.Fatal("no summary")
	}
	near(t, "RD (book)", m.Diff, 0.035, 5e-4)
	near(t, "RR (book)", m.Ratio, 1.33, 5e-3)
	near(t, "weight", m.Weight, 101.80232, 5e-5)
	near(t, "rate1", m.Rate1, 0.1421025, 5e-7)
	near(t, "rate0", m.Rate0, 0.1072023, 5e-7)
	near(t, "RD", m.Diff, 0.0349003, 5e-7)
	near(t, "RR", m.Ratio, 1.3255553, 5e-7)
	near(t, "Sato variance", m.DiffVar, 0.00101778, 5e-8)
	near(t, "RD lo", m.DiffCI.Lo, -0.02763, 5e-5)
	near(t, "RD hi", m.DiffCI.Hi, 0.09743, 5e-5)
	near(t, "ln RR variance", m.LogRatioVar, 0.0670715, 5e-7)
	near(t, "RR lo", m.RatioCI.Lo, 0.7979, 5e-4)
	near(t, "RR hi", m.RatioCI.Hi, 2.2021, 5e-4)
	if m.Strata != 2 || m.N1 != 204 || m.X1 != 30 || m.N0 != 205 || m.X0 != 21 || !m.RatioOK {
		t.Errorf("sums %+v", m)
	}
	// The stratified Newcombe interval, worked by solving each group's
	// Wilson quadratic (p − p′)² = z²·p′(1 − p′)/n*: with the normalised
	// weights w = 0.552867 and 0.447133, n1* = 1/Σ w²/N1 = 203.09994 and
	// n0* = 204.11182; Wilson 0.100713 to 0.196779 around 0.142103 and
	// 0.071789 to 0.157128 around 0.107202; so 0.0349003 −
	// √(0.041389² + 0.049925²) = −0.029950 and 0.0349003 +
	// √(0.054677² + 0.035413²) = 0.100043.
	near(t, "stratified Newcombe lo", m.NewcombeCI.Lo, -0.029950, 5e-6)
	near(t, "stratified Newcombe hi", m.NewcombeCI.Hi, 0.100043, 5e-6)

	// One stratum of equal groups: Sato's variance is Wald's,
	// p1(1−p1)/n1 + p0(1−p0)/n0 = 0.3·0.7/100 + 0.2·0.8/100 = 0.0037.
	m, _ = MantelHaenszel([]Stratum{{N1: 100, X1: 30, N0: 100, X0: 20}}, Z(0.95))
	near(t, "one stratum variance", m.DiffVar, 0.0037, 1e-12)
	near(t, "one stratum RD", m.Diff, 0.1, 1e-12)
	// … and the stratified Newcombe interval is Newcombe's.
	nd, _ := NewcombeDiff(30, 100, 20, 100, Z(0.95))
	near(t, "one stratum Newcombe lo", m.NewcombeCI.Lo, nd.Lo, 1e-12)
	near(t, "one stratum Newcombe hi", m.NewcombeCI.Hi, nd.Hi, 1e-12)

	// A stratum missing a group carries no weight.
	m2, _ := MantelHaenszel(append(ugdp, Stratum{N1: 7, X1: 7}, Stratum{N0: 50, X0: 1}), Z(0.95))
	near(t, "RD without the one-sided strata", m2.Diff, 0.0349003, 5e-7)
	if m2.Strata != 2 {
		t.Errorf("strata %d", m2.Strata)
	}
	// No outcome in the baseline: no ratio, a difference all the same.
	m, ok = MantelHaenszel([]Stratum{{N1: 40, X1: 4, N0: 400, X0: 0}}, Z(0.95))
	if !ok || m.RatioOK || math.Abs(m.Diff-0.1) > 1e-12 {
		t.Errorf("no baseline outcome: %+v", m)
	}
	if _, ok := MantelHaenszel([]Stratum{{N1: 5, X1: 0}}, Z(0.95)); ok {
		t.Error("no stratum with both groups should give no summary")
	}
	if _, ok := MantelHaenszel([]Stratum{{N1: 5, X1: 6, N0: 5}}, Z(0.95)); ok {
		t.Error("more outcomes than persons should give no summary")
	}
}

// TestStratifiedMeans checks the stratified comparison of means against
// values worked by hand.
//
// One stratum: the cohort's values 1, 2, 3, 4, 5 (mean 3, variance 2.5),
// the baseline's 0, 0, 2, 2 (mean 1, variance 4/3); their pooled variance
// is (10 + 4)/(5 + 4 − 2) = 2, which the baseline's is raised to. The
// difference is 2, its variance 2.5/5 + 2/4 = 1 (SE 1); Satterthwaite's
// df = 1 / (0.5²/4 + 0.5²/3) = 6.857143; t(0.975, 6.857143) = 2.374647
// (between 2.447 at 6 and 2.365 at 7 in the table; the value integrated
// numerically from the t density with Simpson's rule), so the interval
// is 2 ± 2.374647.
//
// Two strata with the same cohort and baseline in each: weights 5·4/9
// each, means 3 and 1 again; the groups' variances are those of all
// their values, 2·10/(10 − 1) = 2.222222 and 2·4/(8 − 1) = 1.142857,
// the latter raised to the pooled 28/16 = 1.75, so Var = Σ W²/N1/(ΣW)²·
// 2.222222 + Σ W²/N0/(ΣW)²·1.75 = 0.1·2.222222 + 0.125·1.75 = 0.440972
// and df = 0.440972² / (0.222222²/9 + 0.21875²/7) = 15.780085.
func TestStratifiedMeans(t *testing.T) {
	one := MeanStratum{N1: 5, Sum1: 15, SumSq1: 55, N0: 4, Sum0: 4, SumSq0: 8}
	m, ok := StratifiedMeans([]MeanStratum{one}, 0.95)
	if !ok {
		t.Fatal("no comparison")
	}
	near(t, "mean1", m.Mean1, 3, 1e-12)
	near(t, "mean0", m.Mean0, 1, 1e-12)
	near(t, "diff", m.Diff, 2, 1e-12)
	near(t, "SE", m.SE, 1, 1e-12)
	near(t, "df", m.DF, 6.857143, 5e-6)
	near(t, "lo", m.DiffCI.Lo, 2-2.374647, 5e-6)
	near(t, "hi", m.DiffCI.Hi, 2+2.374647, 5e-6)
	near(t, "ratio", m.Ratio, 3, 1e-12)
	if !m.RatioOK || !(m.RatioCI.Lo < 3 && m.RatioCI.Hi > 3) {
		t.Errorf("ratio interval %+v", m.RatioCI)
	}

	m, _ = StratifiedMeans([]MeanStratum{one, one}, 0.95)
	near(t, "two strata diff", m.Diff, 2, 1e-12)
	near(t, "two strata SE²", m.SE*m.SE, 0.440972, 5e-7)
	near(t, "two strata df", m.DF, 15.780085, 5e-6)

	// Every stratum one person a side. Cohort 0, 10, 0 (variance 33.333,
	// df 2), baseline 0, 0, 6 (variance 12, raised to the pooled
	// (66.667 + 24)/4 = 22.667, df 2); W = ½ each, so Var = (0.75·33.333 +
	// 0.75·22.667)/2.25 = 18.667.
	single := []MeanStratum{{N1: 1, N0: 1}, {N1: 1, Sum1: 10, SumSq1: 100, N0: 1}, {N1: 1, N0: 1, Sum0: 6, SumSq0: 36}}
	m, ok = StratifiedMeans(single, 0.95)
	if !ok {
		t.Fatal("no comparison of singletons")
	}
	near(t, "singleton SE²", m.SE*m.SE, 18.666667, 5e-6)
	near(t, "singleton df", m.DF, sq(18.666667)/(sq(0.75*33.333333/2.25)/2+sq(0.75*22.666667/2.25)/2), 1e-4)
	if _, ok := StratifiedMeans(single[:1], 0.95); ok {
		t.Error("one person a group should not compare")
	}

	if _, ok := StratifiedMeans(nil, 0.95); ok {
		t.Error("no strata should not compare")
	}
}
