package hoist

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/hosts"
	"github.com/hoist-dev/hoist/legacy"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store/remote"
	"github.com/hoist-dev/hoist/transport"
)

// Session is what talking to registries takes, built once: the per-host
// settings (certs.d TLS, insecure hosts), one transport with its connection
// pool, the credential store, one authenticated http.Client per registry
// host (so a copy between two registries uses each host's own credentials,
// and the token a host granted is reused by every request to it) and the
// protocol each registry speaks, detected once.
//
// Its methods open any location string as a store (OpenReader, OpenWriter)
// and do the common jobs in one call (Copy, Pull, Push, Tags, Digest,
// Manifest, Inspect, Delete, Login, ...). A Session is safe for concurrent
// use. Close it to release idle connections.
type Session struct {
	hosts    *hosts.Config
	tr       *transport.Transport
	keychain auth.Keychain
	protocol remote.Protocol
	maxWait  time.Duration
	uploads  string   // WithUploadState
	defaults []Option // call options given to NewSession

	mu        sync.Mutex
	clients   map[string]*http.Client
	blobCache *copy.BlobCache // NewSyncer's
	protos    map[string]remote.Protocol
	detectMu  sync.Mutex // held while a protocol is detected
}

// NewSession returns a session configured by opts: by default credentials
// come from docker's config ($DOCKER_CONFIG or ~/.docker/config.json and
// its credential helpers), TLS settings from the standard certs.d
// directories, and each registry's protocol is detected. Nothing is read
// or dialled until a call needs it.
func NewSession(opts ...Option) (*Session, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	switch o.protocol {
	case "", remote.V1, remote.V2:
	default:
		return nil, optionErrorf("WithProtocol", "%q: use remote.V1 or remote.V2, or leave it out to detect", o.protocol)
	}
	for _, h := range o.insecure {
		if err := hosts.ValidateInsecure(h); err != nil {
			return nil, &OptionError{Option: "WithInsecureRegistries", Err: err}
		}
	}
	s := &Session{
		hosts:    &hosts.Config{Insecure: o.insecure, CertsDirs: o.certsDirs},
		keychain: o.keychain,
		protocol: o.protocol,
		maxWait:  o.maxWait,
		uploads:  o.uploadDir,
	}
	if o.maxWait < 0 {
		return nil, optionErrorf("WithMaxWait", "%s: a wait budget cannot be negative", o.maxWait)
	}
	for _, f := range opts {
		var probe options
		f(&probe)
		if len(probe.sessionSet) == 0 {
			s.defaults = append(s.defaults, f)
		}
	}
	if s.keychain == nil {
		var aopts []auth.Option
		if o.configDir != "" {
			aopts = append(aopts, auth.WithConfigDir(o.configDir))
		}
		s.keychain = auth.NewConfigStore(aopts...)
	}
	topts := []transport.Option{transport.WithHosts(s.hosts)}
	if o.logger != nil {
		topts = append(topts, transport.WithLogger(o.logger))
	}
	if o.maxWait > 0 {
		p := transport.DefaultRetryPolicy()
		p.MaxWait = o.maxWait
		topts = append(topts, transport.WithRetryPolicy(p))
	}
	s.tr = transport.New(append(topts, o.transport...)...)
	return s, nil
}

// UploadSessions returns where pushes to ref's repository keep their
// upload sessions: files under the WithUploadState directory, or nil (in
// memory) without one. It makes the Session a remote.SessionsEnv.
func (s *Session) UploadSessions(ref reference.Reference) remote.UploadSessions {
	if s.uploads == "" {
		return nil
	}
	return remote.NewFileSessions(s.uploads, ref.Registry+"/"+ref.Repository)
}

// DefaultUploadStateDir is where the hoist command keeps upload sessions:
// $XDG_STATE_HOME/hoist/uploads, or ~/.local/state/hoist/uploads; "" when
// neither can be told.
func DefaultUploadStateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "hoist", "uploads")
	}
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return filepath.Join(h, ".local", "state", "hoist", "uploads")
	}
	return ""
}

// bounded gives ctx the session's wait budget for one call, unless it
// already has one.
func (s *Session) bounded(ctx context.Context) context.Context {
	if transport.BudgetFrom(ctx) != nil {
		return ctx
	}
	return transport.WithWaitBudget(ctx, transport.NewWaitBudget(s.maxWait))
}

// Close releases the session's idle connections. The session stays usable.
func (s *Session) Close() error {
	s.tr.CloseIdleConnections()
	return nil
}

// Hosts returns the per-host settings the session was built with.
func (s *Session) Hosts() *hosts.Config { return s.hosts }

// Transport returns the session's transport: TLS per host, retries, stall
// timeouts and the https-to-http policy, without credentials.
func (s *Session) Transport() *transport.Transport { return s.tr }

// Keychain returns where the session's credentials come from.
func (s *Session) Keychain() auth.Keychain { return s.keychain }

// HTTPClient returns an http.Client over the session's transport, with
// hoist's redirect policy and no credentials.
func (s *Session) HTTPClient() *http.Client { return transport.NewClient(s.tr) }

// RegistryClient returns the http.Client that authenticates to host (an
// API host, see reference.APIHost) with the credentials the keychain has
// for it, over the session's transport. It returns the same client for the
// same host, so what auth learns (the challenge, tokens) is shared by
// protocol detection and every store of that host.
func (s *Session) RegistryClient(host string) *http.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[host]; ok {
		return c
	}
	if s.clients == nil {
		s.clients = map[string]*http.Client{}
	}
	c := transport.NewClient(auth.NewTransport(s.tr, host, s.keychain, s.authOptions()...))
	s.clients[host] = c
	return c
}

// Scheme returns the scheme host (an API host, see reference.APIHost)
// has answered on in this session: "https", "http" (the fallback for
// loopback and insecure hosts) or "" before any answer. See
// transport.Transport.Scheme.
func (s *Session) Scheme(host string) string { return s.tr.Scheme(host) }

// AssumePlainHTTP tells the session that host (an API host) speaks plain
// http, as an earlier process found (Scheme), so that its requests try no
// https first. Where the host policy does not allow plain http for host,
// it does nothing. See transport.Transport.AssumePlainHTTP.
func (s *Session) AssumePlainHTTP(host string) { s.tr.AssumePlainHTTP(host) }

// authOptions are the options of every auth transport: the transport's
// plain-http rule.
func (s *Session) authOptions() []auth.Option {
	return []auth.Option{auth.WithPlainHTTPAllowed(s.hosts.PlainHTTPAllowed)}
}

// Protocol returns the protocol registry speaks: the one WithProtocol
// fixed, else detected (/v2/ first, then /v1/_ping) on first use and
// remembered for the session.
func (s *Session) Protocol(ctx context.Context, registry string) (remote.Protocol, error) {
	if s.protocol != "" {
		return s.protocol, nil
	}
	if p, ok := s.knownProtocol(registry); ok {
		return p, nil
	}
	// One detection at a time, so two opens of one registry probe it once.
	s.detectMu.Lock()
	defer s.detectMu.Unlock()
	if p, ok := s.knownProtocol(registry); ok {
		return p, nil
	}
	p, err := remote.Detect(ctx, registry, s.RegistryClient(reference.APIHost(registry)), s.LegacyOptions()...)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.protos == nil {
		s.protos = map[string]remote.Protocol{}
	}
	s.protos[registry] = p
	return p, nil
}

// KnownProtocol returns the protocol of registry when WithProtocol fixed
// it or it was detected or learnt before in this session
// (remote.LearningEnv).
func (s *Session) KnownProtocol(registry string) (remote.Protocol, bool) {
	if s.protocol != "" {
		return s.protocol, true
	}
	return s.knownProtocol(registry)
}

// LearnProtocol records that registry speaks p, as an answer to a request
// proved (remote.LearningEnv); later opens of it detect nothing.
func (s *Session) LearnProtocol(registry string, p remote.Protocol) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.protos == nil {
		s.protos = map[string]remote.Protocol{}
	}
	s.protos[registry] = p
}

func (s *Session) knownProtocol(registry string) (remote.Protocol, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.protos[registry]
	return p, ok
}

// LegacyOptions returns the options of every v1 client: the session's
// transport and keychain.
func (s *Session) LegacyOptions() []legacy.Option {
	return []legacy.Option{legacy.WithTransport(s.tr), legacy.WithKeychain(s.keychain)}
}

var _ remote.LearningEnv = (*Session)(nil)

// call returns the options of one call: the session's defaults, then opts.
// A session option among opts is an error.
func (s *Session) call(opts []Option) (options, error) {
	var o options
	for _, f := range s.defaults {
		f(&o)
	}
	for _, f := range opts {
		f(&o)
	}
	if len(o.sessionSet) > 0 {
		return o, optionErrorf(o.sessionSet[0], "configures a Session: pass it to NewSession, not to a call")
	}
	if o.concurrencySet && o.concurrency < 1 {
		return o, optionErrorf("WithConcurrency", "%d: at least 1 blob must move at a time", o.concurrency)
	}
	if o.limit < 0 {
		return o, optionErrorf("WithLimit", "%d: give a positive number, or 0 for no limit", o.limit)
	}
	return o, nil
}

var _ remote.SessionsEnv = (*Session)(nil)
