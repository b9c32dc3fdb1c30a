package attribution

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// The shapley model's game, v(S) = conversions of journeys whose channel set
// is inside S, is a sum of unanimity games (one per journey), so its Shapley
// value is exactly 1/|T| of each journey's conversions to each of its |T|
// distinct channels: linear-unique at the channel level, for any number of
// channels, in one pass. shapley-rate's game is a ratio and has no such
// shortcut; it is computed over all 2^n channel sets below.

// setSet is the journeys merged by their set of distinct channels.
type setSet struct {
	start             []int32 // set k is ch[start[k]:start[k+1]], sorted
	ch                []int32
	conv, null, value []float64
}

func (ss *setSet) len() int { return len(ss.conv) }

func channelSets(js *Journeys) *setSet {
	ss := &setSet{start: []int32{0}}
	index := map[string]int32{}
	var key []byte
	var buf []int32
	for j := range js.conv {
		if js.conv[j] == 0 && js.null[j] == 0 {
			continue
		}
		buf = append(buf[:0], js.ch[js.start[j]:js.start[j+1]]...)
		slices.Sort(buf)
		buf = slices.Compact(buf)
		key = key[:0]
		for _, c := range buf {
			key = binary.LittleEndian.AppendUint32(key, uint32(c))
		}
		k, ok := index[string(key)]
		if !ok {
			k = int32(ss.len())
			index[string(key)] = k
			ss.ch = append(ss.ch, buf...)
			ss.start = append(ss.start, int32(len(ss.ch)))
			ss.conv = append(ss.conv, 0)
			ss.null = append(ss.null, 0)
			ss.value = append(ss.value, 0)
		}
		ss.conv[k] += js.conv[j]
		ss.null[k] += js.null[j]
		ss.value[k] += js.value[j]
	}
	return ss
}

// players are the channels that appear in some set, in id order.
func (ss *setSet) players(channels int) []int32 {
	seen := make([]bool, channels)
	for _, c := range ss.ch {
		seen[c] = true
	}
	var p []int32
	for c, ok := range seen {
		if ok {
			p = append(p, int32(c))
		}
	}
	return p
}

// linearUniqueOn is the shapley model's credit over merged sets.
func linearUniqueOn(ss *setSet, conv []float64, channels int) []float64 {
	out := make([]float64, channels)
	for k := range ss.len() {
		set := ss.ch[ss.start[k]:ss.start[k+1]]
		for _, c := range set {
			out[c] += conv[k] / float64(len(set))
		}
	}
	return out
}

// rateShapley returns φ per channel id of v(S) = conversion rate of the
// journeys whose channel set is inside S (v(∅) = 0, and 0 when no journey
// fits). Exact over all 2^n sets unless samples > 0, then the mean over
// that many random orders of the players.
func rateShapley(ss *setSet, conv, null []float64, channels, samples int, seed uint64) ([]float64, error) {
	players := ss.players(channels)
	n := len(players)
	phi := make([]float64, channels)
	if n == 0 {
		return phi, nil
	}
	if samples > 0 {
		return rateShapleySampled(ss, conv, null, players, phi, samples, seed), nil
	}
	if n > MaxExactShapleyChannels {
		return nil, fmt.Errorf("shapley-rate is exact up to %d channels and the data has %d; ask for a sampled estimate with --samples N --seed S",
			MaxExactShapleyChannels, n)
	}
	bit := make([]uint32, channels)
	for i, c := range players {
		bit[c] = 1 << i
	}
	size := 1 << n
	cv := make([]float64, size)
	tot := make([]float64, size)
	for k := range ss.len() {
		var m uint32
		for _, c := range ss.ch[ss.start[k]:ss.start[k+1]] {
			m |= bit[c]
		}
		cv[m] += conv[k]
		tot[m] += conv[k] + null[k]
	}
	// Sum over subsets (zeta transform): cv[S] = Σ_{T ⊆ S} cv[T].
	for i := range n {
		b := 1 << i
		for m := range size {
			if m&b != 0 {
				cv[m] += cv[m^b]
				tot[m] += tot[m^b]
			}
		}
	}
	v := cv
	for m := range size {
		if tot[m] > 0 {
			v[m] = cv[m] / tot[m]
		} else {
			v[m] = 0
		}
	}
	// weight[s] = s!(n−s−1)!/n!, the chance that a player joins right
	// after a given set of s others.
	weight := make([]float64, n)
	for s := range n {
		weight[s] = 1 / (float64(n) * binomial(n-1, s))
	}
	local := make([]float64, n)
	for m := range size {
		w := weight[min(bits.OnesCount32(uint32(m)), n-1)]
		vm := v[m]
		for i := range n {
			if m&(1<<i) == 0 {
				local[i] += w * (v[m|1<<i] - vm)
			}
		}
	}
	for i, c := range players {
		phi[c] = local[i]
	}
	return phi, nil
}

func binomial(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}

// rateShapleySampled averages marginal contributions over random orders.
// A set's journeys join the coalition when its last channel does, so one
// order costs one pass over the sets.
func rateShapleySampled(ss *setSet, conv, null []float64, players []int32, phi []float64, samples int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0x5eed5a3b1e))
	n := len(players)
	order := slices.Clone(players)
	pos := make([]int, len(phi))
	bc := make([]float64, n)
	bt := make([]float64, n)
	for range samples {
		rng.Shuffle(n, func(a, b int) { order[a], order[b] = order[b], order[a] })
		for i, c := range order {
			pos[c] = i
		}
		clear(bc)
		clear(bt)
		for k := range ss.len() {
			at := 0
			for _, c := range ss.ch[ss.start[k]:ss.start[k+1]] {
				at = max(at, pos[c])
			}
			bc[at] += conv[k]
			bt[at] += conv[k] + null[k]
		}
		var cc, ct, prev float64
		for i, c := range order {
			cc += bc[i]
			ct += bt[i]
			v := 0.0
			if ct > 0 {
				v = cc / ct
			}
			phi[c] += v - prev
			prev = v
		}
	}
	for c := range phi {
		phi[c] /= float64(samples)
	}
	return phi
}

// scaleCredits turns weights into credits that sum to the totals.
func scaleCredits(weight []float64, totalConv, totalValue float64) (conv, value []float64) {
	conv = make([]float64, len(weight))
	value = make([]float64, len(weight))
	sum := 0.0
	for _, w := range weight {
		sum += w
	}
	if sum == 0 {
		return conv, value
	}
	for c, w := range weight {
		conv[c] = w / sum * totalConv
		value[c] = w / sum * totalValue
	}
	return conv, value
}

func shapleyRateCredits(js *Journeys, o Options) (conv, value []float64, err error) {
	ss := channelSets(js)
	phi, err := rateShapley(ss, ss.conv, ss.null, len(js.names), o.Samples, o.Seed)
	if err != nil {
		return nil, nil, err
	}
	tc, tv := js.totals()
	conv, value = scaleCredits(phi, tc, tv)
	return conv, value, nil
}
