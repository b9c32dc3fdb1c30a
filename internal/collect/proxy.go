package collect

import (
	"net"
	"net/http"
	"net/netip"
)

// FromTrustedProxy reports whether r came straight from one of the
// trusted proxies (SettingTrustedProxies), so that the X-Forwarded-Host
// and X-Forwarded-Proto it set may be believed. Without trusted proxies
// nothing forwarded is believed.
func (c *Collector) FromTrustedProxy(r *http.Request) bool {
	c.loadOnce.Do(func() { c.reloadSettings(r.Context()) })
	st := c.settings.Load()
	if st == nil || len(st.trusted) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return inPrefixes(peer.Unmap().WithZone(""), st.trusted)
}
