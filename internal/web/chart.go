package web

import (
	"math"

	"github.com/revloop/revloop/internal/model"
)

// A chart of the workspace: the page embeds its data as JSON and
// static/app.js draws it with Apache ECharts (served by revloop, no CDN).
// The figures are the page's own, so a chart never disagrees with the
// table beside it.

// chart is one chart's data.
type chart struct {
	ID     string        `json:"id"`
	Kind   string        `json:"kind"`   // line, bar, stacked (bars), funnel, pie
	Format string        `json:"format"` // of the values: money (yuan), int, number, percent, ratio
	X      []string      `json:"x"`      // categories (months, channels...)
	Series []chartSeries `json:"series"`
	// Right is the format of the right axis when a series uses it.
	Right string `json:"right,omitempty"`
}

// chartSeries is one series of a chart. Data has one value per X (nil
// for none); money is in yuan.
type chartSeries struct {
	Name  string     `json:"name"`
	Kind  string     `json:"kind,omitempty"` // bar or line, in a mixed chart
	Axis  int        `json:"axis,omitempty"` // 1: the right axis
	Stack string     `json:"stack,omitempty"`
	Data  []*float64 `json:"data"`
}

// yuan is money for a chart: yuan as a float (charts need no fen).
func yuan(m model.Money) *float64 {
	v := float64(m) / 100
	return &v
}

// point is a value for a chart; NaN and infinities are gaps.
func point(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}
