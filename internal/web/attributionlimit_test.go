package web

import (
	"net/http"
	"testing"

	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// Each key may start a few computations a minute; the next one is a 429
// with Retry-After, and other keys are not affected.
func TestLiveAttributionRateLimitPerKey(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		e.srv.attribution.Limit = &report.Limiter{Burst: 2, PerMinute: 1}
		for _, lb := range []string{"10", "11"} {
			decodeJSON(t, e.api(t, "/api/v1/attribution?model=linear&lookback="+lb), http.StatusOK, &map[string]any{})
		}
		// The same request again is answered from the cache: free.
		decodeJSON(t, e.api(t, "/api/v1/attribution?model=linear&lookback=10"), http.StatusOK, &map[string]any{})
		res := e.api(t, "/api/v1/attribution?model=linear&lookback=12")
		var ae apiError
		decodeJSON(t, res, http.StatusTooManyRequests, &ae)
		if ra := res.Header.Get("Retry-After"); ra == "" || ra == "0" || ae.Error == "" {
			t.Fatalf("429 without Retry-After (%q) or message %q", ra, ae.Error)
		}
		other := e.marketerKey(t)
		decodeJSON(t, e.send(t, http.MethodGet, "/api/v1/attribution?model=linear&lookback=12", other, "", ""), http.StatusOK, &map[string]any{})
	})
}
