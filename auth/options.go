package auth

import (
	"os"
	"path/filepath"
	"time"

	"github.com/hoist-dev/hoist/hosts"
)

// Option configures NewConfigStore, NewTransport and NewV2Verifier. Each
// constructor uses the options that concern it and ignores the others.
type Option func(*options)

// Clock tells the time; tests inject one to expire tokens without waiting.
type Clock interface {
	Now() time.Time
}

type options struct {
	configDir  string   // docker config directory
	dockerCfg  string   // legacy ~/.dockercfg, "" for none
	authFiles  []string // containers auth.json files, read-only
	plainHTTP  func(host string) bool
	clock      Clock
	clientID   string
	tokenLimit int64
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// defaults are every option's default, in one place. Environment variables
// are read here, once per constructor call.
func defaults() options {
	o := options{
		plainHTTP:  hosts.IsLoopback,
		clock:      realClock{},
		clientID:   "hoist",
		tokenLimit: 1 << 20,
	}
	home, _ := os.UserHomeDir()
	o.configDir = os.Getenv("DOCKER_CONFIG")
	if o.configDir == "" && home != "" {
		o.configDir = filepath.Join(home, ".docker")
	}
	if home != "" {
		o.dockerCfg = filepath.Join(home, ".dockercfg")
	}
	if f := os.Getenv("REGISTRY_AUTH_FILE"); f != "" {
		o.authFiles = append(o.authFiles, f)
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		o.authFiles = append(o.authFiles, filepath.Join(d, "containers", "auth.json"))
	}
	return o
}

func buildOptions(opts []Option) options {
	o := defaults()
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithConfigDir sets docker's config directory (the CLI's --config DIR),
// which holds config.json. The default is $DOCKER_CONFIG, else ~/.docker.
func WithConfigDir(dir string) Option { return func(o *options) { o.configDir = dir } }

// WithDockerCfg sets the legacy .dockercfg file to read; "" reads none. The
// default is ~/.dockercfg.
func WithDockerCfg(path string) Option { return func(o *options) { o.dockerCfg = path } }

// WithAuthFiles sets the containers auth.json files to read, in order; none
// reads none. The default is $REGISTRY_AUTH_FILE, then
// $XDG_RUNTIME_DIR/containers/auth.json.
func WithAuthFiles(paths ...string) Option {
	return func(o *options) { o.authFiles = append([]string(nil), paths...) }
}

// WithPlainHTTPAllowed sets which hosts may receive credentials over plain
// http: pass hosts.Config.PlainHTTPAllowed so that insecure-by-configuration
// hosts qualify. The default allows loopback hosts only. It is asked about
// the registry host and about its token realm's host.
func WithPlainHTTPAllowed(allowed func(host string) bool) Option {
	return func(o *options) { o.plainHTTP = allowed }
}

// WithClock sets the clock that decides when cached tokens expire.
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithClientID sets the OAuth2 client_id sent to token servers; the default
// is "hoist".
func WithClientID(id string) Option { return func(o *options) { o.clientID = id } }
