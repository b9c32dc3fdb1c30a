package collect

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// AnonymizeIP blanks the part of an address that names a household rather
// than a network: the last octet of IPv4, the last 80 bits of IPv6 (as
// Google Analytics does). Anything that is not an address becomes "".
func AnonymizeIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return ""
	}
	a = a.WithZone("")
	if a.Is4() || a.Is4In6() {
		b := a.Unmap().As4()
		b[3] = 0
		return netip.AddrFrom4(b).String()
	}
	b := a.As16()
	for i := 6; i < 16; i++ {
		b[i] = 0
	}
	return netip.AddrFrom16(b).String()
}

// clientIP is the request's peer, or, when the peer is a trusted proxy, the
// nearest address in X-Forwarded-For that is not one. Without trusted proxies
// the header is ignored: anyone can write it.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	peer = peer.Unmap().WithZone("")
	if len(trusted) == 0 || !inPrefixes(peer, trusted) {
		return peer.String()
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return peer.String() // a garbled chain: trust only what we saw
			}
			a = a.Unmap().WithZone("")
			if !inPrefixes(a, trusted) {
				return a.String()
			}
			peer = a
		}
	}
	return peer.String()
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
