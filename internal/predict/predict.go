// Package predict is revloop's predictive lead scoring: from the history of
// persons who became leads it learns how likely a lead is to be accepted by
// sales (to reach SQL, an opportunity or a customer), evaluates that on
// leads it did not learn from, and explains each probability in a
// salesperson's words. It is pure: leads in, a model and figures out; the
// database is someone else's business.
//
// The model is an L2-regularised logistic regression over standardised
// features: account and person traits (industry, size band, ABM tier,
// region, title seniority, business or free mailbox, first-touch channel)
// one-hot encoded, and counts of buyer behaviour in a fixed window after
// the person became a lead.
package predict

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// Config tunes training; zero values take the defaults.
type Config struct {
	// Window is how long after becoming a lead behaviour is counted.
	// Default 14 days.
	Window time.Duration
	// Horizon is what the model predicts: reaching SQL or later within
	// Horizon of becoming a lead. Only persons who became leads at least
	// Horizon ago are examples, so every label is settled. Default 90 days.
	Horizon time.Duration
	// Lambda is the L2 penalty. Default 1.
	Lambda float64
	// TestShare is the share of the latest leads held out for evaluation.
	// Default 0.25.
	TestShare float64
	// MinExamples and MinPerClass are the least data a model is trained
	// on. Defaults 200 and 20.
	MinExamples, MinPerClass int
	// MinLevel is how many training examples a category level needs to get
	// its own column; rarer levels share an "other" column. Default 10.
	MinLevel int
}

// DefaultWindow is the behaviour window when Config.Window is not set.
const DefaultWindow = 14 * 24 * time.Hour

// DefaultHorizon is the outcome horizon when Config.Horizon is not set.
const DefaultHorizon = 90 * 24 * time.Hour

// WithDefaults fills in the defaults of the fields left at zero (or out of
// range).
func (c Config) WithDefaults() Config {
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.Horizon <= 0 {
		c.Horizon = DefaultHorizon
	}
	if c.Horizon < c.Window {
		c.Horizon = c.Window
	}
	if c.Lambda <= 0 || math.IsNaN(c.Lambda) || math.IsInf(c.Lambda, 0) {
		c.Lambda = 1
	}
	if c.TestShare <= 0 || c.TestShare >= 1 || math.IsNaN(c.TestShare) {
		c.TestShare = 0.25
	}
	if c.MinExamples <= 0 {
		c.MinExamples = 200
	}
	if c.MinPerClass <= 0 {
		c.MinPerClass = 20
	}
	if c.MinLevel <= 0 {
		c.MinLevel = 10
	}
	return c
}

// Statuses of a training run.
const (
	StatusReady            = "ready"
	StatusInsufficientData = "insufficient_data"
)

// Column is one input of the model: a behaviour count (Level empty) or
// one level of a category field. Mean and SD standardise it as seen in
// training; Coef is its weight on the standardised value.
type Column struct {
	Field string  `json:"field"`
	Level string  `json:"level,omitempty"`
	Mean  float64 `json:"mean"`
	SD    float64 `json:"sd"`
	Coef  float64 `json:"coef"`
}

// otherLevel is the shared column of rare category levels.
const otherLevel = "(other)"

// Model is a trained predictor, serialisable as JSON.
type Model struct {
	Format      int      `json:"format"`
	WindowDays  float64  `json:"window_days"`
	HorizonDays float64  `json:"horizon_days"`
	Lambda      float64  `json:"lambda"`
	Intercept   float64  `json:"intercept"`
	Columns     []Column `json:"columns"`
}

// modelFormat changes when the meaning of a Model's fields changes.
const modelFormat = 1

// Result is the outcome of one training run.
type Result struct {
	Status        string           `json:"status"`
	Message       string           `json:"message"`
	TrainedAt     time.Time        `json:"trained_at"`
	Examples      int              `json:"examples"`
	Positives     int              `json:"positives"`
	TestExamples  int              `json:"test_examples"`
	TestPositives int              `json:"test_positives"`
	AUC           float64          `json:"auc"`
	Brier         float64          `json:"brier"`
	Calibration   []CalibrationBin `json:"calibration"`
	// Model is the model refit on all examples, which scores persons; nil
	// unless Status is ready.
	Model *Model `json:"-"`
}

// Example is a settled lead with its label.
type example struct {
	lead     *Lead
	raw      Raw
	positive bool
}

// examples picks the leads whose outcome is known as of now: those who
// became leads at least Horizon ago, labelled positive when they reached
// SQL or later within Horizon of becoming leads. Leads who reached SQL
// inside the behaviour window are left out: their window would end early,
// and a short window full of activity is itself a tell-tale the model
// could not have at prediction time. They come in order of lead time
// (person id breaking ties), oldest first.
func examples(leads []Lead, now time.Time, cfg Config) []example {
	cutoff := now.Add(-cfg.Horizon)
	var out []example
	for i := range leads {
		l := &leads[i]
		if l.LeadAt.IsZero() || l.LeadAt.After(cutoff) {
			continue
		}
		if !l.OutcomeAt.IsZero() && l.OutcomeAt.Before(l.LeadAt.Add(cfg.Window)) {
			continue
		}
		pos := !l.OutcomeAt.IsZero() && l.OutcomeAt.Before(l.LeadAt.Add(cfg.Horizon))
		out = append(out, example{lead: l, raw: Extract(*l, now, cfg.Window), positive: pos})
	}
	slices.SortStableFunc(out, func(a, b example) int {
		if c := a.lead.LeadAt.Compare(b.lead.LeadAt); c != 0 {
			return c
		}
		return cmp.Compare(a.lead.PersonID, b.lead.PersonID)
	})
	return out
}

// Train learns a model from leads as of now. The latest TestShare of the
// examples (by lead time) are held out: a model trained on the earlier
// ones is evaluated on them (AUC, Brier score, calibration), then the
// model is refit on all examples to score persons. With too little data
// the result says so and carries no model and no figures.
func Train(leads []Lead, now time.Time, cfg Config) (Result, error) {
	cfg = cfg.WithDefaults()
	res := Result{TrainedAt: now.UTC(), Calibration: []CalibrationBin{}}
	ex := examples(leads, now, cfg)
	res.Examples = len(ex)
	for _, e := range ex {
		if e.positive {
			res.Positives++
		}
	}
	neg := res.Examples - res.Positives
	horizonDays := cfg.Horizon.Hours() / 24
	switch {
	case res.Examples < cfg.MinExamples:
		res.Status = StatusInsufficientData
		res.Message = fmt.Sprintf("only %d leads have a known outcome (became leads at least %.0f days ago); a model needs at least %d", res.Examples, horizonDays, cfg.MinExamples)
		return res, nil
	case res.Positives < cfg.MinPerClass:
		res.Status = StatusInsufficientData
		res.Message = fmt.Sprintf("only %d of %d leads with a known outcome reached SQL or later; a model needs at least %d", res.Positives, res.Examples, cfg.MinPerClass)
		return res, nil
	case neg < cfg.MinPerClass:
		res.Status = StatusInsufficientData
		res.Message = fmt.Sprintf("only %d of %d leads with a known outcome did not reach SQL; a model needs at least %d", neg, res.Examples, cfg.MinPerClass)
		return res, nil
	}
	nTest := int(math.Round(float64(len(ex)) * cfg.TestShare))
	train, test := ex[:len(ex)-nTest], ex[len(ex)-nTest:]
	var testLabels []bool
	for _, e := range test {
		testLabels = append(testLabels, e.positive)
		if e.positive {
			res.TestPositives++
		}
	}
	res.TestExamples = len(test)
	trainPos := 0
	for _, e := range train {
		if e.positive {
			trainPos++
		}
	}
	if res.TestPositives == 0 || res.TestPositives == len(test) || trainPos == 0 || trainPos == len(train) {
		res.Status = StatusInsufficientData
		res.Message = fmt.Sprintf("the earliest %d leads hold %d that reached SQL and the latest %d hold %d; both need some of each outcome to train and evaluate a model",
			len(train), trainPos, len(test), res.TestPositives)
		return res, nil
	}
	held, err := fit(train, cfg)
	if err != nil {
		return res, err
	}
	probs := make([]float64, len(test))
	for i, e := range test {
		probs[i] = held.predictRaw(e.raw)
	}
	if res.AUC, err = AUC(probs, testLabels); err != nil {
		return res, err
	}
	res.Brier = Brier(probs, testLabels)
	res.Calibration = Calibration(probs, testLabels, 10)
	final, err := fit(ex, cfg)
	if err != nil {
		return res, err
	}
	res.Status, res.Model = StatusReady, final
	res.Message = fmt.Sprintf("trained on %d leads (%d reached SQL or later); evaluated on the latest %d, trained without them", res.Examples, res.Positives, res.TestExamples)
	return res, nil
}

// fit builds the columns from the examples and fits the regression.
func fit(ex []example, cfg Config) (*Model, error) {
	m := &Model{Format: modelFormat, WindowDays: cfg.Window.Hours() / 24, HorizonDays: cfg.Horizon.Hours() / 24, Lambda: cfg.Lambda}
	for fi, f := range categoryFields {
		counts := map[string]int{}
		for _, e := range ex {
			counts[e.raw.Categories[fi]]++
		}
		var levels []string
		other := 0
		for lv, c := range counts {
			if c >= cfg.MinLevel {
				levels = append(levels, lv)
			} else {
				other += c
			}
		}
		slices.Sort(levels)
		if other > 0 {
			levels = append(levels, otherLevel)
		}
		for _, lv := range levels {
			m.Columns = append(m.Columns, Column{Field: f, Level: lv})
		}
	}
	for _, k := range behaviourKeys {
		m.Columns = append(m.Columns, Column{Field: k})
	}
	// Standardise; drop columns that do not vary (they carry nothing).
	x := make([][]float64, len(ex))
	for i, e := range ex {
		x[i] = m.values(e.raw)
	}
	keep := m.Columns[:0]
	var keepIdx []int
	for j := range m.Columns {
		mean, sd := meanSD(x, j)
		if sd < 1e-9 {
			continue
		}
		c := m.Columns[j]
		c.Mean, c.SD = mean, sd
		keep = append(keep, c)
		keepIdx = append(keepIdx, j)
	}
	m.Columns = keep
	y := make([]bool, len(ex))
	for i, e := range ex {
		row := make([]float64, len(keepIdx))
		for a, j := range keepIdx {
			row[a] = (x[i][j] - m.Columns[a].Mean) / m.Columns[a].SD
		}
		x[i] = row
		y[i] = e.positive
	}
	if len(m.Columns) == 0 {
		// Nothing varies: the model is the base rate.
		pos := 0
		for _, v := range y {
			if v {
				pos++
			}
		}
		r := math.Min(math.Max(float64(pos)/float64(len(y)), 1e-6), 1-1e-6)
		m.Intercept = math.Log(r / (1 - r))
		return m, nil
	}
	b0, coef, err := FitLogistic(x, y, cfg.Lambda)
	if err != nil {
		return nil, err
	}
	m.Intercept = b0
	for j := range coef {
		m.Columns[j].Coef = coef[j]
	}
	return m, nil
}

func meanSD(x [][]float64, j int) (float64, float64) {
	if len(x) == 0 {
		return 0, 0
	}
	s := 0.0
	for _, r := range x {
		s += r[j]
	}
	mean := s / float64(len(x))
	v := 0.0
	for _, r := range x {
		d := r[j] - mean
		v += d * d
	}
	return mean, math.Sqrt(v / float64(len(x)))
}

// values are a lead's raw column values (before standardisation): 0/1 for
// a category level, log(1+n) for a count. A field's "other" column is 1
// when the lead's level has no column of its own.
func (m *Model) values(r Raw) []float64 {
	out := make([]float64, len(m.Columns))
	var own [len(categoryFields)]bool // the lead's level has its own column
	for j, c := range m.Columns {
		if c.Level == "" {
			if b, ok := behaviourIndex[c.Field]; ok {
				out[j] = countValue(r.Counts[b])
			}
			continue
		}
		if fi, ok := categoryIndex[c.Field]; ok && c.Level != otherLevel && c.Level == r.Categories[fi] {
			out[j], own[fi] = 1, true
		}
	}
	for j, c := range m.Columns {
		if c.Level != otherLevel {
			continue
		}
		if fi, ok := categoryIndex[c.Field]; ok && !own[fi] {
			out[j] = 1
		}
	}
	return out
}

// contributions are each column's share of the logit, relative to the
// average training example: coefficient × standardised deviation.
func (m *Model) contributions(r Raw) []float64 {
	out := m.values(r)
	for j, c := range m.Columns {
		if c.SD > 0 {
			out[j] = c.Coef * (out[j] - c.Mean) / c.SD
		} else {
			out[j] = 0
		}
	}
	return out
}

func (m *Model) predictRaw(r Raw) float64 {
	z := m.Intercept
	for _, c := range m.contributions(r) {
		z += c
	}
	return sigmoid(z)
}

// Predict is the probability that lead l reaches SQL or later, from what
// is known of it at now.
func (m *Model) Predict(l Lead, now time.Time) float64 {
	return m.predictRaw(Extract(l, now, m.Window()))
}

// Window is how long after becoming a lead the model counts behaviour.
func (m *Model) Window() time.Duration {
	return time.Duration(m.WindowDays * float64(24*time.Hour))
}
