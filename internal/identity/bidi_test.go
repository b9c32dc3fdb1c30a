package identity

import (
	"testing"

	"github.com/revloop/revloop/internal/model"
)

func TestBidiControlsLeaveTraits(t *testing.T) {
	ev := model.Event{Type: model.EventIdentify, Payload: []byte(`{"traits":{"name\u202e":"\u202eA","list":["\u2066x"],"company":{"name":"\u202bAcme"}},"context":{"traits":{"title":"\u2067CTO"}}}`)}
	m := ParseMessage(&ev)
	if m.IdentifyTraits["name"] != "A" || m.Traits["title"] != "CTO" || m.IdentifyTraits["list"].([]any)[0] != "x" ||
		m.IdentifyTraits["company"].(map[string]any)["name"] != "Acme" {
		t.Errorf("traits %v", m.IdentifyTraits)
	}
}
