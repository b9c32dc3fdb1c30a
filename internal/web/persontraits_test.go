package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestAPIPersonShowsTraits(t *testing.T) {
	cases := []struct {
		name string
		// The identify messages of user u1, in order.
		traits []string
		want   map[string]any
	}{
		{
			name:   "custom traits, not reserved ones",
			traits: []string{`{"email":"li@acme-data.cn","name":"李雷","plan":"enterprise","employees":250,"vip":true,"tags":["a"]}`},
			want:   map[string]any{"plan": "enterprise", "employees": 250.0, "vip": true},
		},
		{
			name:   "a later identify merges",
			traits: []string{`{"plan":"enterprise","region":"east"}`, `{"plan":"growth","region":null,"行业":"软件"}`},
			want:   map[string]any{"plan": "growth", "行业": "软件"},
		},
		{
			name:   "no traits: an empty object",
			traits: []string{`{"email":"li@acme-data.cn"}`},
			want:   map[string]any{},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, s *store.Store) {
				e := newOneIDEnv(t, s)
				for i, tr := range c.traits {
					e.send(t, model.Event{Type: model.EventIdentify, UserID: "u1"}, i, `{"traits":`+tr+`}`)
				}
				if _, err := process.ProcessPending(ctx, s); err != nil {
					t.Fatal(err)
				}
				var found personJSON
				e.get(t, "/api/v1/persons?identifier=user_id:u1", http.StatusOK, &found)
				// Decoded as the client sees it: traits is an object, never null.
				var raw map[string]json.RawMessage
				e.get(t, fmt.Sprintf("/api/v1/persons/%d", found.ID), http.StatusOK, &raw)
				var got map[string]any
				if err := json.Unmarshal(raw["traits"], &got); err != nil || got == nil {
					t.Fatalf("traits %s: not an object (%v)", raw["traits"], err)
				}
				if !reflect.DeepEqual(got, c.want) {
					t.Fatalf("traits %v, want %v", got, c.want)
				}
				if !reflect.DeepEqual(found.Traits, c.want) {
					t.Fatalf("lookup by identifier: traits %v, want %v", found.Traits, c.want)
				}
			})
		})
	}
}
