package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// Policy decides which addresses deliveries may connect to (SPEC §5.4).
// Deny always wins: an address in a Deny range is refused even when an
// Allow range also holds it (whichever is wider). Otherwise loopback,
// link-local (cloud metadata at 169.254.169.254 included), unspecified,
// multicast and broadcast addresses, and 0.0.0.0/8, are refused unless
// Allow covers them. Private ranges are allowed by default: an intranet
// receiver is a legitimate target. IPv4-mapped IPv6 addresses
// (::ffff:127.0.0.1) are judged as the IPv4 address they carry.
type Policy struct {
	Allow []netip.Prefix
	Deny  []netip.Prefix
	// RefusePrivate also refuses private ranges (RFC 1918, fc00::/7, the
	// shared 100.64.0.0/10) that Allow does not hold: see Visitor.
	RefusePrivate bool
}

// Visitor is the policy for the webhook URLs visitors subscribe with: p,
// and private ranges refused unless HERALD_WEBHOOK_ALLOW_CIDRS allows
// them. An admin's intranet receiver is legitimate; an anonymous
// visitor's URL must not make Herald reach into the intranet.
func (p Policy) Visitor() Policy {
	p.RefusePrivate = true
	return p
}

// sharedAddressSpace is 100.64.0.0/10 (RFC 6598, carrier-grade NAT),
// which netip does not count as private.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

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
	Addr netip.Addr
	// Denied is the HERALD_WEBHOOK_DENY_CIDRS range that holds Addr,
	// when that is why; else Reason says which built-in rule refused it,
	// as a noun phrase ("a loopback address").
	Denied netip.Prefix
	Reason string
}

// Why says why the address is refused, after "<address> is": "a
// loopback address", "in 10.0.0.0/8, a range HERALD_WEBHOOK_DENY_CIDRS
// denies".
func (e *RefusedError) Why() string {
	if e.Denied.IsValid() {
		return fmt.Sprintf("in %s, a range HERALD_WEBHOOK_DENY_CIDRS denies", e.Denied)
	}
	return e.Reason
}

// Remedy is what lets deliveries through an address refused by default,
// "allow it with HERALD_WEBHOOK_ALLOW_CIDRS"; "" for a denied one, which
// the admin refused on purpose (and allowing it would not help: deny
// wins).
func (e *RefusedError) Remedy() string {
	if e.Denied.IsValid() {
		return ""
	}
	return "allow it with HERALD_WEBHOOK_ALLOW_CIDRS"
}

func (e *RefusedError) Error() string {
	msg := fmt.Sprintf("refused by egress policy: %s is %s", e.Addr, e.Why())
	if r := e.Remedy(); r != "" {
		msg += " (" + r + ")"
	}
	return msg
}

// Check returns a *RefusedError when addr may not be reached.
func (p Policy) Check(addr netip.Addr) error {
	addr = addr.Unmap().WithZone("")
	for _, pr := range p.Deny {
		if pr.Contains(addr) {
			return &RefusedError{Addr: addr, Denied: pr}
		}
	}
	for _, pr := range p.Allow {
		if pr.Contains(addr) {
			return nil
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
		return &RefusedError{Addr: addr, Reason: "an address in 0.0.0.0/8 (“this network”)"}
	case p.RefusePrivate && (addr.IsPrivate() || sharedAddressSpace.Contains(addr)):
		return &RefusedError{Addr: addr, Reason: "a private address"}
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
//
//	127.0.0.1 is a loopback address.
//	localhost resolves to 127.0.0.1, a loopback address.
//	intranet.example resolves to 10.1.2.3, which is in 10.0.0.0/8, a range HERALD_WEBHOOK_DENY_CIDRS denies.
func (p Policy) Warning(ctx context.Context, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		var refused *RefusedError
		if errors.As(p.Check(a), &refused) {
			return warningSentence(fmt.Sprintf("%s is %s", refused.Addr, refused.Why()), refused)
		}
		return ""
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Sprintf("%s does not resolve from this server right now; deliveries will fail until it does.", host)
	}
	for _, a := range addrs {
		var refused *RefusedError
		if errors.As(p.Check(a), &refused) {
			why := refused.Why()
			if refused.Denied.IsValid() {
				why = "which is " + why
			}
			return warningSentence(fmt.Sprintf("%s resolves to %s, %s", host, refused.Addr, why), refused)
		}
	}
	return ""
}

func warningSentence(fact string, refused *RefusedError) string {
	msg := "Deliveries to this URL will fail: " + fact + "."
	if r := refused.Remedy(); r != "" {
		msg += " To send them, " + r + "."
	}
	return msg
}

// Refusal is, for a visitor's webhook form, why deliveries to raw would
// be refused: its host resolves to no address, or to one p refuses (every
// address is checked, since any may be the one connected to). It returns
// "" when deliveries may go. The sentence names the address, never the
// settings that would allow it: that is the admin's business.
func (p Policy) Refusal(ctx context.Context, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "Enter a URL such as https://example.com/hooks/status."
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host); err != nil || len(addrs) == 0 {
		return fmt.Sprintf("%s does not resolve to an address from this server: check the URL.", host)
	}
	for _, a := range addrs {
		var refused *RefusedError
		if errors.As(p.Check(a), &refused) {
			if refused.Denied.IsValid() {
				return fmt.Sprintf("This page does not send to %s: use a receiver on another address.", refused.Addr)
			}
			return fmt.Sprintf("This page does not send to %s, %s: use a receiver on a public address.", refused.Addr, refused.Reason)
		}
	}
	return ""
}
