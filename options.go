package hoist

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/store/remote"
	"github.com/hoist-dev/hoist/transport"
)

// Option configures a Session (NewSession) or one call of it. Session
// options (WithConfigDir, WithCertsDirs, WithInsecureRegistries,
// WithKeychain, WithProtocol, WithLogger) set up the session and are an
// error in a method call. Call options (the others) given to NewSession
// become the session's defaults, which a call's own options override. The
// package-level functions take both kinds.
type Option func(*options)

type options struct {
	// session
	sessionSet []string // names of the session options applied
	configDir  string
	certsDirs  []string
	insecure   []string
	keychain   auth.Keychain
	protocol   remote.Protocol
	logger     *slog.Logger
	transport  []transport.Option
	maxWait    time.Duration
	uploadDir  string

	// call
	platforms   []string
	format      copy.Format
	allTags     bool
	concurrency int
	// concurrencySet tells WithConcurrency(0), an error, from the default.
	concurrencySet bool
	chunkSize      int64
	events         func(copy.Event)
	noCache        bool
	warn           func(error)
	limit          int
	email          string
	index          string
	referrers      *referrerOptions // referrers.go
	artifactType   string           // attach.go
	annotations    map[string]string
}

func sessionOption(name string, f func(*options)) Option {
	return func(o *options) {
		o.sessionSet = append(o.sessionSet, name)
		f(o)
	}
}

// WithConfigDir reads credentials from the docker config directory dir
// (config.json) instead of $DOCKER_CONFIG or ~/.docker. Session option.
func WithConfigDir(dir string) Option {
	return sessionOption("WithConfigDir", func(o *options) { o.configDir = dir })
}

// WithCertsDirs looks up each registry's TLS settings (certs.d/HOST) in dirs
// instead of /etc/docker/certs.d, /etc/containers/certs.d and
// ~/.config/containers/certs.d. Session option.
func WithCertsDirs(dirs ...string) Option {
	return sessionOption("WithCertsDirs", func(o *options) { o.certsDirs = append(o.certsDirs, dirs...) })
}

// WithInsecureRegistries lets hosts (host[:port] or CIDR) use plain http and
// unverified TLS. Loopback hosts may always fall back to plain http.
// Session option.
func WithInsecureRegistries(hosts ...string) Option {
	return sessionOption("WithInsecureRegistries", func(o *options) { o.insecure = append(o.insecure, hosts...) })
}

// WithKeychain takes credentials from k instead of docker's config
// (config.json, credential helpers, .dockercfg). Login and Logout need k to
// be an auth.Store. Session option.
func WithKeychain(k auth.Keychain) Option {
	return sessionOption("WithKeychain", func(o *options) { o.keychain = k })
}

// WithProtocol fixes the protocol of every registry (remote.V1 or
// remote.V2) instead of detecting it (/v2/ first, then /v1/_ping). Session
// option.
func WithProtocol(p remote.Protocol) Option {
	return sessionOption("WithProtocol", func(o *options) { o.protocol = p })
}

// WithLogger logs every HTTP request at debug level to l, credentials
// redacted. Session option.
func WithLogger(l *slog.Logger) Option {
	return sessionOption("WithLogger", func(o *options) { o.logger = l })
}

// WithPlatforms copies only these platforms (os/arch[/variant]) of a
// multi-platform image: one yields its image manifest, several a filtered
// index. Inspect and Manifest take one, to pick the image of that platform
// from an index.
func WithPlatforms(platforms ...string) Option {
	return func(o *options) { o.platforms = append([]string(nil), platforms...) }
}

// WithFormat chooses the media types of copied manifests: copy.FormatKeep
// (the default) copies them byte for byte; copy.FormatOCI converts Docker
// media types to OCI, giving the manifests new digests.
func WithFormat(f copy.Format) Option { return func(o *options) { o.format = f } }

// WithAllTags makes Copy copy every tag of the source repository or layout
// to the same tag in the destination; blobs shared between tags move once.
func WithAllTags() Option { return func(o *options) { o.allTags = true } }

// WithChunkSize makes pushes to a v2 registry send a blob larger than n
// bytes in chunks of n (distribution.WithMaxChunkSize), for a proxy that
// caps request bodies. The default, 0, sends each blob in one request and
// switches to chunks by itself when the registry answers 413.
func WithChunkSize(n int64) Option { return func(o *options) { o.chunkSize = n } }

// WithConcurrency bounds how many blobs of 1 MiB or more a copy transfers at
// once (default copy.DefaultConcurrency). n below 1 is an *OptionError.
func WithConcurrency(n int) Option {
	return func(o *options) { o.concurrency, o.concurrencySet = n, true }
}

// WithEvents has a copy report its progress to f, from many goroutines at
// once: f must be fast and safe for concurrent use.
func WithEvents(f func(copy.Event)) Option { return func(o *options) { o.events = f } }

// WithoutBlobCache neither reads nor updates the blob-location cache
// (~/.cache/hoist/blob-locations.json) a copy uses by default to mount blobs
// seen in other repositories of the target registry.
func WithoutBlobCache() Option { return func(o *options) { o.noCache = true } }

// WithWarnings has f told of what went wrong without failing the call (the
// blob-location cache could not be read or saved). By default warnings are
// dropped.
func WithWarnings(f func(error)) Option { return func(o *options) { o.warn = f } }

// WithLimit makes Tags, Catalog and Search list at most n names (0: all).
// A negative n is an *OptionError.
func WithLimit(n int) Option { return func(o *options) { o.limit = n } }

// WithEmail is the e-mail address a v1 Login sends; v1 indexes that create
// accounts on login require one.
func WithEmail(email string) Option { return func(o *options) { o.email = email } }

// WithIndex makes Search ask index (a v1 registry host or URL) instead of
// Docker Hub's.
func WithIndex(index string) Option { return func(o *options) { o.index = index } }

// OptionError is the error for an option that is malformed or does not fit
// the call (a platform that does not parse, WithAllTags for a source that
// cannot list tags). Retrying cannot help.
type OptionError struct {
	// Option is the option's function name: "WithPlatforms".
	Option string
	// Err says what is wrong.
	Err error
}

func (e *OptionError) Error() string { return e.Option + ": " + e.Err.Error() }

// Unwrap returns Err.
func (e *OptionError) Unwrap() error { return e.Err }

func optionErrorf(option, format string, args ...any) error {
	return &OptionError{Option: option, Err: fmt.Errorf(format, args...)}
}

// WithTransportOptions adds options to the session's transport
// (transport.New): timeouts, the minimum throughput, the retry policy, a
// wait notice. Session option.
func WithTransportOptions(opts ...transport.Option) Option {
	return sessionOption("WithTransportOptions", func(o *options) { o.transport = append(o.transport, opts...) })
}

// WithMaxWait bounds the time one call (a copy, a pull, a push, a
// listing) may spend waiting on registries in all: Retry-After, backoff
// between retries and attempts that timed out, over every request of the
// call (see transport.WaitBudget). The default is transport.DefaultMaxWait;
// a call that would wait longer fails with the registry's last answer.
// Session option.
func WithMaxWait(d time.Duration) Option {
	return sessionOption("WithMaxWait", func(o *options) { o.maxWait = d })
}

// WithUploadState keeps the upload sessions of pushes as files under dir
// (DefaultUploadStateDir is where the hoist command keeps them), so that
// a push that was killed part way resumes: the next push of the same blob
// to the same repository asks the registry where the session stands and
// sends only the bytes it lacks, or starts over when the registry has
// forgotten it. Without it, sessions live only as long as the call.
// Session option.
func WithUploadState(dir string) Option {
	return sessionOption("WithUploadState", func(o *options) { o.uploadDir = dir })
}
