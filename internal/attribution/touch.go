package attribution

import "sort"

// TouchCredit is one touch's share of its journey's conversions and value.
type TouchCredit struct {
	Journey     int // index of the journey, in the order journeys were added
	Touch       int // index of the touch in its journey, in time order
	Ref         int64
	Channel     string
	Keys        Keys
	Conversions float64
	Value       float64
}

// TouchCredits splits every converting journey over its touches, for
// storing credits per touch and rolling them up by campaign, keyword and
// the other Keys.
//
// Rule-based models give each touch its share. The data-driven models are
// defined per channel: shapley's channel totals are linear-unique's, so
// each touch gets its linear-unique share and the touches add up to the
// model exactly; markov and shapley-rate split each journey over its
// channels in proportion to their removal effect or Shapley value (an equal
// split when none is positive) and within a channel evenly over its
// touches, so drill-downs add up to each journey while Attribute holds the
// model's channel totals.
func TouchCredits(js *Journeys, m Model, o Options) ([]TouchCredit, error) {
	if err := check(js, m, o); err != nil {
		return nil, err
	}
	var weight []float64 // by channel, for markov and shapley-rate
	if m == Markov || m == ShapleyRate {
		named, ok := o.Weights[m]
		if !ok {
			var err error
			if named, err = ChannelWeights(js, m, o); err != nil {
				return nil, err
			}
		}
		weight = weightsByID(js, named)
	}
	rule := m
	if m.DataDriven() {
		rule = LinearUnique
	}
	s := newSplitter(js, rule, o, directChannels(js, o))
	var out []TouchCredit
	var w []float64
	for j := range js.conv {
		if js.conv[j] == 0 {
			continue
		}
		t0, t1 := int(js.start[j]), int(js.start[j+1])
		w = grow(w, t1-t0)
		s.shares(j, w)
		if weight != nil {
			reweight(w, js.ch[t0:t1], weight)
		}
		for i, c := range js.ch[t0:t1] {
			tc := TouchCredit{Journey: j, Touch: i, Channel: js.names[c],
				Conversions: w[i] * js.conv[j], Value: w[i] * js.value[j]}
			if js.refs != nil {
				tc.Ref, tc.Keys = js.refs[t0+i], js.keys[t0+i]
			}
			out = append(out, tc)
		}
	}
	return out, nil
}

// Row is a roll-up of touch credits under one key.
type Row struct {
	Key         string
	Conversions float64
	Value       float64
}

// RollUp sums touch credits by key (a channel, a campaign id, ...), sorted
// by conversions, most first, then by key.
func RollUp(credits []TouchCredit, key func(TouchCredit) string) []Row {
	at := map[string]int{}
	var rows []Row
	for _, c := range credits {
		k := key(c)
		i, ok := at[k]
		if !ok {
			i = len(rows)
			at[k] = i
			rows = append(rows, Row{Key: k})
		}
		rows[i].Conversions += c.Conversions
		rows[i].Value += c.Value
	}
	sort.SliceStable(rows, func(a, b int) bool {
		if rows[a].Conversions != rows[b].Conversions {
			return rows[a].Conversions > rows[b].Conversions
		}
		return rows[a].Key < rows[b].Key
	})
	return rows
}
