package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// allocated is the bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

const genericHeader = "date,platform,account,campaign,ad_group,keyword,impressions,clicks,cost\n"

func TestWideHeaderIsRefusedWithBoundedMemory(t *testing.T) {
	for name, header := range map[string]string{
		"names":  strings.Repeat("c,", 1_000_000) + "c\n",
		"commas": strings.Repeat(",", 1_000_000) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			data := []byte(header + "2024-05-01,baidu,a,c,g,k,1,1,1\n")
			var costErr, eventErr error
			n := allocated(func() {
				_, costErr = ParseCosts(data)
				_, eventErr = ParseEvents(data, nil)
			})
			for _, err := range []error{costErr, eventErr} {
				if err == nil || !strings.Contains(err.Error(), "line 1 has more than 200 columns; a file may have at most 200") {
					t.Fatalf("err = %v", err)
				}
			}
			// The row is refused after its first 64 KiB; it used to take
			// gigabytes.
			if n > 32<<20 {
				t.Fatalf("allocated %d MiB", n>>20)
			}
		})
	}
}

func TestFileOfCommasIsBounded(t *testing.T) {
	line := strings.Repeat(",", 150) + "\n"
	var b bytes.Buffer
	b.WriteString(genericHeader)
	for b.Len() < 16<<20 {
		b.WriteString(line)
	}
	data := b.Bytes()
	var err error
	n := allocated(func() { _, err = ParseCosts(data) })
	if err == nil || !strings.Contains(err.Error(), "header but no data rows") {
		t.Fatalf("err = %v", err)
	}
	// The blank rows are read and dropped one at a time: what is allocated
	// is a small multiple of the file, never rows of strings per comma.
	if n > 4*uint64(len(data)) {
		t.Fatalf("allocated %d MiB for a %d MiB file", n>>20, len(data)>>20)
	}

	// One line of 16 MiB of commas is cut off at the row limit.
	one := []byte(genericHeader + strings.Repeat("x", 16<<20))
	n = allocated(func() { _, err = ParseCosts(one) })
	if err == nil || !strings.Contains(err.Error(), "line 2: the row is longer than 2048 KiB") {
		t.Fatalf("err = %v", err)
	}
	if n > 64<<20 {
		t.Fatalf("allocated %d MiB for one long row", n>>20)
	}
	// One line of 16 MiB of commas is cut off at the column limit.
	commas := []byte(genericHeader + strings.Repeat(",", 16<<20))
	n = allocated(func() { _, err = ParseCosts(commas) })
	if err == nil || !strings.Contains(err.Error(), "line 2 has more than 200 columns") {
		t.Fatalf("err = %v", err)
	}
	if n > 64<<20 {
		t.Fatalf("allocated %d MiB for one line of commas", n>>20)
	}
}

func TestCellAndCostLimits(t *testing.T) {
	big := strings.Repeat("x", MaxFieldBytes+1)
	_, err := ParseCosts([]byte(genericHeader + "2024-05-01,baidu,a,c,g,k,1,1,1\n2024-05-02,baidu,a,c,g,k,1,1,1," + big + "\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3, column 10: the cell is longer than 64 KiB") {
		t.Fatalf("big cell: %v", err)
	}
	_, err = ParseCosts([]byte(genericHeader + "2024-05-01,baidu,a,c,g,k,1,1,100000000.00\n2024-05-02,baidu,a,c,g,k,1,1,100000000.01\n" +
		"2024-05-03,baidu,a,c,g,k,1,1,60000000\n2024-05-03,baidu,a,c,g,k,1,1,60000000\n"))
	var bad *BadRowsError
	if !errors.As(err, &bad) || bad.Total != 2 || bad.Rows[0].Line != 3 || !strings.Contains(bad.Rows[0].Reason, "over ¥100000000.00") ||
		bad.Rows[1].Line != 5 || !strings.Contains(bad.Rows[1].Reason, "add up to more than ¥100000000.00") {
		t.Fatalf("costs over the limit: %v", err)
	}
	var rows strings.Builder
	rows.WriteString(genericHeader)
	for i := 0; i <= MaxRows; i++ {
		rows.WriteString("2024-05-01,baidu,a,c,g,k,1,1,1\n")
	}
	if _, err := ParseCosts([]byte(rows.String())); err == nil || !strings.Contains(err.Error(), "more than 500000 rows") {
		t.Fatalf("too many rows: %v", err)
	}
}

func TestOneImportAtATime(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		im := &Importer{Store: s, CreateCampaigns: true}
		a := []byte(genericHeader + "2024-05-01,baidu,a,c,g,k,1,1,1\n")
		b := []byte(genericHeader + "2024-05-02,baidu,a,c,g,k,1,1,1\n")
		run, _, err := im.Start(ctx, "costs", "a.csv", bytes.NewReader(a))
		if err != nil || run == nil {
			t.Fatal(run, err)
		}
		// Another import of any kind waits for the first to end.
		for _, kind := range []string{"costs", "events"} {
			_, _, err := im.Start(ctx, kind, "b.csv", bytes.NewReader(b))
			var busy *store.JobBusyError
			if !errors.As(err, &busy) || busy.Holder.ID != run.JobID {
				t.Fatalf("%s import while one runs: %v", kind, err)
			}
		}
		if _, err := run.Do(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := im.Costs(ctx, "b.csv", b); err != nil {
			t.Fatalf("after the first ended: %v", err)
		}
		// A refused file ends its job too, releasing the lock.
		if _, err := im.Costs(ctx, "bad.csv", []byte(genericHeader+"x,baidu,a,c,g,k,1,1,1\n")); !errors.As(err, new(*BadRowsError)) {
			t.Fatal(err)
		}
		jobs, _ := s.ListJobs(ctx, "import", 10)
		if len(jobs) != 3 || jobs[0].State != model.JobFailed || !strings.Contains(jobs[0].Error, "line 2") || jobs[1].State != model.JobSucceeded {
			t.Fatalf("jobs %+v", jobs)
		}
	})
}

func TestChunkedImportResumesAfterAFailure(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		db := rawDB(t, s)
		var b strings.Builder
		b.WriteString(genericHeader)
		for i := 0; i < 9; i++ {
			fmt.Fprintf(&b, "2024-05-%02d,baidu,a,c,g,k,10,1,1.00\n", i+1)
		}
		// Line 11 adds to line 2's key, in a later chunk.
		b.WriteString("2024-05-01,baidu,a,c,g,k,5,1,0.50\n")
		data := []byte(b.String())
		broken := errors.New("the database went away")
		im := &Importer{Store: s, CreateCampaigns: true, ChunkRows: 2}
		im.beforeChunk = func(n int) error {
			if n == 2 {
				j, err := s.ListJobs(ctx, "import.costs", 1)
				if err != nil || j[0].ProgressDone != 4 || j[0].ProgressTotal != 9 || j[0].State != model.JobRunning {
					t.Errorf("progress before the third chunk: %+v, %v", j, err)
				}
				return broken
			}
			return nil
		}
		_, err := im.Costs(ctx, "jan.csv", data)
		if !errors.Is(err, broken) {
			t.Fatalf("err = %v", err)
		}
		var rows int
		db.QueryRow("SELECT COUNT(*) FROM daily_costs").Scan(&rows)
		if rows != 4 {
			t.Fatalf("%d rows stored by two chunks", rows)
		}
		jobs, _ := s.ListJobs(ctx, "import.costs", 1)
		if jobs[0].State != model.JobFailed || !strings.Contains(jobs[0].Error, "import the same file again") {
			t.Fatalf("failed job %+v", jobs[0])
		}
		if list, _ := s.Imports(ctx, 10); len(list) != 0 {
			t.Fatalf("a half import is in the log: %+v", list)
		}

		// The same file again finishes it: every row once, counted once.
		im.beforeChunk = nil
		res, err := im.Costs(ctx, "jan.csv", data)
		if err != nil || res.AlreadyImported || res.RowsNew != 9 || res.RowsSame != 0 || res.RowsRead != 10 {
			t.Fatalf("resumed: %+v, %v", res, err)
		}
		var cost, impressions int64
		db.QueryRow("SELECT COUNT(*), SUM(cost_fen), SUM(impressions) FROM daily_costs").Scan(&rows, &cost, &impressions)
		if rows != 9 || cost != 950 || impressions != 95 {
			t.Fatalf("stored %d rows, %d fen, %d impressions; want 9, 950, 95", rows, cost, impressions)
		}
		jobs, _ = s.ListJobs(ctx, "import.costs", 1)
		if jobs[0].State != model.JobSucceeded || jobs[0].ProgressDone != 9 || !strings.Contains(string(jobs[0].Result), `"rows_new":9`) {
			t.Fatalf("job %+v %s", jobs[0], jobs[0].Result)
		}

		// Events the same way.
		var ev strings.Builder
		ev.WriteString("time,event,campaign,email\n")
		for i := 0; i < 7; i++ {
			fmt.Fprintf(&ev, "2024-05-01 10:%02d,registered,EXPO,p%d@example.cn\n", i, i)
		}
		im.beforeChunk = func(n int) error {
			if n == 1 {
				return broken
			}
			return nil
		}
		if _, err := im.Events(ctx, "expo.csv", []byte(ev.String())); !errors.Is(err, broken) {
			t.Fatalf("events: %v", err)
		}
		if n, _ := s.CountEvents(ctx); n != 4 {
			t.Fatalf("%d events after one chunk of two rows", n)
		}
		im.beforeChunk = nil
		got, err := im.Events(ctx, "expo.csv", []byte(ev.String()))
		if err != nil || got.RowsNew != 7 || got.RowsSame != 0 {
			t.Fatalf("events resumed: %+v, %v", got, err)
		}
		if n, _ := s.CountEvents(ctx); n != 14 {
			t.Fatalf("%d events, want two per row", n)
		}
	})
}

// A job whose attempt failed part way (its node died, the database went
// away) is taken up again, on any node, from its own last chunk: every
// row once.
func TestImportJobResumesFromItsOwnCheckpoint(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var b strings.Builder
		b.WriteString(genericHeader)
		for i := 0; i < 9; i++ {
			fmt.Fprintf(&b, "2024-06-%02d,baidu,a,c,g,k,10,1,1.00\n", i+1)
		}
		data := []byte(b.String())
		broken := errors.New("the node died")
		im := &Importer{Store: s, CreateCampaigns: true, ChunkRows: 2}
		im.beforeChunk = func(n int) error {
			if n == 3 {
				return broken
			}
			return nil
		}
		run, _, err := im.Start(ctx, "costs", "jun.csv", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := run.Import(ctx); !errors.Is(err, broken) {
			t.Fatalf("first attempt: %v", err)
		}
		j, _ := s.GetJob(ctx, run.JobID)
		if j.State != model.JobRunning || j.ProgressDone != 6 || j.Checkpoint == "" {
			t.Fatalf("after the failed attempt: %+v", j)
		}
		// Another attempt, by another importer (another node).
		other := &Importer{Store: s, CreateCampaigns: true, ChunkRows: 2}
		again, err := other.Resume(ctx, run.JobID, "costs", "jun.csv", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		res, err := again.Import(ctx)
		if err != nil || res.RowsNew != 9 || res.RowsRead != 9 {
			t.Fatalf("resumed: %+v, %v", res, err)
		}
		var rows, cost int64
		rawDB(t, s).QueryRow("SELECT COUNT(*), SUM(cost_fen) FROM daily_costs").Scan(&rows, &cost)
		if rows != 9 || cost != 900 {
			t.Fatalf("stored %d rows, %d fen; want 9, 900", rows, cost)
		}
		if j, _ := s.GetJob(ctx, run.JobID); j.State != model.JobSucceeded || j.ProgressDone != 9 {
			t.Fatalf("job %+v", j)
		}
	})
}
