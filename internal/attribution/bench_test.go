package attribution

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The benchmark data is generated deterministically: 12 channels with
// different pulls, path lengths 1 to 12 heavy on the short ones (about
// 40% one touch, mean about 2.5), per-row conversion and null counts.

var benchChannels = []string{"Search", "Paid Search", "Email", "Direct", "Social", "Display",
	"Referral", "Events", "Webinar", "Content", "Partner", "Sales Outreach"}

func benchLength(rng *rand.Rand) int {
	l := 1
	for l < 12 && rng.Float64() < 0.6 {
		l++
	}
	return l
}

// benchPathCSV writes n path rows in ChannelAttribution's layout.
func benchPathCSV(n int) []byte {
	rng := rand.New(rand.NewPCG(2026, 1))
	var b bytes.Buffer
	b.WriteString("path,total_conversions,total_conversion_value,total_null\n")
	for range n {
		l := benchLength(rng)
		bonus := 0
		for i := range l {
			if i > 0 {
				b.WriteString(" > ")
			}
			c := rng.IntN(len(benchChannels))
			if c == 7 || c == 8 { // events and webinars convert better
				bonus++
			}
			b.WriteString(benchChannels[c])
		}
		conv := 0
		if rng.IntN(10) < 2+bonus+l/3 {
			conv = 1 + rng.IntN(3)
		}
		null := rng.IntN(20)
		if conv == 0 && null == 0 {
			null = 1
		}
		b.WriteString(",")
		b.WriteString(strconv.Itoa(conv))
		b.WriteString(",")
		b.WriteString(strconv.Itoa(conv * (1000 + rng.IntN(9000))))
		b.WriteString(",")
		b.WriteString(strconv.Itoa(null))
		b.WriteString("\n")
	}
	return b.Bytes()
}

// benchTouches makes journeys holding n touches in all, with times and
// milestones, about a third of them converting.
func benchTouches(n int) *Journeys {
	rng := rand.New(rand.NewPCG(2026, 2))
	js := NewJourneys()
	for _, c := range benchChannels {
		js.Channel(c)
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	chans := make([]int32, 0, 12)
	times := make([]int64, 0, 12)
	for total := 0; total < n; {
		l := min(benchLength(rng)+rng.IntN(3), n-total)
		total += l
		chans, times = chans[:0], times[:0]
		at := base.Add(time.Duration(rng.IntN(300*24)) * time.Hour)
		for range l {
			chans = append(chans, int32(rng.IntN(len(benchChannels))))
			times = append(times, at.UnixNano())
			at = at.Add(time.Duration(1+rng.IntN(20*24)) * time.Hour)
		}
		last := time.Unix(0, times[l-1])
		first := time.Unix(0, times[0])
		converted := rng.IntN(3) == 0
		var lead, opp, conv time.Time
		if rng.IntN(4) > 0 {
			lead = first.Add(last.Sub(first) / 3)
		}
		if rng.IntN(2) == 0 {
			opp = first.Add(last.Sub(first) * 2 / 3)
		}
		if converted {
			conv = last.Add(time.Duration(rng.IntN(72)) * time.Hour)
		}
		if err := js.AddTimed(chans, times, converted, 1, float64(1000+rng.IntN(90000)), lead, opp, conv); err != nil {
			panic(err)
		}
	}
	return js
}

var (
	benchOnce   sync.Once
	benchCSV    []byte
	benchPaths  *Journeys
	touchesOnce sync.Once
	benchTouch  *Journeys
)

func pathData(b *testing.B) *Journeys {
	benchOnce.Do(func() {
		benchCSV = benchPathCSV(1_000_000)
		js, err := ReadPaths(bytes.NewReader(benchCSV), ">")
		if err != nil {
			panic(err)
		}
		benchPaths = js
	})
	return benchPaths
}

func touchData(b *testing.B) *Journeys {
	touchesOnce.Do(func() { benchTouch = benchTouches(10_000_000) })
	return benchTouch
}

// reportPeak adds the process's peak heap (bytes obtained from the OS) as
// a metric.
func reportPeak(b *testing.B) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/(1<<20), "MB-sys")
}

func BenchmarkReadPaths1M(b *testing.B) {
	pathData(b)
	b.SetBytes(int64(len(benchCSV)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := ReadPaths(bytes.NewReader(benchCSV), ">"); err != nil {
			b.Fatal(err)
		}
	}
	reportPeak(b)
}

func benchRules(b *testing.B, js *Journeys) {
	var models []Model
	for _, m := range Models {
		if m.RuleBased() && (js.Timed() || !m.NeedsTimes()) {
			models = append(models, m)
		}
	}
	b.ReportMetric(float64(len(models)), "models")
	b.ResetTimer()
	for b.Loop() {
		if _, err := AttributeAll(js, models, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	reportPeak(b)
}

// BenchmarkRulesPaths1M runs every rule-based model that path data allows
// (8) on 1M path rows.
func BenchmarkRulesPaths1M(b *testing.B) { benchRules(b, pathData(b)) }

// BenchmarkRulesTouches10M runs all 12 rule-based models on 10M touches.
func BenchmarkRulesTouches10M(b *testing.B) {
	js := touchData(b)
	b.ReportMetric(float64(js.Len()), "journeys")
	benchRules(b, js)
}

func BenchmarkMarkov1M(b *testing.B) {
	js := pathData(b)
	for order := 1; order <= MaxMarkovOrder; order++ {
		b.Run(fmt.Sprintf("order%d", order), func(b *testing.B) {
			for b.Loop() {
				if _, err := Attribute(js, Markov, Options{Order: order}); err != nil {
					b.Fatal(err)
				}
			}
			reportPeak(b)
		})
	}
}

func BenchmarkShapley1M(b *testing.B) {
	js := pathData(b)
	for _, m := range []Model{Shapley, ShapleyRate} {
		b.Run(string(m), func(b *testing.B) {
			for b.Loop() {
				if _, err := Attribute(js, m, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			reportPeak(b)
		})
	}
}

// BenchmarkShapleyRate20 is the exact shapley-rate at its limit: 20
// channels, 2^20 coalitions.
func BenchmarkShapleyRate20(b *testing.B) {
	rng := rand.New(rand.NewPCG(20, 20))
	js := NewJourneys()
	var chans []int32
	for range 200_000 {
		chans = chans[:0]
		for range benchLength(rng) {
			chans = append(chans, js.Channel("C"+strconv.Itoa(rng.IntN(20))))
		}
		js.AddPath(chans, float64(rng.IntN(2)), 0, float64(rng.IntN(5)))
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Attribute(js, ShapleyRate, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarkovBootstrap100(b *testing.B) {
	js := pathData(b)
	for b.Loop() {
		if _, err := Attribute(js, Markov, Options{Bootstrap: 100, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	reportPeak(b)
}
