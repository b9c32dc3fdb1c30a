package collect

import "net/http"

// ClientIP is the address of the client behind r, believed the way the
// collector believes it: the peer, or, when the peer is one of the
// trusted proxies (SettingTrustedProxies), the nearest forwarded address
// that is not. The sign-in throttle counts by it.
func (c *Collector) ClientIP(r *http.Request) string {
	c.loadOnce.Do(func() { c.reloadSettings(r.Context()) })
	st := c.settings.Load()
	if st == nil {
		return clientIP(r, nil)
	}
	return clientIP(r, st.trusted)
}
