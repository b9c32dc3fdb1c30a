package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestJobLifecycle(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		j, err := s.CreateJob(ctx, model.Job{Kind: "import.costs", CreatedBy: "user:1", ProgressUnit: "rows"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.StartJob(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.SetJobProgress(ctx, j.ID, 40, 100); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != model.JobRunning || got.ProgressDone != 40 || got.ProgressTotal != 100 || got.StartedAt == nil || got.FinishedAt != nil || got.CreatedBy != "user:1" {
			t.Fatalf("running job %+v", got)
		}
		if err := s.FinishJob(ctx, j.ID, map[string]int{"rows_new": 100}, nil); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetJob(ctx, j.ID)
		if got.State != model.JobSucceeded || string(got.Result) != `{"rows_new":100}` || got.FinishedAt == nil || got.Error != "" {
			t.Fatalf("finished job %+v result %s", got, got.Result)
		}
		// An ended job stays ended.
		if err := s.FinishJob(ctx, j.ID, nil, errors.New("late")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("finishing twice: %v", err)
		}
		if err := s.SetJobProgress(ctx, j.ID, 1, 1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("progress after the end: %v", err)
		}

		f, _ := s.CreateJob(ctx, model.Job{Kind: "import.events", State: model.JobRunning})
		if err := s.FinishJob(ctx, f.ID, nil, errors.New("line 7: bad date")); err != nil {
			t.Fatal(err)
		}
		other, _ := s.CreateJob(ctx, model.Job{Kind: "person.erase"})
		got, _ = s.GetJob(ctx, f.ID)
		if got.State != model.JobFailed || got.Error != "line 7: bad date" || got.Result != nil {
			t.Fatalf("failed job %+v", got)
		}
		list, err := s.ListJobs(ctx, "import", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != f.ID || list[1].ID != j.ID {
			t.Fatalf("import jobs %+v", list)
		}
		all, _ := s.ListJobs(ctx, "", 10)
		if len(all) != 3 || all[0].ID != other.ID {
			t.Fatalf("all jobs %+v", all)
		}
		if _, err := s.GetJob(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing job: %v", err)
		}
	})
}

func TestJobLockIsExclusiveUntilTheJobEnds(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		first, err := s.CreateJob(ctx, model.Job{Kind: "import.costs", LockName: "import", State: model.JobRunning})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateJob(ctx, model.Job{Kind: "import.events", LockName: "import"})
		var busy *store.JobBusyError
		if !errors.As(err, &busy) || !errors.Is(err, store.ErrJobBusy) || busy.Holder.ID != first.ID {
			t.Fatalf("second import while one runs: %v", err)
		}
		// Jobs without the lock, or with another, are not held up.
		if _, err := s.CreateJob(ctx, model.Job{Kind: "person.erase"}); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishJob(ctx, first.ID, nil, errors.New("cut off")); err != nil {
			t.Fatal(err)
		}
		second, err := s.CreateJob(ctx, model.Job{Kind: "import.events", LockName: "import", State: model.JobRunning})
		if err != nil {
			t.Fatalf("import after the first ended: %v", err)
		}

		// A holder that stopped showing signs of life is taken over and
		// marked failed, so that a dead node cannot block imports forever.
		old := time.Now().Add(-store.JobStaleAfter - time.Minute).UTC().Truncate(time.Microsecond)
		if err := s.ExecForTest(ctx, "UPDATE jobs SET updated_at = ? WHERE id = ?", old, second.ID); err != nil {
			t.Fatal(err)
		}
		third, err := s.CreateJob(ctx, model.Job{Kind: "import.costs", LockName: "import"})
		if err != nil {
			t.Fatalf("import after an abandoned one: %v", err)
		}
		got, _ := s.GetJob(ctx, second.ID)
		if got.State != model.JobFailed || !strings.Contains(got.Error, "abandoned") {
			t.Fatalf("abandoned job %+v", got)
		}
		if third.ID == second.ID {
			t.Fatal("same job")
		}
	})
}
