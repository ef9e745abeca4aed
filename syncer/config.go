package syncer

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v2"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/content"
)

// Config is what a sync mirrors: a list of entries, each a source and the
// target it goes to, with defaults for every entry and limits per
// registry host. Parse reads one from YAML, hoist's own format or skopeo
// sync's (docs/sync.md has both and the mapping).
type Config struct {
	// Defaults apply to every entry that leaves the same field out.
	Defaults Defaults `yaml:"defaults"`
	// Hosts are the request limits of registry hosts ("docker.io",
	// "localhost:5000"), over Defaults.Host.
	Hosts map[string]HostLimits `yaml:"hosts"`
	// Sync lists what to mirror.
	Sync []Entry `yaml:"sync"`

	// Format is the format the config was read in: "hoist" or "skopeo".
	Format string `yaml:"-"`
	// Credentials are the credentials a skopeo config gives, by registry
	// host; hoist's own format takes them from docker's config instead.
	Credentials map[string]auth.Credential `yaml:"-"`
	// Insecure are the hosts a skopeo config sets tls-verify: false for.
	Insecure []string `yaml:"-"`
	// CertDirs are the cert-dir directories a skopeo config names, by
	// host: each holds that host's *.crt, *.cert and *.key.
	CertDirs map[string]string `yaml:"-"`
}

// Defaults are the settings every entry inherits.
type Defaults struct {
	// Tags filters the tags of every entry without a tags section.
	Tags *TagFilter `yaml:"tags"`
	// Platforms are copied from multi-platform images (os/arch[/variant]);
	// none copies every platform.
	Platforms []string `yaml:"platforms"`
	// Referrers copies the referrers of each image (signatures, SBOMs).
	Referrers bool `yaml:"referrers"`
	// Images is how many images are copied at once across the run
	// (default DefaultImages).
	Images int `yaml:"images"`
	// Host are the request limits of every host not in Config.Hosts.
	Host HostLimits `yaml:"host"`
}

// Entry is one source and its target.
type Entry struct {
	// Source is a registry with an optional path prefix
	// ("registry.example.com", "docker.io/library", "localhost:5000/team/app"),
	// or an OCI layout tree, "oci:DIR" (a directory of layouts, one per
	// repository, as a layout target writes them).
	Source string `yaml:"source"`
	// Repositories are repositories under Source's prefix ("alpine",
	// "team/app"). With neither Repositories nor Match, Source itself is
	// the one repository.
	Repositories []string `yaml:"repositories"`
	// Match selects repositories from Source's catalog: regular
	// expressions over the names under Source's prefix, any of which
	// matches. The catalog is followed through all its pages.
	Match []string `yaml:"match"`
	// Target is where the repositories go: a registry with an optional
	// prefix, each repository going to PREFIX/NAME (its name under
	// Source's prefix), or "oci:DIR", each repository an OCI layout in
	// DIR/NAME. For a single-repository Source it is the target
	// repository itself.
	Target string `yaml:"target"`
	// Tags selects the tags to mirror; nil takes Defaults.Tags, and
	// without either every tag is mirrored.
	Tags *TagFilter `yaml:"tags"`
	// Platforms overrides Defaults.Platforms.
	Platforms []string `yaml:"platforms"`
	// Referrers overrides Defaults.Referrers.
	Referrers *bool `yaml:"referrers"`

	// Naming says how a repository is named under Target: "path" (the
	// default) is its path under Source's prefix, "base" its last
	// component only (skopeo sync's default), "scoped" the source's host
	// and whole path (skopeo sync --scoped).
	Naming string `yaml:"naming,omitempty"`

	single bool // Source is one repository (set by Check)
}

// TagFilter selects tags. A tag is mirrored when it is in Names, or when
// Names is empty and it matches an Allow pattern (or there are none),
// matches no Deny pattern, and satisfies Semver; of those, Latest keeps
// the highest N by semantic version. Digests are mirrored on top.
type TagFilter struct {
	// Names are exact tags; the source's tags are then not listed.
	Names []string `yaml:"names"`
	// Allow and Deny are regular expressions matched against the whole
	// tag (they are anchored: "v1.*" means ^(?:v1.*)$).
	Allow []string `yaml:"allow"`
	Deny  []string `yaml:"deny"`
	// Semver is a semantic-version range (">=1.2, <2", "~1.4", "^3");
	// tags that are not versions ("latest") do not satisfy it. A leading
	// "v" is accepted.
	Semver string `yaml:"semver"`
	// Latest keeps only the N highest versions among the tags selected so
	// far (tags that are not versions are dropped); 0 keeps them all.
	Latest int `yaml:"latest"`
	// Digests pins images: "sha256:…" mirrors that manifest by digest
	// (untagged), "TAG@sha256:…" sets TAG in the target to exactly that
	// manifest whatever the source's TAG names now.
	Digests []string `yaml:"digests"`
}

// HostLimits bound the requests to one registry host.
type HostLimits struct {
	// Concurrency is how many requests may be in flight at once, from
	// sending to the answer's headers (default DefaultHostConcurrency).
	Concurrency int `yaml:"concurrency"`
	// Rate is how many requests a second may start (0: no limit).
	Rate float64 `yaml:"rate"`
	// Reserve is how much of the quota a registry reports in
	// RateLimit-Remaining is left unspent: at or below it, requests that
	// spend quota wait for the window (default: a tenth of the
	// registry's limit, at most Concurrency).
	Reserve int `yaml:"reserve"`
	// MaxPause bounds one wait for the rate limit's window; a longer one
	// fails the request instead (default DefaultMaxPause).
	MaxPause Duration `yaml:"maxPause"`
}

// The values of Entry.Naming.
const (
	NamingPath   = "path"
	NamingBase   = "base"
	NamingScoped = "scoped"
)

// Defaults of Config.
const (
	DefaultImages          = 16
	DefaultHostConcurrency = 32
	DefaultMaxPause        = 15 * time.Minute
)

// Duration is a time.Duration written as in Go ("90s", "15m", "6h").
type Duration time.Duration

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration: write it as 90s, 15m or 6h", s)
	}
	*d = Duration(v)
	return nil
}

// maxConfig bounds a config file.
const maxConfig = 16 << 20

// Load reads and checks the config at path (see Parse).
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sync config: %w", err)
	}
	defer f.Close()
	raw, err := content.ReadCapped(f, maxConfig, "sync config "+path)
	if err != nil {
		return nil, err
	}
	c, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("sync config %s: %w", path, err)
	}
	return c, nil
}

// Parse reads a config from YAML and checks it. A document with a
// top-level "sync" list is hoist's format; any other is read as skopeo
// sync's (registry hosts at the top level, each with images,
// images-by-tag-regex, images-by-semver, credentials, tls-verify,
// cert-dir), whose entries have no target: give one with SetTarget.
// Unknown fields are errors naming their line.
func Parse(raw []byte) (*Config, error) {
	var probe map[string]any
	if err := yaml.Unmarshal(raw, &probe); err != nil {
		return nil, err
	}
	if len(probe) == 0 {
		return nil, fmt.Errorf("the config is empty: it needs a sync: list (or, in skopeo's format, a registry with images:)")
	}
	_, native := probe["sync"]
	if !native {
		return parseSkopeo(raw)
	}
	var c Config
	if err := yaml.UnmarshalStrict(raw, &c); err != nil {
		return nil, err
	}
	c.Format = "hoist"
	if err := c.Check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// SetTarget gives every entry without a target the target t, as the
// destination argument of skopeo sync does; scoped is skopeo's --scoped
// (each repository goes to t/HOST/PATH rather than t/BASENAME).
func (c *Config) SetTarget(t string, scoped bool) error {
	for i := range c.Sync {
		e := &c.Sync[i]
		if e.Target != "" {
			continue
		}
		e.Target = t
		if scoped {
			e.Naming = NamingScoped
		}
	}
	return c.Check()
}

// Check reports the first thing wrong with c: a missing source or
// target, a pattern that does not compile, a bad platform or semver
// range, a negative limit.
func (c *Config) Check() error {
	if len(c.Sync) == 0 {
		return fmt.Errorf("sync: the list is empty; add an entry with a source and a target")
	}
	if c.Defaults.Images < 0 {
		return fmt.Errorf("defaults.images: %d: give a positive number", c.Defaults.Images)
	}
	if err := c.Defaults.Host.check("defaults.host"); err != nil {
		return err
	}
	for h, l := range c.Hosts {
		if err := l.check("hosts." + h); err != nil {
			return err
		}
	}
	if c.Defaults.Tags != nil {
		if _, err := compileFilter(c.Defaults.Tags); err != nil {
			return fmt.Errorf("defaults.tags: %w", err)
		}
	}
	if _, err := parsePlatforms(c.Defaults.Platforms); err != nil {
		return fmt.Errorf("defaults.platforms: %w", err)
	}
	for i := range c.Sync {
		if err := c.Sync[i].check(); err != nil {
			return fmt.Errorf("sync[%d] (source %q): %w", i, c.Sync[i].Source, err)
		}
	}
	return nil
}

func (l HostLimits) check(where string) error {
	switch {
	case l.Concurrency < 0:
		return fmt.Errorf("%s.concurrency: %d: give a positive number", where, l.Concurrency)
	case l.Rate < 0:
		return fmt.Errorf("%s.rate: %g: give requests per second, or 0 for no limit", where, l.Rate)
	case l.Reserve < 0:
		return fmt.Errorf("%s.reserve: %d: give a positive number", where, l.Reserve)
	case l.MaxPause < 0:
		return fmt.Errorf("%s.maxPause: a wait cannot be negative", where)
	}
	return nil
}

func (e *Entry) check() error {
	if e.Source == "" {
		return fmt.Errorf("source is missing: name a registry (registry.example.com[/prefix]) or oci:DIR")
	}
	if e.Target == "" {
		return fmt.Errorf("target is missing: name a registry with a prefix (mirror.example.com/mirror) or oci:DIR")
	}
	src, err := parseLocation(e.Source)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	dst, err := parseLocation(e.Target)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	e.single = len(e.Repositories) == 0 && len(e.Match) == 0
	if e.single && src.path == "" {
		return fmt.Errorf("source %q is a whole registry: list its repositories (repositories:) or select them from its catalog (match:)", e.Source)
	}
	if e.single && src.layout {
		return fmt.Errorf("source %q is a layout tree: list its repositories (repositories:) or match them (match: [\".*\"])", e.Source)
	}
	if !dst.layout && dst.path == "" && e.single {
		return fmt.Errorf("target %q names no repository for the one repository of the source: add its path (%s/%s)", e.Target, e.Target, src.path)
	}
	switch e.Naming {
	case "", NamingPath, NamingBase, NamingScoped:
	default:
		return fmt.Errorf("naming %q: use path, base or scoped", e.Naming)
	}
	for _, r := range e.Repositories {
		if _, err := joinRepo(src, r); err != nil {
			return fmt.Errorf("repositories: %w", err)
		}
	}
	for _, m := range e.Match {
		if _, err := regexp.Compile(m); err != nil {
			return fmt.Errorf("match %q: %w", m, err)
		}
	}
	if e.Tags != nil {
		if _, err := compileFilter(e.Tags); err != nil {
			return fmt.Errorf("tags: %w", err)
		}
	}
	if _, err := parsePlatforms(e.Platforms); err != nil {
		return fmt.Errorf("platforms: %w", err)
	}
	return nil
}

// Marshal returns c in hoist's format, targets filled in: what a skopeo
// config means, written the way hoist reads it.
func (c *Config) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	enc.Close()
	return b.Bytes(), nil
}

// limits returns the request limits of host, defaults filled in.
func (c *Config) limits(host string) HostLimits {
	l := c.Defaults.Host
	if h, ok := c.Hosts[host]; ok {
		if h.Concurrency > 0 {
			l.Concurrency = h.Concurrency
		}
		if h.Rate > 0 {
			l.Rate = h.Rate
		}
		if h.Reserve > 0 {
			l.Reserve = h.Reserve
		}
		if h.MaxPause > 0 {
			l.MaxPause = h.MaxPause
		}
	}
	if l.Concurrency == 0 {
		l.Concurrency = DefaultHostConcurrency
	}
	if l.MaxPause == 0 {
		l.MaxPause = Duration(DefaultMaxPause)
	}
	return l
}

// images is how many images are copied at once.
func (c *Config) images() int {
	if c.Defaults.Images > 0 {
		return c.Defaults.Images
	}
	return DefaultImages
}

// tagFilter is e's filter, or the default one.
func (c *Config) tagFilter(e *Entry) *TagFilter {
	if e.Tags != nil {
		return e.Tags
	}
	return c.Defaults.Tags
}

func (c *Config) platforms(e *Entry) []string {
	if len(e.Platforms) > 0 {
		return e.Platforms
	}
	return c.Defaults.Platforms
}

func (c *Config) referrers(e *Entry) bool {
	if e.Referrers != nil {
		return *e.Referrers
	}
	return c.Defaults.Referrers
}

// anchored compiles a tag pattern matched against the whole tag.
func anchored(p string) (*regexp.Regexp, error) {
	if strings.TrimSpace(p) == "" {
		return nil, fmt.Errorf("an empty pattern: leave it out, or write .* for every tag")
	}
	return regexp.Compile("^(?:" + p + ")$")
}
