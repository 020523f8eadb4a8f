package notify

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// Policy decides which addresses deliveries may connect to (SPEC §5.4).
// Loopback, link-local (cloud metadata at 169.254.169.254 included),
// unspecified and multicast addresses are refused unless Allow covers
// them; Deny refuses more ranges. Private ranges are allowed by default:
// an intranet receiver is a legitimate target.
type Policy struct {
	Allow []netip.Prefix
	Deny  []netip.Prefix
}

// ParseCIDRs reads a comma- or space-separated list of CIDR ranges; a bare
// address is its own /32 or /128.
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or CIDR range", f)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR range such as 10.0.0.0/8", f)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// RefusedError is a connection the egress policy did not allow.
type RefusedError struct {
	Addr   netip.Addr
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refused by egress policy: %s is %s (allow it with HERALD_WEBHOOK_ALLOW_CIDRS)", e.Addr, e.Reason)
}

// Check returns a *RefusedError when addr may not be reached.
func (p Policy) Check(addr netip.Addr) error {
	addr = addr.Unmap()
	for _, pr := range p.Allow {
		if pr.Contains(addr) {
			return nil
		}
	}
	for _, pr := range p.Deny {
		if pr.Contains(addr) {
			return &RefusedError{Addr: addr, Reason: "in a denied range (" + pr.String() + ")"}
		}
	}
	switch {
	case addr.IsLoopback():
		return &RefusedError{Addr: addr, Reason: "a loopback address"}
	case addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast():
		return &RefusedError{Addr: addr, Reason: "a link-local address"}
	case addr.IsUnspecified():
		return &RefusedError{Addr: addr, Reason: "the unspecified address"}
	case addr.IsMulticast() || addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return &RefusedError{Addr: addr, Reason: "a multicast or broadcast address"}
	case addr.Is4() && addr.As4()[0] == 0:
		return &RefusedError{Addr: addr, Reason: "in 0.0.0.0/8"}
	}
	return nil
}

// control is a net.Dialer Control: it runs after DNS resolution, on the
// very address being connected to, so a name that resolves differently
// the second time (DNS rebinding) cannot slip past.
func (p Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("egress policy: cannot parse %q: %w", address, err)
	}
	return p.Check(ap.Addr())
}

// Warning resolves a URL's host and says why deliveries to it would be
// refused, or returns "" when they would not. It is advice for forms; the
// decision that counts is made at connect time.
func (p Policy) Warning(ctx context.Context, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		if err := p.Check(a); err != nil {
			return "Deliveries to this URL will fail: " + err.Error() + "."
		}
		return ""
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Sprintf("%s does not resolve from this server right now; deliveries will fail until it does.", host)
	}
	for _, a := range addrs {
		if err := p.Check(a); err != nil {
			return fmt.Sprintf("Deliveries to this URL will fail: %s resolves to %s.", host, strings.TrimPrefix(err.Error(), "refused by egress policy: "))
		}
	}
	return ""
}
