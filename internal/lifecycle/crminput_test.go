package lifecycle

import (
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
)

func TestCRMTimeDateIsTheEndOfTheTeamsDay(t *testing.T) {
	shanghai, _ := model.LoadTimeZone("Asia/Shanghai")
	berlin, _ := model.LoadTimeZone("Europe/Berlin")
	cases := []struct {
		loc  *time.Location
		in   string
		want string
	}{
		{shanghai, "2026-11-03", "2026-11-03T15:59:59Z"},
		{berlin, "2026-11-03", "2026-11-03T22:59:59Z"},
		{berlin, "2026-07-03", "2026-07-03T21:59:59Z"}, // summer time
		{berlin, "2026-03-29", "2026-03-29T21:59:59Z"}, // the day clocks go forward
		{shanghai, "2026-11-03T08:00:00+08:00", "2026-11-03T00:00:00Z"},
	}
	for _, c := range cases {
		got, err := CRMTime(model.Calendar{Loc: c.loc}, "closed_at", c.in)
		if err != nil {
			t.Fatalf("%s in %s: %v", c.in, c.loc, err)
		}
		if s := got.UTC().Format(time.RFC3339); s != c.want {
			t.Errorf("%s in %s = %s, want %s", c.in, c.loc, s, c.want)
		}
	}
	if _, err := CRMTime(model.Calendar{Loc: shanghai}, "closed_at", "3/11/2026"); err == nil {
		t.Error("a date in another layout was accepted")
	}
}
