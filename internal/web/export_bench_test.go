package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	rtmetrics "runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The exports' memory: a big export is written as it is read, so the heap
// it needs stays about the same however many rows it holds. The figures
// go to docs/benchmarks.md:
//
//	go test ./internal/web/ -run '^$' -bench 'Export' -benchtime 3x -benchmem

// countingWriter is a ResponseWriter that counts what it is sent.
type countingWriter struct {
	h http.Header
	n int64
}

func (d *countingWriter) Header() http.Header         { return d.h }
func (d *countingWriter) WriteHeader(int)             {}
func (d *countingWriter) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }

// peakHeap samples the heap (live objects and garbage not yet swept)
// while fn runs and reports its peak above the heap before, in MiB.
func peakHeap(fn func()) float64 {
	runtime.GC()
	sample := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		rtmetrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	var peak atomic.Uint64
	peak.Store(base)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if v := read(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	fn()
	close(done)
	if v := read(); v > peak.Load() {
		peak.Store(v)
	}
	return float64(peak.Load()-base) / (1 << 20)
}

// BenchmarkExportPersons answers /api/v1/persons?format=csv|xlsx over a
// SQLite database of N persons: every row, read 1,000 at a time.
func BenchmarkExportPersons(b *testing.B) {
	for _, n := range []int{5_000, 20_000, 100_000} {
		s := benchPersons(b, n)
		for _, format := range []string{"xlsx", "csv"} {
			b.Run(fmt.Sprintf("%s-%d", format, n), func(b *testing.B) {
				benchExport(b, s, "/api/v1/persons?from=2025-01-01&to=2030-12-31&lang=zh-CN&format="+format, n)
			})
		}
	}
}

func benchExport(b *testing.B, srv *Server, target string, rows int) {
	key, _, err := srv.auth.CreateAPIKey(ctx, "bench", model.RoleAdmin)
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	b.ReportAllocs()
	var peak float64
	var size int64
	for b.Loop() {
		w := &countingWriter{h: http.Header{}}
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.Header.Set("Authorization", "Bearer "+key)
		peak = max(peak, peakHeap(func() { h.ServeHTTP(w, r) }))
		size = w.n
	}
	if size < int64(rows)*20 {
		b.Fatalf("%d bytes for %d rows", size, rows)
	}
	b.ReportMetric(peak, "peak-heap-MiB")
	b.ReportMetric(float64(size)/(1<<20), "file-MiB")
}

// benchPersons is a server over a SQLite database with n persons who have
// a name, an email, an account, an owner, a score and a lead day.
func benchPersons(b *testing.B, n int) *Server {
	b.Helper()
	s := storetest.SQLite(b)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := s.Load(ctx, func(l store.Loader) error {
		if err := l.Insert("users", []string{"id", "email", "name", "role", "created_at"}, [][]any{{int64(1), "owner@x.cn", "王芳", "sales", start}}); err != nil {
			return err
		}
		var accounts, persons [][]any
		for i := range 200 {
			accounts = append(accounts, []any{int64(i + 1), fmt.Sprintf("客户公司 %03d", i), start})
		}
		stages := []string{"lead", "mql", "sql", "opportunity", "customer"}
		for i := range n {
			seen := start.Add(time.Duration(i) * 5 * time.Minute)
			persons = append(persons, []any{int64(i + 1), int64(i%200 + 1), fmt.Sprintf("客户 %05d", i), fmt.Sprintf("p%05d@example.cn", i),
				stages[i%len(stages)], "B", float64(i%97) + 0.5, int64(1), "paid_search", seen, seen.Add(time.Hour), seen})
		}
		if err := l.Insert("accounts", []string{"id", "name", "created_at"}, accounts); err != nil {
			return err
		}
		return l.Insert("persons", strings.Split("id,account_id,name,email,stage,grade,score,owner_id,first_touch_channel,first_seen_at,lead_at,created_at", ","), persons)
	})
	if err != nil {
		b.Fatal(err)
	}
	a := auth.New(s)
	srv, err := newWith(b, testOpts{Store: s, Auth: a, Logger: slog.New(slog.DiscardHandler), Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// BenchmarkExportWorkbook20k writes a table of 20,000 rows held in memory
// (as a dashboard's) as a workbook: what the writer adds to the rows.
func BenchmarkExportWorkbook20k(b *testing.B) {
	t := &dataTable{ID: "channels", Title: "渠道贡献", Columns: []column{
		{Key: "name", Label: "名称", Kind: kindText}, {Key: "leads", Label: "线索", Kind: kindInt},
		{Key: "spend", Label: "花费", Kind: kindMoney}, {Key: "rate", Label: "转化率", Kind: kindPercent},
		{Key: "roas", Label: "ROAS", Kind: kindRatio}, {Key: "day", Label: "日期", Kind: kindDate},
	}}
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 20_000 {
		rate, roas := float64(i%100)/100, float64(i%700)/100
		t.Rows = append(t.Rows, []cell{{V: fmt.Sprintf("活动 %05d", i)}, {V: int64(i)}, {V: model.Money(i * 1234)}, {V: &rate}, {V: &roas},
			{V: day.AddDate(0, 0, i%365)}})
	}
	b.ReportAllocs()
	var peak float64
	for b.Loop() {
		w := &countingWriter{h: http.Header{}}
		peak = max(peak, peakHeap(func() {
			if err := writeWorkbook(w, "channels", t); err != nil {
				b.Fatal(err)
			}
		}))
	}
	b.ReportMetric(peak, "peak-heap-MiB")
}
