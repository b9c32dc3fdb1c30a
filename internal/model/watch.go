package model

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// MaxWatchSeconds bounds a watch time: a day.
const MaxWatchSeconds = 24 * 3600

// WatchSeconds is the watch time an event's properties give: watch_seconds,
// else watch_minutes × 60, as a number or a numeric text. A value that is
// negative, over a day or not a number counts as none (0).
func WatchSeconds(props map[string]any) int64 {
	for _, k := range []struct {
		key  string
		mult float64
	}{{"watch_seconds", 1}, {"watch_minutes", 60}} {
		var n float64
		switch v := props[k.key].(type) {
		case float64:
			n = v
		case json.Number:
			f, err := v.Float64()
			if err != nil {
				continue
			}
			n = f
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				continue
			}
			n = f
		default:
			continue
		}
		secs := n * k.mult
		if math.IsNaN(secs) || secs < 0 || secs > MaxWatchSeconds {
			return 0
		}
		return int64(math.Round(secs))
	}
	return 0
}
