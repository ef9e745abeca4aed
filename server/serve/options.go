package serve

import (
	"fmt"
	"io"
	"log/slog"
	"path"
	"time"

	driver "github.com/distribution/distribution/v3/registry/storage/driver"

	"github.com/hoist-dev/hoist/content"
)

// Option configures a Server; pass options to New.
type Option func(*config)

// ClientCertMode says what the server asks of client certificates.
type ClientCertMode int

const (
	// ClientCertNone asks for no client certificate (the default without
	// WithClientCA).
	ClientCertNone ClientCertMode = iota
	// ClientCertRequire requires a certificate that verifies against the
	// WithClientCA roots; a client without one fails the handshake.
	ClientCertRequire
	// ClientCertOptional asks for any certificate, without sending a CA
	// list, and answers 403 to a request without an acceptable one
	// (verified against WithClientCA when given, and with a common name
	// matching WithClientCN when given).
	ClientCertOptional
)

type config struct {
	root            string
	driver          driver.StorageDriver
	s3              *S3
	gcInterval      time.Duration
	gcGrace         time.Duration
	mirror          *mirrorConfig
	tlsCert         string
	tlsKey          string
	clientCA        string
	clientMode      ClientCertMode
	clientModeSet   bool
	clientCN        string
	htpasswd        string
	realm           string
	readOnly        bool
	allowMissing    bool
	maxManifestSize int64
	maxUploads      int
	chunkMinLength  int64
	stallTimeout    time.Duration
	headerTimeout   time.Duration
	shutdownGrace   time.Duration
	accessLog       io.Writer
	logger          *slog.Logger
	v1              bool
}

func defaults() config {
	return config{
		realm:           "hoist",
		maxManifestSize: content.DefaultMaxManifestSize,
		stallTimeout:    time.Minute,
		headerTimeout:   30 * time.Second,
		shutdownGrace:   30 * time.Second,
		logger:          slog.New(slog.DiscardHandler),
	}
}

// WithRoot keeps the registry under directory dir, through distribution's
// filesystem storage driver. Exactly one of WithRoot and WithDriver is
// required.
func WithRoot(dir string) Option { return func(c *config) { c.root = dir } }

// WithDriver keeps the registry in d (in memory for tests; an object
// store).
func WithDriver(d driver.StorageDriver) Option { return func(c *config) { c.driver = d } }

// WithTLS serves HTTPS with the certificate chain and key in these PEM
// files.
func WithTLS(certFile, keyFile string) Option {
	return func(c *config) { c.tlsCert, c.tlsKey = certFile, keyFile }
}

// WithClientCA sets the PEM file of CA certificates client certificates
// must verify against. Without WithClientCertMode it requires one
// (ClientCertRequire). Needs WithTLS.
func WithClientCA(file string) Option { return func(c *config) { c.clientCA = file } }

// WithClientCertMode sets what is asked of client certificates. Needs
// WithTLS.
func WithClientCertMode(m ClientCertMode) Option {
	return func(c *config) { c.clientMode, c.clientModeSet = m, true }
}

// WithClientCN admits only client certificates whose subject common name
// matches pattern, a path.Match glob ("allowed", "ci-*"). Needs
// ClientCertOptional or ClientCertRequire.
func WithClientCN(pattern string) Option { return func(c *config) { c.clientCN = pattern } }

// WithHtpasswd requires HTTP Basic credentials that match an entry of
// this htpasswd file (bcrypt hashes only, as `htpasswd -B` writes).
func WithHtpasswd(file string) Option { return func(c *config) { c.htpasswd = file } }

// WithReadOnly refuses every write.
func WithReadOnly(ro bool) Option { return func(c *config) { c.readOnly = ro } }

// WithAllowMissing accepts manifests whose blobs are not in the
// repository (see storage.WithAllowMissing).
func WithAllowMissing(allow bool) Option { return func(c *config) { c.allowMissing = allow } }

// WithMaxManifestSize caps a manifest's size. The default is 4 MiB.
func WithMaxManifestSize(n int64) Option { return func(c *config) { c.maxManifestSize = n } }

// WithMaxUploads caps the upload requests served at once (see
// registry.WithMaxUploads). The default is no cap.
func WithMaxUploads(n int) Option { return func(c *config) { c.maxUploads = n } }

// WithChunkMinLength announces OCI-Chunk-Min-Length (see
// registry.WithChunkMinLength).
func WithChunkMinLength(n int64) Option { return func(c *config) { c.chunkMinLength = n } }

// WithStallTimeout ends a request whose body or answer moves no byte for
// d. The default is one minute; a whole transfer may take as long as it
// keeps moving.
func WithStallTimeout(d time.Duration) Option { return func(c *config) { c.stallTimeout = d } }

// WithHeaderTimeout bounds how long a client may take to send a
// request's headers. The default is 30 seconds.
func WithHeaderTimeout(d time.Duration) Option { return func(c *config) { c.headerTimeout = d } }

// WithShutdownGrace sets how long Serve lets requests in flight finish
// once its context ends, before it closes their connections. Uploads cut
// off stay resumable in storage. The default is 30 seconds.
func WithShutdownGrace(d time.Duration) Option { return func(c *config) { c.shutdownGrace = d } }

// WithAccessLog writes one line per request to w.
func WithAccessLog(w io.Writer) Option { return func(c *config) { c.accessLog = w } }

// WithLogger sets where errors and lifecycle events are logged. The
// default discards them.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithV1 also serves the legacy Docker Registry v1 API under /v1/.
func WithV1(on bool) Option { return func(c *config) { c.v1 = on } }

// validate reports the first setting that cannot work, naming the option.
func (c *config) validate() error {
	switch {
	case btoi(c.root != "")+btoi(c.driver != nil)+btoi(c.s3 != nil) != 1:
		return fmt.Errorf("serve: give exactly one of WithRoot, WithDriver and WithS3")
	case c.gcInterval < 0, c.gcGrace < 0:
		return fmt.Errorf("serve: WithGC needs a positive interval and grace period")
	case (c.tlsCert == "") != (c.tlsKey == ""):
		return fmt.Errorf("serve: WithTLS needs both the certificate and the key file")
	case c.tlsCert == "" && (c.clientCA != "" || c.clientModeSet || c.clientCN != ""):
		return fmt.Errorf("serve: client certificates (WithClientCA, WithClientCertMode, WithClientCN) need WithTLS")
	case c.clientCN != "" && c.mode() == ClientCertNone:
		return fmt.Errorf("serve: WithClientCN needs WithClientCertMode(ClientCertOptional) or WithClientCA")
	case c.mode() == ClientCertRequire && c.clientCA == "":
		return fmt.Errorf("serve: ClientCertRequire needs WithClientCA to verify against")
	case c.maxManifestSize <= 0, c.maxUploads < 0, c.chunkMinLength < 0:
		return fmt.Errorf("serve: limits must be positive (manifest size %d, uploads %d, chunk minimum %d)", c.maxManifestSize, c.maxUploads, c.chunkMinLength)
	case c.stallTimeout <= 0, c.headerTimeout <= 0, c.shutdownGrace < 0:
		return fmt.Errorf("serve: timeouts must be positive")
	case c.v1 && c.htpasswd != "":
		return fmt.Errorf("serve: WithHtpasswd guards the v2 API, and the v1 API has accounts of its own; WithV1 with WithHtpasswd would leave v1 writes open, so give one or the other")
	case c.logger == nil:
		return fmt.Errorf("serve: the logger must not be nil")
	case c.mirror != nil && c.mirror.upstream == nil:
		return fmt.Errorf("serve: WithMirror needs the upstream")
	case c.mirror != nil && c.v1:
		return fmt.Errorf("serve: WithMirror mirrors the v2 API only; leave out WithV1")
	}
	if c.clientCN != "" {
		if _, err := path.Match(c.clientCN, ""); err != nil {
			return fmt.Errorf("serve: client CN pattern %q: %v", c.clientCN, err)
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// WithGC runs a garbage collection (storage.Namespace.GC) every interval
// while the server runs, keeping what is younger than grace (0 is
// storage.DefaultGrace). Run it in one instance of those sharing a
// storage: collections do not coordinate with each other.
func WithGC(interval, grace time.Duration) Option {
	return func(c *config) { c.gcInterval, c.gcGrace = interval, grace }
}

// mode is the client-certificate mode in force.
func (c *config) mode() ClientCertMode {
	if c.clientModeSet {
		return c.clientMode
	}
	if c.clientCA != "" {
		return ClientCertRequire
	}
	return ClientCertNone
}
