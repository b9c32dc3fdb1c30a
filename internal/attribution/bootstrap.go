package attribution

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// maxBootstrapJourneys bounds the work of one replicate (two exponential
// draws per journey).
const maxBootstrapJourneys = 200_000_000

// bootstrap resamples the journeys o.Bootstrap times (a multinomial draw of
// as many journeys as there are, each distinct path-and-outcome weighted by
// its count), recomputes the model and returns the 5th and 95th percentiles
// of each channel's conversion credit. Replicate r draws from its own
// generator seeded by (o.Seed, r), so the result depends on the seed only.
func bootstrap(js *Journeys, m Model, o Options) (p5, p95 []float64, err error) {
	nc := len(js.names)
	var (
		conv, null, value []float64
		credit            func(conv, null, value []float64) ([]float64, error)
	)
	switch m {
	case Markov:
		ps := collapsePaths(js)
		ch, err := buildChain(ps, o.order(), nc)
		if err != nil {
			return nil, nil, err
		}
		conv, null, value = ps.conv, ps.null, ps.value
		credit = func(c, n, v []float64) ([]float64, error) {
			r, err := markovOn(ps, ch, c, n, v, nc, solveAuto)
			if err != nil {
				return nil, err
			}
			return r.conv, nil
		}
	case Shapley, ShapleyRate:
		ss := channelSets(js)
		conv, null, value = ss.conv, ss.null, ss.value
		credit = func(c, n, v []float64) ([]float64, error) {
			total := 0.0
			for _, x := range c {
				total += x
			}
			if m == Shapley {
				return linearUniqueOn(ss, c, nc), nil
			}
			phi, err := rateShapley(ss, c, n, nc, o.Samples, o.Seed)
			if err != nil {
				return nil, err
			}
			cr, _ := scaleCredits(phi, total, 0)
			return cr, nil
		}
	default:
		return nil, nil, fmt.Errorf("bootstrap applies to the data-driven models, not %s", m)
	}
	// Categories: each distinct path (or set) once converting, once not.
	k := len(conv)
	counts := make([]float64, 2*k)
	copy(counts, conv)
	copy(counts[k:], null)
	total := 0.0
	for _, c := range counts {
		total += c
	}
	if total > maxBootstrapJourneys {
		return nil, nil, fmt.Errorf("bootstrap resamples journeys one by one and supports up to %d of them; the data has %.0f", maxBootstrapJourneys, total)
	}
	draws := int(math.Round(total))
	reps := make([][]float64, o.Bootstrap)
	errs := make([]error, o.Bootstrap)
	parallel(o.Bootstrap, func(r int) {
		src := rand.NewPCG(o.Seed, uint64(r)+1)
		got := make([]float64, 2*k)
		multinomial(src, counts, total, draws, got)
		c, n, v := got[:k], got[k:], make([]float64, k)
		for i := range v {
			if conv[i] > 0 {
				v[i] = value[i] / conv[i] * c[i]
			}
		}
		reps[r], errs[r] = credit(c, n, v)
	})
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	p5, p95 = make([]float64, nc), make([]float64, nc)
	col := make([]float64, o.Bootstrap)
	for c := range nc {
		for r := range reps {
			col[r] = reps[r][c]
		}
		slices.Sort(col)
		p5[c], p95[c] = percentile(col, 0.05), percentile(col, 0.95)
	}
	return p5, p95, nil
}

// multinomial draws n items over categories weighted by counts (summing to
// total) into out. It places n sorted uniforms, made from exponential
// spacings, on the cumulative weights: O(n + categories), exact, and with
// no per-category binomial sampler.
func multinomial(src *rand.PCG, counts []float64, total float64, n int, out []float64) {
	replay := *src
	r := rand.New(src)
	sum := 0.0
	for range n + 1 {
		sum += r.ExpFloat64()
	}
	r2 := rand.New(&replay)
	clear(out)
	if n == 0 || total <= 0 {
		return
	}
	acc := r2.ExpFloat64() // S_1; U_(i) = S_i / S_(n+1)
	placed := 0
	bound, cum := 0.0, 0.0
	for k, c := range counts {
		cum += c
		bound = cum / total * sum
		last := k == len(counts)-1
		got := 0
		for placed < n && (acc < bound || last) {
			got++
			placed++
			acc += r2.ExpFloat64()
		}
		out[k] = float64(got)
	}
}

// percentile interpolates linearly between order statistics (the usual
// "type 7" definition) in sorted data.
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	h := q * float64(len(sorted)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}
