package attribution

import (
	"math"
	"strings"
	"testing"
)

// FuzzReadPaths feeds hostile path files: the reader must refuse them
// cleanly or produce journeys every path model can credit in full.
func FuzzReadPaths(f *testing.F) {
	f.Add("path,total_conversions,total_conversion_value,total_null\nA > B,1,10,2\nB,0,,3\n")
	f.Add("path;total_conversions\n\"A;x\" > B;1,5\n")
	f.Add("\ufeffPATH,Total_Conversions\n a >  >b ,1\n")
	f.Add("path,total_conversions\nA>A>A,1e308\nB,1e308\n")
	f.Fuzz(func(t *testing.T, in string) {
		js, err := ReadPaths(strings.NewReader(in), ">")
		if err != nil {
			return
		}
		for _, m := range []Model{Linear, Position, Markov, Shapley} {
			r, err := Attribute(js, m, Options{})
			if err != nil {
				continue
			}
			sum := 0.0
			for _, c := range r.Channels {
				sum += c.Conversions
			}
			if math.IsInf(r.TotalConversions, 0) || r.TotalConversions > 1e300 {
				continue
			}
			if math.Abs(sum-r.TotalConversions) > 1e-6*math.Max(1, r.TotalConversions) {
				t.Fatalf("%s: credits %v of %v", m, sum, r.TotalConversions)
			}
		}
	})
}
