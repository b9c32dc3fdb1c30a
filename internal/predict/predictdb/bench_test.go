package predictdb_test

import (
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/predict/predictdb"
	"github.com/revloop/revloop/internal/predict/predicttest"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// BenchmarkTrainStore is a whole training run over the store: read 20,000
// leads with their touches, train, record the run and write 20,000
// probabilities.
func BenchmarkTrainStore(b *testing.B) {
	for _, engine := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(engine.name, func(b *testing.B) {
			s := engine.open(b)
			predicttest.Load(b, s, 20000, now)
			b.ResetTimer()
			for b.Loop() {
				m, err := predictdb.Train(ctx, s, now)
				if err != nil || m.Status != model.PredictionReady {
					b.Fatal(err, m.Message)
				}
			}
		})
	}
}
