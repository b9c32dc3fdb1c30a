package attribution

import (
	"errors"
	"fmt"
	"math"
)

// pathSet is the journeys with consecutive repeats of a channel collapsed
// and identical paths merged: what markov reads, and what its bootstrap
// resamples.
type pathSet struct {
	start             []int32 // path p is ch[start[p]:start[p+1]]
	ch                []int32
	conv, null, value []float64
}

func (ps *pathSet) len() int { return len(ps.conv) }

// collapsePaths merges journeys into distinct collapsed paths. Journeys with
// neither a conversion nor a null count are left out. Paths are found again
// through an open-addressing table of path indices keyed by a hash of their
// channels, so merging a million paths allocates nothing per path.
func collapsePaths(js *Journeys) *pathSet {
	ps := &pathSet{start: make([]int32, 1, js.Len()+1), ch: make([]int32, 0, len(js.ch))}
	size := 1024
	for size < 2*js.Len() {
		size *= 2
	}
	slots := make([]int32, size) // path index + 1; 0 is empty
	hashes := make([]uint64, 0, js.Len())
	mask := uint64(size - 1)
	for j := range js.conv {
		if js.conv[j] == 0 && js.null[j] == 0 {
			continue
		}
		// Collapse straight onto the end of ps.ch; drop it again if the
		// path is already known.
		top := len(ps.ch)
		h := uint64(14695981039346656037)
		prev := int32(-1)
		for _, c := range js.ch[js.start[j]:js.start[j+1]] {
			if c == prev {
				continue
			}
			prev = c
			ps.ch = append(ps.ch, c)
			h = (h ^ uint64(c)) * 1099511628211
		}
		h ^= h >> 29
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 32
		path := ps.ch[top:]
		p := int32(-1)
		for i := h & mask; ; i = (i + 1) & mask {
			k := slots[i] - 1
			if k < 0 {
				p = int32(ps.len())
				slots[i] = p + 1
				hashes = append(hashes, h)
				ps.start = append(ps.start, int32(len(ps.ch)))
				ps.conv = append(ps.conv, 0)
				ps.null = append(ps.null, 0)
				ps.value = append(ps.value, 0)
				break
			}
			if hashes[k] == h && slicesEqual(ps.ch[ps.start[k]:ps.start[k+1]], path) {
				p = k
				ps.ch = ps.ch[:top]
				break
			}
		}
		ps.conv[p] += js.conv[j]
		ps.null[p] += js.null[j]
		ps.value[p] += js.value[j]
	}
	return ps
}

func slicesEqual(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// chain is an order-k Markov chain over a path set. State 0 is (start);
// every other state is the last (up to) k channels seen. Edges are the
// observed transitions between states; each state also leads to
// (conversion) and (null).
type chain struct {
	order    int
	tuple    []uint64 // per state: channel ids + 1, 16 bits each, newest lowest
	edgeFrom []int32
	edgeTo   []int32
	pathEdge []int32 // per touch of the path set: the edge that enters it
}

// maxMarkovChannels keeps a state's channels packed in 64 bits.
const maxMarkovChannels = 1<<16 - 2

func buildChain(ps *pathSet, order int, channels int) (*chain, error) {
	if channels > maxMarkovChannels {
		return nil, fmt.Errorf("markov handles at most %d channels, the data has %d", maxMarkovChannels, channels)
	}
	ch := &chain{order: order, tuple: []uint64{0}, pathEdge: make([]int32, len(ps.ch))}
	mask := uint64(1)<<(16*order) - 1
	if order == 4 {
		mask = math.MaxUint64
	}
	states := map[uint64]int32{0: 0}
	// Transitions (state, channel) → edge sit in a dense table for the
	// first states (all of them with a dozen channels) and in a map beyond.
	tableStates := max(1, (1<<23)/max(channels, 1))
	table := make([]int32, 0, min(tableStates, 1<<16)*channels)
	table = appendNone(table, channels)
	trans := map[uint64]int32{} // from<<32 | channel → edge, past the table
	for p := range ps.len() {
		from := int32(0)
		for i := ps.start[p]; i < ps.start[p+1]; i++ {
			c := ps.ch[i]
			var e int32
			ok := false
			inTable := int(from) < tableStates
			if inTable {
				e = table[int(from)*channels+int(c)]
				ok = e >= 0
			} else {
				e, ok = trans[uint64(from)<<32|uint64(c)]
			}
			if !ok {
				key := (ch.tuple[from]<<16 | uint64(c+1)) & mask
				to, ok := states[key]
				if !ok {
					to = int32(len(ch.tuple))
					states[key] = to
					ch.tuple = append(ch.tuple, key)
					if len(ch.tuple) <= tableStates {
						table = appendNone(table, channels)
					}
				}
				e = int32(len(ch.edgeFrom))
				if inTable {
					table[int(from)*channels+int(c)] = e
				} else {
					trans[uint64(from)<<32|uint64(c)] = e
				}
				ch.edgeFrom = append(ch.edgeFrom, from)
				ch.edgeTo = append(ch.edgeTo, to)
			}
			ch.pathEdge[i] = e
			from = ch.edgeTo[e]
		}
	}
	return ch, nil
}

func appendNone(t []int32, n int) []int32 {
	for range n {
		t = append(t, -1)
	}
	return t
}

// contains reports whether state s has channel c among its last k.
func (ch *chain) contains(s int, c int32) bool {
	for t := ch.tuple[s]; t != 0; t >>= 16 {
		if int32(t&0xffff) == c+1 {
			return true
		}
	}
	return false
}

// system is the absorbing chain's transient part in compressed rows:
// x_s = r_s + Σ p_st x_t, x_s = P(reach (conversion) | s).
type system struct {
	row []int32
	col []int32
	p   []float64
	r   []float64
}

// weigh counts transitions with the given per-path weights and turns them
// into probabilities.
func (ch *chain) weigh(ps *pathSet, conv, null []float64) *system {
	n := len(ch.tuple)
	edgeW := make([]float64, len(ch.edgeFrom))
	absConv := make([]float64, n)
	out := make([]float64, n)
	for p := range ps.len() {
		w := conv[p] + null[p]
		if w == 0 {
			continue
		}
		lo, hi := ps.start[p], ps.start[p+1]
		for _, e := range ch.pathEdge[lo:hi] {
			edgeW[e] += w
		}
		last := ch.edgeTo[ch.pathEdge[hi-1]]
		absConv[last] += conv[p]
		out[last] += w // the absorbing step
	}
	for e, w := range edgeW {
		out[ch.edgeFrom[e]] += w
	}
	sys := &system{row: make([]int32, n+1), col: make([]int32, 0, len(edgeW)), p: make([]float64, 0, len(edgeW)), r: make([]float64, n)}
	for _, f := range ch.edgeFrom {
		sys.row[f+1]++
	}
	for s := range n {
		sys.row[s+1] += sys.row[s]
	}
	sys.col = sys.col[:len(edgeW)]
	sys.p = sys.p[:len(edgeW)]
	fill := append([]int32(nil), sys.row[:n]...)
	for e, f := range ch.edgeFrom {
		k := fill[f]
		fill[f]++
		sys.col[k] = ch.edgeTo[e]
		if out[f] > 0 {
			sys.p[k] = edgeW[e] / out[f]
		}
	}
	for s := range n {
		if out[s] > 0 {
			sys.r[s] = absConv[s] / out[s]
		}
	}
	return sys
}

// denseLimit is the largest system solved by Gaussian elimination; larger
// ones (orders 3 and 4) by the bracketing iteration, which is cheaper on
// their sparse rows.
const denseLimit = 400

// errNotConverged is returned when the iteration cannot certify the result.
var errNotConverged = errors.New("markov: the chain solve did not converge")

// solve returns P(reach (conversion) | (start)) with the states in removed
// sent to (null).
func (sys *system) solve(removed []bool, method int) (float64, error) {
	n := len(sys.r)
	live := 0
	for s := range n {
		if removed == nil || !removed[s] {
			live++
		}
	}
	if method == solveDense || (method == solveAuto && live <= denseLimit) {
		return sys.solveDense(removed, live), nil
	}
	return sys.solveBracket(removed)
}

const (
	solveAuto = iota
	solveDense
	solveBracket
)

// solveDense runs Gaussian elimination with partial pivoting on (I − Q)x = r.
func (sys *system) solveDense(removed []bool, live int) float64 {
	n := len(sys.r)
	idx := make([]int, n)
	k := 0
	for s := range n {
		idx[s] = -1
		if removed == nil || !removed[s] {
			idx[s] = k
			k++
		}
	}
	a := make([]float64, live*live)
	b := make([]float64, live)
	for s := range n {
		i := idx[s]
		if i < 0 {
			continue
		}
		a[i*live+i] += 1
		b[i] = sys.r[s]
		for e := sys.row[s]; e < sys.row[s+1]; e++ {
			if j := idx[sys.col[e]]; j >= 0 {
				a[i*live+j] -= sys.p[e]
			}
		}
	}
	for c := range live {
		piv := c
		for i := c + 1; i < live; i++ {
			if math.Abs(a[i*live+c]) > math.Abs(a[piv*live+c]) {
				piv = i
			}
		}
		if piv != c {
			for j := range live {
				a[c*live+j], a[piv*live+j] = a[piv*live+j], a[c*live+j]
			}
			b[c], b[piv] = b[piv], b[c]
		}
		d := a[c*live+c]
		if d == 0 {
			continue // cannot happen for an absorbing chain; keep going safely
		}
		for i := c + 1; i < live; i++ {
			f := a[i*live+c] / d
			if f == 0 {
				continue
			}
			for j := c; j < live; j++ {
				a[i*live+j] -= f * a[c*live+j]
			}
			b[i] -= f * b[c]
		}
	}
	x := make([]float64, live)
	for i := live - 1; i >= 0; i-- {
		s := b[i]
		for j := i + 1; j < live; j++ {
			s -= a[i*live+j] * x[j]
		}
		if a[i*live+i] != 0 {
			x[i] = s / a[i*live+i]
		}
	}
	return x[0]
}

// solveBracket iterates x ← r + Qx (Gauss–Seidel) from below (x = 0) and
// from above (x = 1) at once. Q and r are non-negative and every state can
// reach absorption, so the lower sequence rises and the upper one falls to
// the one solution; it stops when they agree at (start) to 1e-12 relative,
// which certifies the result rather than guessing convergence.
func (sys *system) solveBracket(removed []bool) (float64, error) {
	n := len(sys.r)
	lo := make([]float64, n)
	hi := make([]float64, n)
	for s := range n {
		if removed == nil || !removed[s] {
			hi[s] = 1
		}
	}
	for range 100000 {
		// Later states are mostly deeper in the paths: sweeping them first
		// carries the absorption probabilities backwards in one pass.
		for s := n - 1; s >= 0; s-- {
			if removed != nil && removed[s] {
				continue
			}
			l, h := sys.r[s], sys.r[s]
			for e := sys.row[s]; e < sys.row[s+1]; e++ {
				t := sys.col[e]
				l += sys.p[e] * lo[t]
				h += sys.p[e] * hi[t]
			}
			lo[s], hi[s] = l, min(h, hi[s])
		}
		if hi[0]-lo[0] <= 1e-12*hi[0] {
			return (lo[0] + hi[0]) / 2, nil
		}
	}
	return 0, errNotConverged
}

// markovResult is P, each channel's removal effect and the credits.
type markovResult struct {
	p                  float64
	removal            []float64
	conv, value        []float64
	totalConv, totalVl float64
}

func markovOn(ps *pathSet, ch *chain, conv, null, value []float64, channels int, method int) (*markovResult, error) {
	sys := ch.weigh(ps, conv, null)
	res := &markovResult{removal: make([]float64, channels), conv: make([]float64, channels), value: make([]float64, channels)}
	for p := range conv {
		res.totalConv += conv[p]
		res.totalVl += value[p]
	}
	p, err := sys.solve(nil, method)
	if err != nil {
		return nil, err
	}
	res.p = p
	if p <= 0 {
		return res, nil
	}
	errs := make([]error, channels)
	parallel(channels, func(c int) {
		removed := make([]bool, len(ch.tuple))
		hit := false
		for s := 1; s < len(ch.tuple); s++ {
			removed[s] = ch.contains(s, int32(c))
			hit = hit || removed[s]
		}
		if !hit {
			return // a channel seen only outside these paths
		}
		pc, err := sys.solve(removed, method)
		errs[c] = err
		res.removal[c] = max(0, 1-pc/p)
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sum := 0.0
	for _, re := range res.removal {
		sum += re
	}
	if sum > 0 {
		for c, re := range res.removal {
			res.conv[c] = re / sum * res.totalConv
			res.value[c] = re / sum * res.totalVl
		}
	}
	return res, nil
}

func markovCredits(js *Journeys, order int) (conv, value, removal []float64, err error) {
	ps := collapsePaths(js)
	ch, err := buildChain(ps, order, len(js.names))
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := markovOn(ps, ch, ps.conv, ps.null, ps.value, len(js.names), solveAuto)
	if err != nil {
		return nil, nil, nil, err
	}
	return r.conv, r.value, r.removal, nil
}
