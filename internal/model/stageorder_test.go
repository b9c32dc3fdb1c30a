package model

import "testing"

func TestFurtherStage(t *testing.T) {
	order := []Stage{StageVisitor, StageSubscriber, StageLead, StageMQL, StageSQL, StageNurture, StageDisqualified, StageOpportunity, StageCustomer}
	for i, lo := range order {
		for _, hi := range order[i+1:] {
			if got := FurtherStage(lo, hi); got != hi {
				t.Errorf("FurtherStage(%s, %s) = %s, want %s", lo, hi, got, hi)
			}
			if got := FurtherStage(hi, lo); got != hi {
				t.Errorf("FurtherStage(%s, %s) = %s, want %s", hi, lo, got, hi)
			}
		}
		if got := FurtherStage(lo, "bogus"); got != lo {
			t.Errorf("FurtherStage(%s, bogus) = %s", lo, got)
		}
		if got := FurtherStage("bogus", lo); got != lo {
			t.Errorf("FurtherStage(bogus, %s) = %s", lo, got)
		}
	}
	if len(order) != len(LifecycleStages)+2 {
		t.Fatalf("the merge order lists %d stages, the lifecycle has %d plus 2 side states", len(order), len(LifecycleStages))
	}
}
