package attribution

import (
	"errors"
	"fmt"
)

// Per-touch shares of the data-driven models. markov and shapley-rate are
// defined per channel, over converting and non-converting journeys
// together; a single touch has no credit of its own under them. To store
// credits per touch (and roll them up below the channel), the fitted model
// gives every channel a weight — markov its removal effect, shapley-rate
// its Shapley value — and each converting journey is split over its
// channels in proportion to their weights, each channel's part evenly over
// its touches; a journey none of whose channels has a positive weight is
// split evenly over its channels (linear-unique). Every journey's shares
// then sum to 1. shapley's channel totals equal linear-unique's, so its
// per-touch shares are linear-unique's and add up to the model exactly.

// ChannelWeights fits a data-driven model (markov or shapley-rate) on all
// journeys, converting and not, and returns each channel's weight by name.
func ChannelWeights(js *Journeys, m Model, o Options) (map[string]float64, error) {
	if err := check(js, m, o); err != nil {
		return nil, err
	}
	var w []float64
	switch m {
	case Markov:
		_, _, re, err := markovCredits(js, o.order())
		if err != nil {
			return nil, err
		}
		w = re
	case ShapleyRate:
		ss := channelSets(js)
		phi, err := rateShapley(ss, ss.conv, ss.null, len(js.names), o.Samples, o.Seed)
		if err != nil {
			return nil, err
		}
		w = phi
	default:
		return nil, fmt.Errorf("model %s has no channel weights: only markov and shapley-rate are fitted", m)
	}
	out := make(map[string]float64, len(w))
	for c, x := range w {
		out[js.names[c]] = x
	}
	return out, nil
}

// TouchShares gives every touch its share of its journey's conversions
// under each model: shares[k][t] for models[k] and touch t, touches
// numbered over all journeys in the order they were added (see
// TouchRange). Touches of journeys without a conversion get 0. markov and
// shapley-rate take their channel weights from o.Weights, or else fit the
// model on js.
func TouchShares(js *Journeys, models []Model, o Options) ([][]float64, error) {
	byID := make([][]float64, len(models))
	for k, m := range models {
		if err := check(js, m, o); err != nil {
			return nil, err
		}
		if m != Markov && m != ShapleyRate {
			continue
		}
		named, ok := o.Weights[m]
		if !ok {
			var err error
			if named, err = ChannelWeights(js, m, o); err != nil {
				return nil, err
			}
		}
		byID[k] = weightsByID(js, named)
	}
	if js.Len() > 0 && len(js.start) != js.Len()+1 {
		return nil, errors.New("journeys are inconsistent")
	}
	direct := directChannels(js, o)
	out := make([][]float64, len(models))
	splitters := make([]*splitter, len(models))
	for k, m := range models {
		out[k] = make([]float64, len(js.ch))
		rule := m
		if m.DataDriven() {
			rule = LinearUnique
		}
		splitters[k] = newSplitter(js, rule, o, direct)
	}
	for j := range js.conv {
		if js.conv[j] == 0 {
			continue
		}
		t0, t1 := int(js.start[j]), int(js.start[j+1])
		for k := range models {
			w := out[k][t0:t1]
			splitters[k].shares(j, w)
			if byID[k] != nil {
				reweight(w, js.ch[t0:t1], byID[k])
			}
		}
	}
	return out, nil
}

// reweight turns linear-unique shares w (1 / (distinct channels · touches
// of the channel)) into shares proportional to the channels' weights; it
// leaves w alone when no channel of the journey weighs more than 0.
func reweight(w []float64, chans []int32, weight []float64) {
	sum := 0.0
	for i, c := range chans {
		if weight[c] > 0 {
			sum += w[i] * weight[c]
		}
	}
	if sum <= 0 {
		return
	}
	for i, c := range chans {
		w[i] = w[i] * max(weight[c], 0) / sum
	}
}

// TouchRange is the range [lo, hi) of journey j's touches in the numbering
// of TouchShares.
func (js *Journeys) TouchRange(j int) (lo, hi int) { return int(js.start[j]), int(js.start[j+1]) }

// weightsByID orders named channel weights by channel id; a channel
// missing from them weighs 0.
func weightsByID(js *Journeys, named map[string]float64) []float64 {
	w := make([]float64, len(js.names))
	for c, name := range js.names {
		w[c] = named[name]
	}
	return w
}
