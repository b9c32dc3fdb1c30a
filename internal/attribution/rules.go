package attribution

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// splitter computes the rule-based shares of one journey at a time. Each
// goroutine owns one: the scratch slices make the per-journey work
// allocation-free.
type splitter struct {
	js       *Journeys
	m        Model
	halfLife float64 // nanoseconds
	direct   []bool  // by channel id
	stamp    []int32 // by channel id: last journey that counted it
	count    []int32 // by channel id: touches in the current journey
	cur      int32
}

func newSplitter(js *Journeys, m Model, o Options, direct []bool) *splitter {
	return &splitter{js: js, m: m, halfLife: float64(o.halfLife()), direct: direct,
		stamp: make([]int32, len(js.names)), count: make([]int32, len(js.names))}
}

func directChannels(js *Journeys, o Options) []bool {
	d := make([]bool, len(js.names))
	for c, name := range js.names {
		d[c] = o.isDirect(name)
	}
	return d
}

// shares fills w (len = touches of journey j) with shares summing to 1.
func (s *splitter) shares(j int, w []float64) {
	js := s.js
	n := len(w)
	clear(w)
	if n == 1 {
		w[0] = 1
		return
	}
	lo := int(js.start[j])
	switch s.m {
	case First:
		w[0] = 1
	case Last:
		w[n-1] = 1
	case LastNonDirect:
		i := n - 1
		for ; i >= 0 && s.direct[js.ch[lo+i]]; i-- {
		}
		if i < 0 {
			i = n - 1
		}
		w[i] = 1
	case Linear:
		for i := range w {
			w[i] = 1 / float64(n)
		}
	case LinearUnique, Shapley:
		s.cur++
		d := 0
		for _, c := range js.ch[lo : lo+n] {
			if s.stamp[c] != s.cur {
				s.stamp[c], s.count[c] = s.cur, 0
				d++
			}
			s.count[c]++
		}
		for i, c := range js.ch[lo : lo+n] {
			w[i] = 1 / (float64(d) * float64(s.count[c]))
		}
	case Position:
		endsShape(w, 0.4, 0.4, 0.2)
	case JShaped:
		endsShape(w, 0.2, 0.6, 0.2)
	case InverseJ:
		endsShape(w, 0.6, 0.2, 0.2)
	case TimeDecay:
		// 2^(−Δt/h) with Δt measured to the conversion; dividing every
		// weight by that of the last touch changes nothing after
		// normalising and keeps old touches from underflowing to zero.
		at := js.at[lo : lo+n]
		last := float64(at[n-1])
		sum := 0.0
		for i, t := range at {
			w[i] = math.Exp2(-(last - float64(t)) / s.halfLife)
			sum += w[i]
		}
		for i := range w {
			w[i] /= sum
		}
	case ULead:
		milestoneShares(w, [4]int32{0, js.lc[j], -1, -1}, [4]float64{0.5, 0.5}, 0)
	case WShaped:
		milestoneShares(w, [4]int32{0, js.lc[j], js.oc[j], -1}, [4]float64{0.3, 0.3, 0.3}, 0.1)
	case FullPath:
		milestoneShares(w, [4]int32{0, js.lc[j], js.oc[j], int32(n - 1)}, [4]float64{0.225, 0.225, 0.225, 0.225}, 0.1)
	}
}

// endsShape gives first and last their weights and splits rest over the
// middle touches; with two touches the two end weights are renormalised.
func endsShape(w []float64, first, last, rest float64) {
	n := len(w)
	if n == 2 {
		w[0], w[1] = first/(first+last), last/(first+last)
		return
	}
	w[0], w[n-1] = first, last
	for i := 1; i < n-1; i++ {
		w[i] = rest / float64(n-2)
	}
}

// milestoneShares credits the milestone touches at (index -1: the milestone
// does not exist) with their shares, splits other over the touches holding
// no milestone (or over the milestone touches when there are none) and
// renormalises to 1.
func milestoneShares(w []float64, at [4]int32, share [4]float64, other float64) {
	var held [4]int32
	k := 0
	total := 0.0
	for m, i := range at {
		if i < 0 || share[m] == 0 {
			continue
		}
		w[i] += share[m]
		total += share[m]
		if !containsIdx(held[:k], i) {
			held[k] = i
			k++
		}
	}
	if other > 0 {
		total += other
		if others := len(w) - k; others > 0 {
			for i := range w {
				if !containsIdx(held[:k], int32(i)) {
					w[i] += other / float64(others)
				}
			}
		} else {
			for _, i := range held[:k] {
				w[i] += other / float64(k)
			}
		}
	}
	for i := range w {
		w[i] /= total
	}
}

func containsIdx(s []int32, i int32) bool {
	for _, x := range s {
		if x == i {
			return true
		}
	}
	return false
}

// ruleCredits sums the shares of every converting journey per channel for
// each of the models in one pass over the touches. The journeys are cut
// into a fixed number of chunks, summed in parallel and merged in chunk
// order, so the result does not depend on the machine.
func ruleCredits(js *Journeys, models []Model, o Options) (conv, value [][]float64) {
	nc := len(js.names)
	nm := len(models)
	direct := directChannels(js, o)
	chunks := 16
	if js.Len() < 10000 {
		chunks = 1
	}
	// acc[k][m*nc+c] is chunk k's credit of model m to channel c.
	accConv := make([][]float64, chunks)
	accValue := make([][]float64, chunks)
	parallel(chunks, func(k int) {
		cv, vl := make([]float64, nm*nc), make([]float64, nm*nc)
		splitters := make([]*splitter, nm)
		for i, m := range models {
			splitters[i] = newSplitter(js, m, o, direct)
		}
		w := make([]float64, 0, 64)
		lo, hi := k*js.Len()/chunks, (k+1)*js.Len()/chunks
		for j := lo; j < hi; j++ {
			cj := js.conv[j]
			if cj == 0 {
				continue
			}
			vj := js.value[j]
			t0, t1 := js.start[j], js.start[j+1]
			chans := js.ch[t0:t1]
			for i, m := range models {
				base := i * nc
				// Single-touch models need no share vector.
				one := -1
				switch m {
				case First:
					one = 0
				case Last:
					one = len(chans) - 1
				case LastNonDirect:
					one = len(chans) - 1
					for one >= 0 && direct[chans[one]] {
						one--
					}
					if one < 0 {
						one = len(chans) - 1
					}
				case Linear:
					f := 1 / float64(len(chans))
					for _, c := range chans {
						cv[base+int(c)] += f * cj
						vl[base+int(c)] += f * vj
					}
					continue
				}
				if one >= 0 {
					c := base + int(chans[one])
					cv[c] += cj
					vl[c] += vj
					continue
				}
				w = grow(w, len(chans))
				splitters[i].shares(j, w)
				for t, c := range chans {
					cv[base+int(c)] += w[t] * cj
					vl[base+int(c)] += w[t] * vj
				}
			}
		}
		accConv[k], accValue[k] = cv, vl
	})
	conv, value = make([][]float64, nm), make([][]float64, nm)
	for i := range models {
		conv[i], value[i] = make([]float64, nc), make([]float64, nc)
		for k := range chunks {
			for c := range nc {
				conv[i][c] += accConv[k][i*nc+c]
				value[i][c] += accValue[k][i*nc+c]
			}
		}
	}
	return conv, value
}

// parallel runs f(0..n-1) on up to GOMAXPROCS goroutines.
func parallel(n int, f func(k int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for k := range n {
			f(k)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= n {
					return
				}
				f(k)
			}
		}()
	}
	wg.Wait()
}

func grow(w []float64, n int) []float64 {
	if cap(w) < n {
		return make([]float64, n, 2*n)
	}
	return w[:n]
}
