package predict

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const day = 24 * time.Hour

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestFitLogisticMatchesClosedForm(t *testing.T) {
	// One binary feature, no penalty: the maximum-likelihood fit reproduces
	// the observed rates, so intercept = logit(1/4) = −ln 3 and
	// coefficient = logit(3/4) − logit(1/4) = 2 ln 3.
	x := [][]float64{{0}, {0}, {0}, {0}, {1}, {1}, {1}, {1}}
	y := []bool{true, false, false, false, true, true, true, false}
	b0, coef, err := FitLogistic(x, y, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !near(b0, -math.Log(3), 1e-9) || !near(coef[0], 2*math.Log(3), 1e-9) {
		t.Fatalf("intercept %v coef %v, want %v and %v", b0, coef[0], -math.Log(3), 2*math.Log(3))
	}
	// A penalty shrinks the coefficient towards zero, keeping its sign.
	b0s, shrunk, err := FitLogistic(x, y, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !(shrunk[0] > 0 && shrunk[0] < coef[0]) {
		t.Fatalf("penalised coefficient %v, want in (0, %v)", shrunk[0], coef[0])
	}
	// At the penalised optimum the gradient vanishes: Σ (p−y)·x + λβ = 0.
	g := 2 * shrunk[0]
	for i, r := range x {
		p := sigmoid(b0s + shrunk[0]*r[0])
		if y[i] {
			p--
		}
		g += p * r[0]
	}
	if !near(g, 0, 1e-9) {
		t.Fatalf("gradient at the optimum %v", g)
	}
}

func TestFitLogisticSignsAndSeparableData(t *testing.T) {
	// Feature 0 raises the odds, feature 1 lowers them, feature 2 is noise.
	r := rand.New(rand.NewPCG(7, 7))
	var x [][]float64
	var y []bool
	for i := 0; i < 2000; i++ {
		a, b, c := r.NormFloat64(), r.NormFloat64(), r.NormFloat64()
		x = append(x, []float64{a, b, c})
		y = append(y, r.Float64() < sigmoid(0.5+1.5*a-1.0*b))
	}
	b0, coef, err := FitLogistic(x, y, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !(coef[0] > 1.2 && coef[0] < 1.8) || !(coef[1] < -0.8 && coef[1] > -1.2) || math.Abs(coef[2]) > 0.15 || !(b0 > 0.3 && b0 < 0.7) {
		t.Fatalf("intercept %v coefficients %v, want near 0.5, [1.5 −1 0]", b0, coef)
	}

	// Perfectly separable data: without a penalty the likelihood has no
	// maximum; with one the fit is finite and ranks perfectly.
	xs := [][]float64{{-2}, {-1}, {-0.5}, {0.5}, {1}, {2}}
	ys := []bool{false, false, false, true, true, true}
	_, cs, err := FitLogistic(xs, ys, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !(cs[0] > 0) || math.IsInf(cs[0], 0) || cs[0] > 20 {
		t.Fatalf("separable coefficient %v", cs[0])
	}
}

func TestFitLogisticIsDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var x [][]float64
	var y []bool
	for i := 0; i < 500; i++ {
		x = append(x, []float64{r.NormFloat64(), r.NormFloat64()})
		y = append(y, r.IntN(3) == 0)
	}
	b1, c1, _ := FitLogistic(x, y, 1)
	b2, c2, _ := FitLogistic(x, y, 1)
	if math.Float64bits(b1) != math.Float64bits(b2) || !reflect.DeepEqual(c1, c2) {
		t.Fatal("two fits of the same data differ")
	}
}

func TestFitLogisticRejectsBadInput(t *testing.T) {
	cases := []struct {
		x      [][]float64
		y      []bool
		lambda float64
		want   string
	}{
		{nil, nil, 1, "0 rows"},
		{[][]float64{{1}, {1, 2}}, []bool{true, false}, 1, "row 1 has 2 values"},
		{[][]float64{{math.NaN()}}, []bool{true}, 1, "NaN"},
		{[][]float64{{1}}, []bool{true}, math.Inf(1), "bad λ"},
		{[][]float64{{1}}, []bool{true, false}, 1, "1 rows and 2 labels"},
	}
	for _, c := range cases {
		_, _, err := FitLogistic(c.x, c.y, c.lambda)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("FitLogistic(%v) = %v, want %q", c.x, err, c.want)
		}
	}
}

func TestAUC(t *testing.T) {
	cases := []struct {
		name   string
		scores []float64
		labels []bool
		want   float64
	}{
		// Pairs (pos, neg): (0.35,0.1) win, (0.35,0.4) loss, (0.8,·) two wins: 3/4.
		{"textbook", []float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75},
		// Positives 0.5, 0.9; negatives 0.5, 0.5: ties count half: (0.5+0.5+1+1)/4.
		{"ties", []float64{0.5, 0.5, 0.5, 0.9}, []bool{false, true, false, true}, 0.75},
		{"all tied", []float64{0.3, 0.3, 0.3}, []bool{true, false, false}, 0.5},
		{"perfect", []float64{0.9, 0.1, 0.8, 0.2}, []bool{true, false, true, false}, 1},
		{"reversed", []float64{0.1, 0.9}, []bool{true, false}, 0},
		// 3 positives, 2 negatives, 6 pairs: (0.7 > 0.2, 0.7 = 0.7 half) → 1.5;
		// 0.9 beats both → 2; 0.2 ties 0.2 half → 0.5: 4/6.
		{"mixed ties", []float64{0.7, 0.9, 0.2, 0.2, 0.7}, []bool{true, true, true, false, false}, 4.0 / 6},
	}
	for _, c := range cases {
		got, err := AUC(c.scores, c.labels)
		if err != nil || !near(got, c.want, 1e-12) {
			t.Errorf("%s: AUC = %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	if _, err := AUC([]float64{0.1, 0.2}, []bool{true, true}); !errors.Is(err, ErrOneClass) {
		t.Errorf("one class: %v", err)
	}
}

func TestBrierAndCalibration(t *testing.T) {
	probs := []float64{0.05, 0.15, 0.12, 0.95, 1.0, 0.5}
	labels := []bool{false, true, false, true, true, false}
	// (0.05² + 0.85² + 0.12² + 0.05² + 0 + 0.5²) / 6
	want := (0.0025 + 0.7225 + 0.0144 + 0.0025 + 0 + 0.25) / 6
	if got := Brier(probs, labels); !near(got, want, 1e-12) {
		t.Fatalf("Brier %v, want %v", got, want)
	}
	bins := Calibration(probs, labels, 10)
	if len(bins) != 10 || bins[0].Lower != 0 || bins[9].Upper != 1 || bins[3].Lower != 0.3 {
		t.Fatalf("bins %+v", bins)
	}
	type row struct {
		count, pos   int
		mean, actual float64
	}
	wantRows := map[int]row{0: {1, 0, 0.05, 0}, 1: {2, 1, 0.135, 0.5}, 5: {1, 0, 0.5, 0}, 9: {2, 2, 0.975, 1}}
	for i, b := range bins {
		w, ok := wantRows[i]
		if !ok {
			if b.Count != 0 || b.MeanPredicted != nil || b.ObservedRate != nil {
				t.Errorf("bin %d should be empty: %+v", i, b)
			}
			continue
		}
		if b.Count != w.count || b.Positives != w.pos || !near(*b.MeanPredicted, w.mean, 1e-12) || !near(*b.ObservedRate, w.actual, 1e-12) {
			t.Errorf("bin %d: %+v (mean %v rate %v), want %+v", i, b, *b.MeanPredicted, *b.ObservedRate, w)
		}
	}
}

func TestSeniorityAndEmail(t *testing.T) {
	titles := map[string]string{
		"市场总监": SeniorityDirector, "IT总监": SeniorityDirector, "总经理": SeniorityExecutive, "CIO": SeniorityExecutive,
		"副总裁": SeniorityExecutive, "VP of Marketing": SeniorityExecutive, "Chief Technology Officer": SeniorityExecutive,
		"Director of IT": SeniorityDirector, "director": SeniorityDirector, "Head of Growth": SeniorityDirector,
		"增长负责人": SeniorityDirector, "市场经理": SeniorityManager, "会员运营主管": SeniorityManager,
		"Marketing Manager": SeniorityManager, "数据分析师": SeniorityIndividual, "市场专员": SeniorityIndividual,
		"Software Engineer": SeniorityIndividual, "软件工程师": SeniorityIndividual, "": "unknown", "学生": "unknown",
		"Sr. Manager, CTO Office": SeniorityExecutive,
	}
	for title, want := range titles {
		if got := Seniority(title); got != want {
			t.Errorf("Seniority(%q) = %s, want %s", title, got, want)
		}
	}
	if lv := level(strings.Repeat("制", 30)); len(lv) != 63 || !utf8.ValidString(lv) {
		t.Errorf("a long level is clipped to %d bytes (valid UTF-8: %v)", len(lv), utf8.ValidString(lv))
	}
	emails := map[string]string{"li@acme.cn": EmailBusiness, "li@QQ.com": EmailFree, "x@163.com": EmailFree,
		"a@gmail.com": EmailFree, "": "unknown", "no-at-sign": "unknown"}
	for e, want := range emails {
		if got := EmailKind(e); got != want {
			t.Errorf("EmailKind(%q) = %s, want %s", e, got, want)
		}
	}
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func TestExtractCountsOnlyTheWindowBeforeTheOutcome(t *testing.T) {
	l := Lead{PersonID: 1, LeadAt: t0, MQLAt: t0.Add(5 * day), OutcomeAt: t0.Add(10 * day), Tier: "a", Industry: "Retail",
		Title: "市场总监", Email: "z@acme.cn", FirstTouchChannel: "webinar", Employees: 600,
		Touches: []Touch{
			{At: t0.Add(-day), Type: "page_view"},                                  // before the lead: not counted
			{At: t0, Type: "form_submit", URL: "https://x.cn/demo?utm_source=a"},   // the lead's own form: a demo request
			{At: t0.Add(day), Type: "webinar_attend", Channel: "webinar"},          // counted
			{At: t0.Add(day), Type: "Webinar Attended", Channel: "webinar"},        // an event's name: counted
			{At: t0.Add(2 * day), Type: "page_view", URL: "https://x.cn/pricing/"}, // pricing, and a page view
			{At: t0.Add(2 * day), Type: "wecom_add", Channel: "wecom"},             // before the MQL: the buyer's
			{At: t0.Add(6 * day), Type: "wecom_add", Channel: "wecom"},             // after the MQL: the SDR's
			{At: t0.Add(6 * day), Type: "call", Channel: "outbound"},               // sales: never
			{At: t0.Add(6 * day), Type: "meeting"},                                 // sales: never
			{At: t0.Add(6 * day), Type: "page_view", Channel: "outbound"},          // outbound channel: never
			{At: t0.Add(7 * day), Type: "product_viewed"},                          // another tracked action
		}}
	window := 14 * day
	got := Extract(l, t0.Add(100*day), window)
	var want Raw
	want.Categories = [7]string{"retail", "500-999", "A", "unknown", SeniorityDirector, EmailBusiness, "webinar"}
	want.Counts[bDemoRequest] = 1
	want.Counts[bFormSubmit] = 1
	want.Counts[bWebinarAttend] = 2
	want.Counts[bPricingView] = 1
	want.Counts[bPageView] = 1
	want.Counts[bWeComAdd] = 1
	want.Counts[bOtherAction] = 1
	want.Counts[bActiveDays] = 4 // days 0, 1, 2, 7
	if got != want {
		t.Fatalf("Extract =\n%+v\nwant\n%+v", got, want)
	}

	// No leakage: touches at or after the outcome change nothing.
	after := l
	after.Touches = append(append([]Touch(nil), l.Touches...),
		Touch{At: t0.Add(10 * day), Type: "webinar_attend"},
		Touch{At: t0.Add(11 * day), Type: "badge_scan"},
		Touch{At: t0.Add(12 * day), Type: "form_submit", URL: "https://x.cn/demo"})
	if g := Extract(after, t0.Add(100*day), window); g != want {
		t.Fatalf("touches after the outcome changed the features:\n%+v", g)
	}
	// Nor do touches after the window, nor (for a lead with no outcome yet)
	// after now.
	open := l
	open.OutcomeAt = time.Time{}
	open.Touches = append(append([]Touch(nil), l.Touches...), Touch{At: t0.Add(14 * day), Type: "badge_scan"})
	if g := Extract(open, t0.Add(100*day), window); g.Counts[bBadgeScan] != 0 {
		t.Fatal("a touch at the window's end was counted")
	}
	if g := Extract(open, t0.Add(day), window); g.Counts[bWebinarAttend] != 0 || g.Counts[bDemoRequest] != 1 {
		t.Fatalf("touches after now were counted: %+v", g.Counts)
	}
}

// synthetic makes n leads with a known signal: webinar attendance and tier
// A raise the odds of reaching SQL (on day 30, after the window).
func synthetic(n int, now time.Time, seed uint64) []Lead {
	r := rand.New(rand.NewPCG(seed, 1))
	var out []Lead
	for i := 0; i < n; i++ {
		leadAt := now.Add(-100*day - time.Duration(i)*time.Hour)
		attended, tierA := r.IntN(2) == 0, r.IntN(3) == 0
		tier := "C"
		if tierA {
			tier = "A"
		}
		l := Lead{PersonID: int64(i + 1), LeadAt: leadAt, Tier: tier, Industry: []string{"retail", "software"}[i%2],
			Title: "Manager", Email: "a@b.cn", FirstTouchChannel: "paid_search",
			Touches: []Touch{{At: leadAt, Type: "form_submit", URL: "https://x.cn/contact"}}}
		if attended {
			l.Touches = append(l.Touches, Touch{At: leadAt.Add(2 * day), Type: "webinar_attend"})
		}
		if r.Float64() < sigmoid(-1.5+2*b2f(attended)+1*b2f(tierA)) {
			l.OutcomeAt = leadAt.Add(30 * day)
		}
		out = append(out, l)
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestTrainFindsTheSignal(t *testing.T) {
	now := t0.Add(400 * day)
	leads := synthetic(1200, now, 1)
	res, err := Train(leads, now, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusReady || res.Model == nil {
		t.Fatalf("status %s: %s", res.Status, res.Message)
	}
	pos := 0
	for _, l := range leads {
		if !l.OutcomeAt.IsZero() {
			pos++
		}
	}
	if res.Examples != 1200 || res.Positives != pos || res.TestExamples != 300 {
		t.Fatalf("examples %d positives %d (want %d) test %d", res.Examples, res.Positives, pos, res.TestExamples)
	}
	// With two binary causes the best possible AUC is about 0.75.
	if res.AUC < 0.68 || res.AUC > 0.85 {
		t.Fatalf("held-out AUC %v", res.AUC)
	}
	total := 0
	for _, b := range res.Calibration {
		total += b.Count
	}
	if total != res.TestExamples || len(res.Calibration) != 10 {
		t.Fatalf("calibration covers %d of %d", total, res.TestExamples)
	}
	coef := map[string]float64{}
	for _, c := range res.Model.Columns {
		coef[c.Field+"="+c.Level] = c.Coef
	}
	if coef["webinar_attendances="] <= 0.3 || coef["tier=A"] <= 0.1 || coef["tier=C"] >= -0.1 {
		t.Fatalf("coefficients %v", coef)
	}
	// Deterministic: the same history gives the same model, bit for bit.
	again, _ := Train(synthetic(1200, now, 1), now, Config{})
	a, _ := json.Marshal(res.Model)
	b, _ := json.Marshal(again.Model)
	if string(a) != string(b) || again.AUC != res.AUC {
		t.Fatal("training twice gave different models")
	}
	// The model's probability for an attendee at a tier A account beats a
	// non-attendee at a tier C account.
	hi := Lead{LeadAt: now.Add(-20 * day), Tier: "A", Touches: []Touch{{At: now.Add(-19 * day), Type: "webinar_attend"}}}
	lo := Lead{LeadAt: now.Add(-20 * day), Tier: "C"}
	if ph, pl := res.Model.Predict(hi, now), res.Model.Predict(lo, now); !(ph > 0.6 && pl < 0.3) {
		t.Fatalf("P(attendee, A) = %v, P(no, C) = %v", ph, pl)
	}
}

func TestTrainWithoutLeakage(t *testing.T) {
	// Touches after each positive's outcome must not change the model.
	now := t0.Add(400 * day)
	base := synthetic(600, now, 2)
	noisy := synthetic(600, now, 2)
	for i := range noisy {
		if !noisy[i].OutcomeAt.IsZero() {
			o := noisy[i].OutcomeAt
			noisy[i].Touches = append(noisy[i].Touches, Touch{At: o, Type: "badge_scan"}, Touch{At: o.Add(day), Type: "webinar_attend"})
		}
	}
	r1, _ := Train(base, now, Config{})
	r2, _ := Train(noisy, now, Config{})
	a, _ := json.Marshal(r1.Model)
	b, _ := json.Marshal(r2.Model)
	if r1.Status != StatusReady || string(a) != string(b) {
		t.Fatalf("post-outcome touches changed the model (%s)", r1.Status)
	}
}

func TestTrainExamplesAndLabels(t *testing.T) {
	now := t0.Add(400 * day)
	cfg := Config{}.WithDefaults()
	leads := []Lead{
		{PersonID: 1, LeadAt: now.Add(-200 * day), OutcomeAt: now.Add(-150 * day)}, // positive
		{PersonID: 2, LeadAt: now.Add(-200 * day), OutcomeAt: now.Add(-50 * day)},  // outcome after the 90-day horizon: negative
		{PersonID: 3, LeadAt: now.Add(-200 * day), OutcomeAt: now.Add(-195 * day)}, // outcome inside the window: left out
		{PersonID: 4, LeadAt: now.Add(-30 * day), OutcomeAt: now.Add(-1 * day)},    // too recent to be settled: left out
		{PersonID: 5, LeadAt: now.Add(-95 * day)},                                  // settled negative
		{PersonID: 6, LeadAt: now.Add(-300 * day)},                                 // oldest: first
	}
	ex := examples(leads, now, cfg)
	var got []string
	for _, e := range ex {
		got = append(got, map[bool]string{true: "+", false: "-"}[e.positive]+string(rune('0'+e.lead.PersonID)))
	}
	if strings.Join(got, " ") != "-6 +1 -2 -5" {
		t.Fatalf("examples %v", got)
	}
}

func TestTrainReportsInsufficientData(t *testing.T) {
	now := t0.Add(400 * day)
	cases := []struct {
		name  string
		leads []Lead
		want  string
	}{
		{"few leads", synthetic(150, now, 3), "only 150 leads have a known outcome"},
		{"few positives", func() []Lead {
			ls := synthetic(400, now, 4)
			n := 0
			for i := range ls {
				if !ls[i].OutcomeAt.IsZero() {
					if n++; n > 10 {
						ls[i].OutcomeAt = time.Time{}
					}
				}
			}
			return ls
		}(), "only 10 of 400 leads with a known outcome reached SQL"},
		{"few negatives", func() []Lead {
			ls := synthetic(400, now, 5)
			for i := range ls {
				if i >= 5 {
					ls[i].OutcomeAt = ls[i].LeadAt.Add(30 * day)
				} else {
					ls[i].OutcomeAt = time.Time{}
				}
			}
			return ls
		}(), "only 5 of 400 leads with a known outcome did not reach SQL"},
		{"none", nil, "only 0 leads"},
	}
	for _, c := range cases {
		res, err := Train(c.leads, now, Config{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != StatusInsufficientData || res.Model != nil || res.AUC != 0 || res.Brier != 0 || !strings.Contains(res.Message, c.want) {
			t.Errorf("%s: %+v, want insufficient data saying %q", c.name, res, c.want)
		}
	}
}

func TestFactorsInWords(t *testing.T) {
	// A hand-made model: webinar attendance (log(1+n), mean 0.2, sd 0.4,
	// coefficient 0.8), tier A and tier C columns, and email opens.
	m := &Model{Format: modelFormat, WindowDays: 14, Intercept: -1, Columns: []Column{
		{Field: fieldTier, Level: "A", Mean: 0.25, SD: 0.5, Coef: 0.5},
		{Field: fieldTier, Level: "C", Mean: 0.5, SD: 0.5, Coef: -0.4},
		{Field: "webinar_attendances", Mean: 0.2, SD: 0.4, Coef: 0.8},
		{Field: "email_opens", Mean: 0.5, SD: 0.5, Coef: 0.3},
		{Field: "demo_requests", Mean: 0.1, SD: 0.3, Coef: 0.6},
	}}
	l := Lead{LeadAt: t0, Tier: "A", Touches: []Touch{{At: t0.Add(day), Type: "webinar_attend"}}}
	got := m.Factors(l, t0.Add(30*day), 3)
	// tier: 0.5·(1−0.25)/0.5 + (−0.4)·(0−0.5)/0.5 = 0.75 + 0.4 = 1.15
	// webinars: 0.8·(ln 2 − 0.2)/0.4 = 0.986…
	// email opens: 0.3·(0 − 0.5)/0.5 = −0.3; demo requests: 0.6·(0−0.1)/0.3 = −0.2
	want := []Factor{
		{"Tier A target account", Raises, 1.15},
		{"Attended a webinar", Raises, 0.99},
		{"Has not opened our emails", Lowers, 0.3},
		{"Has not asked for a demo", Lowers, 0.2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("factors\n%+v\nwant\n%+v", got, want)
	}
	// The probability is the intercept plus the contributions.
	p := m.Predict(l, t0.Add(30*day))
	z := -1 + 1.15 + 0.8*(math.Log(2)-0.2)/0.4 - 0.3 - 0.2
	if !near(p, sigmoid(z), 1e-12) {
		t.Fatalf("probability %v, want %v", p, sigmoid(z))
	}
	// Counts and levels read in words.
	many := Lead{LeadAt: t0, Tier: "", Touches: []Touch{{At: t0, Type: "webinar_attend"}, {At: t0.Add(time.Hour), Type: "webinar_attend"}}}
	fs := m.Factors(many, t0.Add(30*day), 1)
	if len(fs) != 2 || fs[0].Factor != "Attended 2 webinars" || fs[1].Effect != Lowers {
		t.Fatalf("factors %+v", fs)
	}
	top := m.TopFeatures(2)
	if len(top) != 2 || top[0].Feature != "webinar attendances in the first 14 days as a lead" || top[0].Effect != Raises ||
		top[1].Feature != "demo requests in the first 14 days as a lead" {
		t.Fatalf("top features %+v", top)
	}
}

// BenchmarkTrain trains on 20,000 leads (the demo's size): feature
// extraction, the held-out fit and evaluation, and the final fit.
func BenchmarkTrain(b *testing.B) {
	now := t0.Add(4000 * day)
	leads := synthetic(20000, now, 9)
	b.ResetTimer()
	for b.Loop() {
		res, err := Train(leads, now, Config{})
		if err != nil || res.Status != StatusReady {
			b.Fatal(err, res.Message)
		}
	}
}
