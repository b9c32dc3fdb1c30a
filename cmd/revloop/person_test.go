package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

func TestPersonEraseAndExportOnBothEngines(t *testing.T) {
	onBothEngines(t, func(t *testing.T, dsn string) {
		env := map[string]string{"REVLOOP_DB": dsn}
		if r := revloop(t, "", env, "migrate"); r.code != 0 {
			t.Fatalf("migrate: %+v", r)
		}
		s, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		now := time.Now().UTC()
		err = s.Load(context.Background(), func(l store.Loader) error {
			if err := l.Insert("persons", []string{"id", "stage", "email", "first_seen_at", "created_at"}, [][]any{{int64(1), "lead", "li@acme.cn", now, now}}); err != nil {
				return err
			}
			return l.Insert("identities", []string{"type", "value", "person_id", "created_at"}, [][]any{{"email", "li@acme.cn", int64(1), now}, {"anonymous_id", "a-1", int64(1), now}})
		})
		if err != nil {
			t.Fatal(err)
		}
		r := revloop(t, "", env, "person", "export", "1")
		if r.code != 0 || !strings.Contains(r.stdout, `"li@acme.cn"`) || !json.Valid([]byte(r.stdout)) {
			t.Fatalf("export: %+v", r)
		}
		r = revloop(t, "", env, "person", "erase", "--by", "dpo@example.cn", "1")
		var out struct {
			JobID   int64                `json:"job_id"`
			Receipt model.ErasureReceipt `json:"receipt"`
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || out.Receipt.Removed["identities"] != 2 || out.Receipt.Removed["persons"] != 1 ||
			out.Receipt.Actor != "cli: dpo@example.cn" || out.Receipt.Suppressed != 2 {
			t.Fatalf("erase: %+v", r)
		}
		j, err := s.GetJob(context.Background(), out.JobID)
		if err != nil || j.Kind != "person.erase" || j.State != "succeeded" || !strings.Contains(string(j.Result), `"identities":2`) {
			t.Fatalf("job %+v %v", j, err)
		}
		for _, bad := range [][]string{{"person", "erase", "1"}, {"person", "export", "1"}} {
			if r := revloop(t, "", env, bad...); r.code == 0 || !strings.Contains(r.stderr, "no person 1") {
				t.Errorf("%v after erasure: %+v", bad, r)
			}
		}
		for _, bad := range [][]string{{"person", "erase"}, {"person", "erase", "x"}, {"person", "erase", "1", "2"}} {
			if r := revloop(t, "", env, bad...); r.code == 0 || r.stderr == "" {
				t.Errorf("%v: %+v", bad, r)
			}
		}
	})
}
