package modelstest

import (
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy on 127.0.0.1 in front of a database server, which
// a test can cut (close every connection, refuse new ones) and stall
// (accept connections but forward nothing either way) and then restore:
// what a database outage or a network partition looks like to Herald.
type Proxy struct {
	t      testing.TB
	target string
	addr   string

	mu      sync.Mutex
	state   proxyState
	changed chan struct{} // closed, and replaced, at every change of state
	ln      net.Listener
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
}

type proxyState int

const (
	forwarding proxyState = iota
	stalled
	cut
	closed
)

// NewProxy starts a proxy to target (host:port); it stops when the test
// ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: listen: %v", err)
	}
	p := &Proxy{t: t, target: target, addr: ln.Addr().String(), ln: ln,
		changed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept(ln)
	t.Cleanup(func() {
		p.set(closed)
		p.wg.Wait()
	})
	return p
}

// ProxyPostgres starts a proxy in front of the PostgreSQL server of
// databaseURL and returns it with the URL that reaches the same database
// through it.
func ProxyPostgres(t testing.TB, databaseURL string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatalf("proxy: parse %s: %v", redact(databaseURL), err)
	}
	p := NewProxy(t, u.Host)
	u.Host = p.Addr()
	return p, u.String()
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// Stall keeps every connection, old and new, open but forwards nothing
// until Restore: the database "accepts and never answers".
func (p *Proxy) Stall() { p.set(stalled) }

// Cut closes every connection and refuses new ones until Restore.
func (p *Proxy) Cut() { p.set(cut) }

// Restore forwards again (and listens again after Cut, on the same
// address).
func (p *Proxy) Restore() {
	p.t.Helper()
	p.mu.Lock()
	wasCut := p.state == cut
	p.mu.Unlock()
	if wasCut {
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
		}
		p.mu.Lock()
		p.ln = ln
		p.mu.Unlock()
		p.wg.Add(1)
		go p.accept(ln)
	}
	p.set(forwarding)
}

func (p *Proxy) set(s proxyState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == closed {
		return
	}
	p.state = s
	close(p.changed)
	p.changed = make(chan struct{})
	if s == cut || s == closed {
		if p.ln != nil {
			p.ln.Close()
			p.ln = nil
		}
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

func (p *Proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		client, err := ln.Accept()
		if err != nil {
			return // closed by Cut or at the end of the test
		}
		upstream, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			client.Close()
			continue
		}
		if !p.track(client, upstream) {
			client.Close()
			upstream.Close()
			continue
		}
		p.wg.Add(2)
		go p.pipe(client, upstream)
		go p.pipe(upstream, client)
	}
}

func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == cut || p.state == closed {
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

// pipe copies from src to dst, holding what it read while stalled.
func (p *Proxy) pipe(src, dst net.Conn) {
	defer p.wg.Done()
	defer p.untrack(src, dst)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.gate() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or closed: closing both ends ends the other pipe
		}
	}
}

func (p *Proxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.conns, c)
		c.Close()
	}
}

// gate waits while the proxy is stalled; false means stop (cut, closed).
func (p *Proxy) gate() bool {
	for {
		p.mu.Lock()
		state, changed := p.state, p.changed
		p.mu.Unlock()
		switch state {
		case forwarding:
			return true
		case cut, closed:
			return false
		}
		<-changed
	}
}
