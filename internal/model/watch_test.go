package model

import (
	"encoding/json"
	"testing"
)

func TestWatchSeconds(t *testing.T) {
	for _, c := range []struct {
		props string
		want  int64
	}{
		{`{}`, 0},
		{`{"watch_seconds": 2730}`, 2730},
		{`{"watch_seconds": "2730"}`, 2730},
		{`{"watch_minutes": 45.5}`, 2730},
		{`{"watch_seconds": 60, "watch_minutes": 45}`, 60},
		{`{"watch_seconds": -5}`, 0},
		{`{"watch_seconds": 90000}`, 0},
		{`{"watch_minutes": "abc"}`, 0},
		{`{"watch_seconds": true, "watch_minutes": 2}`, 120},
	} {
		var props map[string]any
		if err := json.Unmarshal([]byte(c.props), &props); err != nil {
			t.Fatal(err)
		}
		if got := WatchSeconds(props); got != c.want {
			t.Errorf("%s: %d, want %d", c.props, got, c.want)
		}
	}
}
