package transport

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hoist-dev/hoist/hosts"
)

// Transport is an http.RoundTripper for registry traffic. It keeps one stack
// per host (see the package documentation), built from that host's certs.d
// directory the first time a request goes there, and kept for the life of
// the Transport: connections, the client certificate that worked and the
// scheme that worked are all remembered per host.
//
// A Transport is safe for concurrent use. Like http.Transport, it always
// closes the request body and never modifies the caller's request.
type Transport struct {
	opts options

	mu    sync.Mutex
	hosts map[string]*hostStack
}

type hostStack struct {
	once   sync.Once
	rt     http.RoundTripper
	bases  []*http.Transport
	scheme *schemeSelector
	err    error
}

// New returns a Transport with the given options.
func New(opts ...Option) *Transport {
	o := defaults()
	for _, f := range opts {
		f(&o)
	}
	return &Transport{opts: o, hosts: map[string]*hostStack{}}
}

// RoundTrip sends req through the stack of req.URL.Host. A broken certs.d
// directory for that host fails every request to it, with an error naming
// the files.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	h, err := t.stack(req.URL.Host)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return h.RoundTrip(req)
}

// CloseIdleConnections closes idle connections to every host.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range t.hosts {
		for _, b := range h.bases {
			b.CloseIdleConnections()
		}
	}
}

// PlainHTTPAllowed reports whether the host policy lets hoist speak plain
// http to host (insecure by configuration, or loopback).
func (t *Transport) PlainHTTPAllowed(host string) bool {
	return t.opts.hosts.PlainHTTPAllowed(host)
}

// Scheme returns the scheme host has been seen to answer on, "https" or
// "http" (the fallback for loopback and insecure hosts), or "" when no
// request has shown it yet. A caller may keep it for the next process
// (see AssumePlainHTTP).
func (t *Transport) Scheme(host string) string {
	t.mu.Lock()
	_, used := t.hosts[host]
	t.mu.Unlock()
	if !used {
		return "" // no request went there: nothing to build a stack for
	}
	if h := t.host(host); h.scheme != nil {
		return h.scheme.scheme()
	}
	return ""
}

// AssumePlainHTTP tells the Transport that host speaks plain http, as a
// caller may know from an earlier process (Scheme), so that no request
// tries https first. It does nothing where the host policy does not allow
// plain http (see PlainHTTPAllowed) or a request already got an https
// answer; a broken certs.d directory for host still fails its requests.
func (t *Transport) AssumePlainHTTP(host string) {
	if h := t.host(host); h.scheme != nil {
		h.scheme.assumeHTTP()
	}
}

func (t *Transport) stack(host string) (http.RoundTripper, error) {
	h := t.host(host)
	return h.rt, h.err
}

// host returns the stack of host, built the first time.
func (t *Transport) host(host string) *hostStack {
	t.mu.Lock()
	h, ok := t.hosts[host]
	if !ok {
		h = &hostStack{}
		t.hosts[host] = h
	}
	t.mu.Unlock()
	h.once.Do(func() { h.rt, h.bases, h.scheme, h.err = t.build(host) })
	return h
}

func (t *Transport) build(host string) (http.RoundTripper, []*http.Transport, *schemeSelector, error) {
	o := &t.opts
	files, err := hosts.LoadTLS(o.hosts.Dirs(), host)
	if err != nil {
		return nil, nil, nil, err
	}
	insecure := o.hosts.IsInsecure(host)
	base := func(cert *tls.Certificate) *http.Transport {
		tc := &tls.Config{
			RootCAs:            files.RootCAs,
			InsecureSkipVerify: insecure, //nolint:gosec // only for hosts the user named with --insecure-registry
			MinVersion:         tls.VersionTLS12,
		}
		if cert != nil {
			tc.Certificates = []tls.Certificate{*cert}
		}
		d := &net.Dialer{Timeout: o.dialTimeout, KeepAlive: 30 * time.Second}
		return &http.Transport{
			Proxy:               o.proxy,
			DialContext:         d.DialContext,
			TLSClientConfig:     tc,
			TLSHandshakeTimeout: o.tlsTimeout,
			ForceAttemptHTTP2:   true,
			MaxIdleConns:        100,
			MaxIdleConnsPerHost: 32,
			IdleConnTimeout:     90 * time.Second,
			// Blobs are content-addressed bytes: a transparent gunzip
			// would break Range resumes and size checks.
			DisableCompression:    true,
			ExpectContinueTimeout: time.Second,
		}
	}
	var bases []*http.Transport
	cf := &certFallback{host: host}
	add := func(name string, cert *tls.Certificate) {
		b := base(cert)
		bases = append(bases, b)
		var rt http.RoundTripper = b
		if o.wrapBase != nil {
			rt = o.wrapBase(host, rt)
		}
		if o.logger != nil {
			rt = &logger{next: rt, log: o.logger, cert: name}
		}
		cf.names = append(cf.names, name)
		cf.rts = append(cf.rts, rt)
	}
	if len(files.ClientCerts) == 0 {
		add("", nil)
	}
	for i := range files.ClientCerts {
		add(files.ClientCerts[i].Name, &files.ClientCerts[i].Certificate)
	}
	var rt http.RoundTripper = cf
	// A certs.d directory for the host says it speaks TLS: no race with
	// plain http (whose answers would also count in certFallback's choice).
	sel := &schemeSelector{host: host, allowHTTP: o.hosts.PlainHTTPAllowed(host), mayRace: files.Dir == "", next: rt}
	rt = sel
	rt = &stallGuard{host: host, timeout: o.stallTimeout, headerTimeout: o.hdrTimeout, minRate: o.minRate, window: o.rateWindow, next: rt}
	rt = &retrier{policy: o.retry, clock: o.clock, notify: o.notify, next: rt}
	rt = &headerSetter{ua: o.userAgent, extra: o.headers, next: rt}
	return rt, bases, sel, nil
}

// NewClient returns an http.Client over rt with hoist's redirect policy
// (CheckRedirect) and no overall timeout.
func NewClient(rt http.RoundTripper) *http.Client {
	return &http.Client{Transport: rt, CheckRedirect: CheckRedirect}
}

// errorf formats an error about host.
func errorf(host, format string, args ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{host}, args...)...)
}
