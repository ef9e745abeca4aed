package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// countingProxy is a TCP proxy on loopback that forwards bytes unchanged
// and reads the HTTP/1.1 requests going through it, to count them by kind.
// Requests are parsed from a copy of the client's stream (the bytes are
// forwarded as they arrive, never re-serialised), and answers are copied
// back with io.Copy, which splices between the two sockets, so the proxy
// adds little CPU beside the tools. It is one connection upstream per
// connection accepted, so per-connection shaping in front of it still
// shapes the tool's own connections.
type countingProxy struct {
	ln       net.Listener
	upstream string
	addr     string
	classify func(*http.Request) requestKind
	trace    io.Writer // when set, gets one line per request: method, path and query, kind

	mu     sync.Mutex
	counts requestCounts
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

// startCountingProxy listens on a free loopback port and forwards every
// connection to upstream.
func startCountingProxy(upstream string) (*countingProxy, error) {
	return startCountingProxyOf(upstream, classify)
}

// startCountingProxyOf is startCountingProxy counting requests by kind
// of what kind names (classifyS3 for an S3 endpoint).
func startCountingProxyOf(upstream string, kind func(*http.Request) requestKind) (*countingProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &countingProxy{ln: ln, upstream: upstream, addr: ln.Addr().String(), classify: kind, counts: requestCounts{}, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *countingProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.forward(c)
		}()
	}
}

// track adds or removes a connection from the set close cuts.
func (p *countingProxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *countingProxy) forward(client net.Conn) {
	defer client.Close()
	up, err := net.DialTimeout("tcp", p.upstream, 10*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	p.track(client, true)
	p.track(up, true)
	defer p.track(client, false)
	defer p.track(up, false)
	p.add(kindConnection, 1)

	answers := make(chan struct{})
	go func() {
		defer close(answers)
		_, _ = io.Copy(client, up)
		closeWrite(client)
	}()
	p.readRequests(io.TeeReader(client, up))
	closeWrite(up)
	<-answers
}

// readRequests parses requests from the client's stream (which the tee
// forwards as it is read) until it ends. A stream that stops parsing as
// HTTP is still forwarded to its end, uncounted.
func (p *countingProxy) readRequests(tee io.Reader) {
	br := bufio.NewReaderSize(tee, 64<<10)
	for first := true; ; first = false {
		req, err := http.ReadRequest(br)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				if first {
					// A client that tried TLS on a plain-http port (a
					// probe) opened it with a ClientHello.
					p.add(kindNotHTTP, 1)
				}
				_, _ = io.Copy(io.Discard, br)
			}
			return
		}
		k := p.classify(req)
		p.add(k, 1)
		if p.trace != nil {
			p.mu.Lock()
			fmt.Fprintf(p.trace, "%s %s %s %d\n", req.Method, req.URL.RequestURI(), k, req.ContentLength)
			p.mu.Unlock()
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			_, _ = io.Copy(io.Discard, br)
			return
		}
	}
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

func (p *countingProxy) add(k requestKind, n int) {
	p.mu.Lock()
	p.counts[k] += n
	p.mu.Unlock()
}

// take returns the counts since the last take and starts afresh. It
// first waits (up to 2s) for the connections of the finished run to
// close, so a request parsed just after its answer went out is counted.
func (p *countingProxy) take() requestCounts {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		p.mu.Lock()
		open := len(p.conns)
		p.mu.Unlock()
		if open == 0 {
			break
		}
	}
	return p.takeNow()
}

// mark writes a line to the trace, if there is one.
func (p *countingProxy) mark(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.trace != nil {
		fmt.Fprintln(p.trace, "--", line)
	}
}

// takeNow is take without waiting for connections to close: for clients
// that keep theirs open (a registry's connections to S3).
func (p *countingProxy) takeNow() requestCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.counts
	p.counts = requestCounts{}
	return out
}

// close stops listening, cuts every open connection and waits for the
// forwarding goroutines.
func (p *countingProxy) close() {
	if p == nil {
		return
	}
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
