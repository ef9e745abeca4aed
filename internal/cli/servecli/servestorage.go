package servecli

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/spf13/pflag"
	yaml "go.yaml.in/yaml/v2"

	"github.com/hoist-dev/hoist/internal/cli"
	"github.com/hoist-dev/hoist/server/mirror"
	"github.com/hoist-dev/hoist/server/serve"
	"github.com/hoist-dev/hoist/store"
)

// storageFlags choose where hoist serve and hoist serve gc keep the
// registry.
type storageFlags struct {
	kind, root string
	s3         serve.S3
	s3Part     int64
	config     string
}

func (f *storageFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.root, "root", defaultServeRoot(), "directory that holds the registry (--storage filesystem)")
	fl.StringVar(&f.kind, "storage", "filesystem", "storage: filesystem (under --root), s3 (a bucket: --s3-*), or inmemory (lost on exit)")
	fl.StringVar(&f.s3.Endpoint, "s3-endpoint", "", "S3 API URL of a store other than AWS (http://127.0.0.1:8333)")
	fl.StringVar(&f.s3.Bucket, "s3-bucket", "", "S3 bucket that holds the registry (it must exist)")
	fl.StringVar(&f.s3.Region, "s3-region", "", "S3 region (needed on AWS; default us-east-1 with --s3-endpoint)")
	fl.StringVar(&f.s3.Prefix, "s3-prefix", "", "key prefix in the bucket (default: the bucket's root)")
	fl.StringVar(&f.s3.CredentialsFile, "s3-credentials", "", "AWS shared credentials file to read keys from (default: the AWS SDK's chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials, AWS_PROFILE)")
	fl.StringVar(&f.s3.Profile, "s3-profile", "", "profile of --s3-credentials (default \"default\")")
	fl.BoolVar(&f.s3.Redirect, "s3-redirect", false, "answer blob GETs with a redirect to a presigned S3 URL (clients must reach the S3 endpoint)")
	fl.Int64Var(&f.s3Part, "s3-part-size", serve.DefaultS3PartSize, "bytes per S3 upload part (at least 5 MiB)")
	fl.StringVar(&f.config, "config", "", "YAML file of settings: any of these flags by name (\"s3-bucket: regs\"); flags given on the command line win")
}

// options returns the serve options of the storage chosen and says where
// it is, for the start-up line.
func (f *storageFlags) options() ([]serve.Option, string, error) {
	s3Set := f.s3 != serve.S3{}
	if f.kind != "s3" && s3Set {
		return nil, "", cli.Usagef("--s3-* flags need --storage s3")
	}
	switch f.kind {
	case "filesystem":
		if f.root == "" {
			return nil, "", cli.Usagef("--root must name a directory")
		}
		return []serve.Option{serve.WithRoot(f.root)}, f.root, nil
	case "inmemory":
		return []serve.Option{serve.WithDriver(inmemory.New())}, "memory", nil
	case "s3":
		if f.s3.Bucket == "" {
			return nil, "", cli.Usagef("--storage s3 needs --s3-bucket")
		}
		if f.s3.Endpoint == "" && f.s3.Region == "" {
			return nil, "", cli.Usagef("--storage s3 on AWS needs --s3-region; for another S3 store give --s3-endpoint URL")
		}
		if f.s3Part < serve.MinS3PartSize {
			return nil, "", cli.Usagef("--s3-part-size %d: S3 parts are at least %d bytes", f.s3Part, serve.MinS3PartSize)
		}
		if f.s3.Profile != "" && f.s3.CredentialsFile == "" {
			return nil, "", cli.Usagef("--s3-profile names a profile of --s3-credentials FILE; for the SDK's own file set AWS_PROFILE")
		}
		s := f.s3
		s.PartSize = f.s3Part
		return []serve.Option{serve.WithS3(s)}, s.String(), nil
	}
	return nil, "", cli.Usagef("--storage %q: use filesystem, s3 or inmemory", f.kind)
}

// applyConfig sets the flags of fl that the YAML file f.config names and
// the command line did not. Keys are flag names; a key that is not one of
// fl's flags is an error unless also(key) says it belongs to another
// command reading the same file (hoist serve gc skips serve's TLS flags).
func (f *storageFlags) applyConfig(fl *pflag.FlagSet, also func(string) bool) error {
	if f.config == "" {
		return nil
	}
	raw, err := os.ReadFile(f.config)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("--config %s: not a YAML mapping of settings: %w", f.config, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		flag := fl.Lookup(k)
		if flag == nil || k == "config" || k == "help" {
			if k != "config" && also != nil && also(k) {
				continue
			}
			return cli.Usagef("--config %s: unknown setting %q: settings are the flags of %q by name (addr, storage, s3-bucket, ...)", f.config, k, fl.Name())
		}
		if flag.Changed {
			continue
		}
		var val string
		switch v := m[k].(type) {
		case string, bool, int, int64, float64:
			val = fmt.Sprint(v)
		case nil:
			val = ""
		default:
			return cli.Usagef("--config %s: setting %q: want a single value, not %T", f.config, k, v)
		}
		if err := fl.Set(k, strings.TrimSpace(val)); err != nil {
			return cli.Usagef("--config %s: setting %q: %v", f.config, k, err)
		}
	}
	return nil
}

// mirrorUpstream opens the registry host through the session, so its
// credentials, certs.d and client certificates apply.
func (a *cmd) mirrorUpstream(host string) (mirror.Upstream, error) {
	if strings.Contains(host, "/") || strings.Contains(host, "://") {
		return nil, cli.Usagef("--mirror %q: give the registry as HOST[:PORT] (docker.io, registry.example.com:5000), without a scheme or path", host)
	}
	ns, err := a.Session().Registry(host)
	if err != nil {
		return nil, cli.Usagef("--mirror %q: %v", host, err)
	}
	return func(ctx context.Context, name string) (store.Reader, error) {
		return ns.Repository(ctx, name)
	}, nil
}
