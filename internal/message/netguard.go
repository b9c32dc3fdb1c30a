package message

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// ErrBlockedAddress is a webhook's address (after DNS resolution, on any
// hop of its redirects) in a range revloop does not call unless an
// administrator allowed it: loopback, private, link-local and the like.
var ErrBlockedAddress = errors.New("address not allowed")

// blockedRanges are refused besides what netip's predicates name.
var blockedRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: may reach an internal IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds an IPv4 address
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
}

// BlockedAddr reports whether ip is one revloop refuses to call by
// default: loopback, private (RFC 1918, IPv6 ULA), link-local,
// unspecified, multicast, CGNAT, IPv4-mapped IPv6 and the reserved
// ranges above.
func BlockedAddr(ip netip.Addr) bool {
	if !ip.IsValid() || ip.Zone() != "" || ip.Is4In6() {
		return true
	}
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range blockedRanges {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// guardedDialer dials only addresses that are not blocked or that lie in
// one of allow. The check runs on the resolved address of every
// connection (net.Dialer.Control), so a host name that resolves to an
// internal address, a redirect to one, or a DNS answer that changes
// between checks is refused all the same.
func guardedDialer(timeout time.Duration, allow []netip.Prefix) *net.Dialer {
	return &net.Dialer{
		Timeout:   timeout,
		KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrBlockedAddress, address)
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrBlockedAddress, address)
			}
			if allowedAddr(ip, allow) {
				return nil
			}
			return fmt.Errorf("%w: %s (an administrator may allow its range in the setting %s)", ErrBlockedAddress, ip, SettingWebhookAllow)
		},
	}
}

func allowedAddr(ip netip.Addr, allow []netip.Prefix) bool {
	for _, p := range allow {
		if p.Contains(ip) || (ip.Is4In6() && p.Contains(ip.Unmap())) {
			return true
		}
	}
	return !BlockedAddr(ip)
}

// dialContext is the guarded dialer's DialContext.
func dialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return d.DialContext
}
