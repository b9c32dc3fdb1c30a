package report

import (
	"fmt"
	"testing"
)

// Titles beyond MaxTitles are one group, before the unknown; ties go by
// key; shares are of all downloaders.
func TestSharesGroupOtherTitles(t *testing.T) {
	m := map[string]int64{"": 3}
	var n int64 = 3
	for i := range MaxTitles + 3 {
		m[fmt.Sprintf("t%02d", i)] = int64(i%2 + 1) // odd ones twice
		n += int64(i%2 + 1)
	}
	got := shares(m, n, MaxTitles)
	if len(got) != MaxTitles+2 {
		t.Fatalf("%d groups, want %d named, other and unknown", len(got), MaxTitles)
	}
	// The odd titles (2 each) first by key, then the even (1 each).
	if got[0].Key != "t01" || got[8].Key != "t17" || got[9].Key != "t00" {
		t.Errorf("order %s %s %s", got[0].Key, got[8].Key, got[9].Key)
	}
	other, unknown := got[MaxTitles], got[MaxTitles+1]
	// Shown: the nine odd titles and t00 to t10; other: t12, t14, t16.
	var rest int64
	for _, s := range got[:MaxTitles] {
		rest += s.Downloaders
	}
	if other.Key != OtherTitles || other.Downloaders != n-3-rest || unknown.Key != "" || unknown.Downloaders != 3 {
		t.Errorf("other %+v unknown %+v", other, unknown)
	}
	if other.Downloaders != 3 {
		t.Errorf("other holds %d, want the three last titles of one each", other.Downloaders)
	}
	if *got[0].Share != *ratio(2, n) || *unknown.Share != *ratio(3, n) {
		t.Errorf("shares %v %v", *got[0].Share, *unknown.Share)
	}
	if s := shares(map[string]int64{}, 0, MaxTitles); len(s) != 0 {
		t.Errorf("no downloaders: %v", s)
	}
}
