package servecli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/hoist-dev/hoist/internal/cli"
	"github.com/hoist-dev/hoist/server/mirror"
	"github.com/hoist-dev/hoist/server/serve"
	"github.com/hoist-dev/hoist/server/storage"
)

// serveFlags are hoist serve's flags.
type serveFlags struct {
	store                                           storageFlags
	addr                                            string
	tlsCert, tlsKey, clientCA, clientCert, clientCN string
	htpasswd, accessLog                             string
	readOnly, allowMissing, v1                      bool
	maxManifest, chunkMin                           int64
	maxUploads                                      int
	stall, grace                                    time.Duration
	gcInterval, gcGrace                             time.Duration
	mirror                                          string
	mirrorTTL                                       time.Duration
}

func defaultServeRoot() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "hoist", "registry")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "hoist", "registry")
	}
	return "hoist-registry"
}

func (a *cmd) serveCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] [--root DIR | --storage s3 ...] [--mirror HOST]",
		Short: "Run hoist's own registry (OCI Distribution v2, and v1 with --v1)",
		Long: `Serve runs a registry on --addr (default 127.0.0.1:5000; port 0 picks a
free one, printed on stderr) keeping everything under --root: blobs,
manifests, tags, referrers, uploads in progress. It speaks the whole OCI
Distribution API, sha256 and sha512 digests, chunked and resumable
uploads, cross-repository and automatic mounts, referrers with
artifactType filters, and deletes.

Nothing is visible before it is verified: a blob appears once its digest
is checked, a manifest only when its blobs are in the repository (unless
--allow-missing), a tag write replaces the old one whole. Upload state
lives in --root, so a restarted server continues an upload where it stood.

Storage: --root DIR (the default), or --storage s3 with --s3-endpoint,
--s3-bucket and --s3-region: any number of instances on one bucket serve
one registry, each able to answer any request, an upload started on one
continuing on another. --config FILE holds any of these flags in YAML.

--mirror HOST makes it a pull-through mirror of the registry HOST, reached
with hoist's credentials and certs.d: what it lacks is fetched, verified
and stored; tags are asked again after --mirror-ttl; pushes are refused.

--v1 also serves the legacy Docker Registry v1 API (index and registry)
from the same store: an image pushed over either protocol pulls over both,
and one pushed over v1 comes back over v1 with its own image IDs.

Access:
  --tls-cert/--tls-key        serve HTTPS
  --client-ca FILE            require a client certificate signed by FILE's CAs
  --client-cert optional      ask for any client certificate (no CA list sent)
  --client-cn PATTERN           and answer 403 unless its CN matches (glob)
  --htpasswd FILE             HTTP Basic auth against bcrypt entries (htpasswd -B)
  --read-only                 refuse every write

Operations: SIGTERM or Ctrl-C shuts down gracefully (requests in flight get
--shutdown-grace; uploads cut off stay resumable). One access-log line per
request goes to --access-log (- for stderr, the default). GET /healthz says
whether storage answers; GET /metrics gives Prometheus metrics.
"hoist serve gc" (or --gc-interval in one instance) removes what no
manifest refers to, safely while every instance serves.`,
		Example: `  hoist serve --root ./registry
  hoist serve --addr 127.0.0.1:0 --root /tmp/reg --access-log /tmp/reg.log
  hoist serve --tls-cert srv.crt --tls-key srv.key --client-cert optional --client-cn 'allowed'
  hoist serve --tls-cert srv.crt --tls-key srv.key --client-ca ca.crt --htpasswd ./htpasswd
  hoist serve --v1 --root ./registry
  hoist serve --storage s3 --s3-endpoint http://127.0.0.1:8333 --s3-bucket regs --gc-interval 1h
  hoist serve --config /etc/hoist/serve.yaml
  hoist serve --mirror docker.io --root /var/cache/hoist-mirror --addr 0.0.0.0:5000
  hoist serve gc --root ./registry --grace 1h`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.store.applyConfig(cmd.Flags(), nil); err != nil {
				return err
			}
			return a.runServe(cmd.Context(), &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:5000", "address to listen on (HOST:PORT; port 0 picks one)")
	f.store.register(fl)
	fl.DurationVar(&f.gcInterval, "gc-interval", 0, "run a garbage collection this often (0: never; run it in one instance per storage)")
	fl.DurationVar(&f.gcGrace, "gc-grace", storage.DefaultGrace, "what --gc-interval's collections keep: anything written or used more recently")
	fl.StringVar(&f.mirror, "mirror", "", "be a pull-through mirror of this registry (HOST[:PORT], docker.io for Docker Hub); pushes are refused")
	fl.DurationVar(&f.mirrorTTL, "mirror-ttl", mirror.DefaultTTL, "with --mirror: serve a tag this long before asking the upstream again")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate chain: serve HTTPS (needs --tls-key)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fl.StringVar(&f.clientCA, "client-ca", "", "PEM CA certificates that client certificates must verify against")
	fl.StringVar(&f.clientCert, "client-cert", "", "client certificates: require (the default with --client-ca) or optional (ask, answer 403 without an acceptable one)")
	fl.StringVar(&f.clientCN, "client-cn", "", "admit only client certificates whose common name matches this glob")
	fl.StringVar(&f.htpasswd, "htpasswd", "", "htpasswd file (bcrypt): require HTTP Basic credentials")
	fl.BoolVar(&f.readOnly, "read-only", false, "refuse every push and delete")
	fl.BoolVar(&f.allowMissing, "allow-missing", false, "accept manifests whose blobs are not in the repository (sparse mirrors)")
	fl.BoolVar(&f.v1, "v1", false, "also serve the legacy Docker Registry v1 API under /v1/")
	fl.Int64Var(&f.maxManifest, "max-manifest-size", 4<<20, "largest manifest accepted, in bytes")
	fl.IntVar(&f.maxUploads, "max-uploads", 0, "upload requests served at once; more get 429 (0: no cap)")
	fl.Int64Var(&f.chunkMin, "chunk-min-length", 0, "announce OCI-Chunk-Min-Length: the least a chunk but the last should hold (0: any)")
	fl.DurationVar(&f.stall, "stall-timeout", time.Minute, "end a request whose transfer moves no byte for this long")
	fl.DurationVar(&f.grace, "shutdown-grace", 30*time.Second, "on SIGTERM, how long requests in flight may finish")
	fl.StringVar(&f.accessLog, "access-log", "-", "access log file (- for stderr, \"\" for none)")
	cmd.AddCommand(a.serveGCCommand())
	return cmd
}

func (a *cmd) runServe(ctx context.Context, f *serveFlags) error {
	logger := slog.New(slog.NewTextHandler(a.Stderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts := []serve.Option{
		serve.WithLogger(logger),
		serve.WithReadOnly(f.readOnly),
		serve.WithAllowMissing(f.allowMissing),
		serve.WithMaxManifestSize(f.maxManifest),
		serve.WithMaxUploads(f.maxUploads),
		serve.WithChunkMinLength(f.chunkMin),
		serve.WithStallTimeout(f.stall),
		serve.WithShutdownGrace(f.grace),
		serve.WithV1(f.v1),
	}
	sopts, where, err := f.store.options()
	if err != nil {
		return err
	}
	opts = append(opts, sopts...)
	if f.gcInterval < 0 || f.gcGrace < 0 {
		return cli.Usagef("--gc-interval and --gc-grace must not be negative")
	}
	if f.gcInterval > 0 {
		opts = append(opts, serve.WithGC(f.gcInterval, f.gcGrace))
	}
	if f.mirror != "" {
		up, err := a.mirrorUpstream(f.mirror)
		if err != nil {
			return err
		}
		if f.v1 {
			return cli.Usagef("--mirror mirrors the v2 API; leave out --v1")
		}
		if f.mirrorTTL < 0 {
			return cli.Usagef("--mirror-ttl must not be negative")
		}
		opts = append(opts, serve.WithMirror(up, f.mirror, f.mirrorTTL))
		where += ", mirror of " + f.mirror
	}
	if f.tlsCert != "" || f.tlsKey != "" {
		if f.tlsCert == "" || f.tlsKey == "" {
			return cli.Usagef("--tls-cert and --tls-key go together")
		}
		opts = append(opts, serve.WithTLS(f.tlsCert, f.tlsKey))
	}
	if (f.clientCA != "" || f.clientCert != "" || f.clientCN != "") && f.tlsCert == "" {
		return cli.Usagef("--client-ca, --client-cert and --client-cn need --tls-cert and --tls-key")
	}
	if f.clientCA != "" {
		opts = append(opts, serve.WithClientCA(f.clientCA))
	}
	switch f.clientCert {
	case "":
	case "require":
		if f.clientCA == "" {
			return cli.Usagef("--client-cert require needs --client-ca to verify against; or use --client-cert optional --client-cn PATTERN")
		}
		opts = append(opts, serve.WithClientCertMode(serve.ClientCertRequire))
	case "optional":
		opts = append(opts, serve.WithClientCertMode(serve.ClientCertOptional))
	default:
		return cli.Usagef("--client-cert %q: use require or optional", f.clientCert)
	}
	if f.clientCN != "" {
		if f.clientCert == "" && f.clientCA == "" {
			return cli.Usagef("--client-cn needs --client-cert optional or --client-ca")
		}
		opts = append(opts, serve.WithClientCN(f.clientCN))
	}
	if f.htpasswd != "" {
		opts = append(opts, serve.WithHtpasswd(f.htpasswd))
	}
	switch f.accessLog {
	case "":
	case "-":
		opts = append(opts, serve.WithAccessLog(a.Stderr()))
	default:
		lf, err := os.OpenFile(f.accessLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("--access-log: %w", err)
		}
		defer lf.Close()
		opts = append(opts, serve.WithAccessLog(lf))
	}
	srv, err := serve.New(opts...)
	if err != nil {
		return err
	}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", f.addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", f.addr, err)
	}
	scheme := "http"
	if f.tlsCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(a.Stderr(), "hoist serve: listening on %s://%s (storage: %s)\n", scheme, ln.Addr(), where)
	return srv.Serve(ctx, ln)
}

func (a *cmd) serveGCCommand() *cobra.Command {
	var sf storageFlags
	var grace time.Duration
	var dry bool
	cmd := &cobra.Command{
		Use:   "gc [--root DIR | --storage s3 --s3-bucket B ...]",
		Short: "Remove blobs no manifest refers to, and abandoned uploads",
		Long: `GC removes from the registry storage (--root, or the S3 bucket --storage s3
names, or what --config FILE says) every blob that no manifest of any
repository refers to, and every upload untouched for --grace. Anything
newer than --grace stays: blobs uploaded for a manifest not pushed yet,
uploads in progress. It is safe while "hoist serve" instances run on the
same storage: a push that needs a blob GC is taking either keeps it or is
refused and re-uploads it, never left with a manifest whose blob is gone.
--grace must be longer than your longest push. Run one GC at a time.`,
		Example: `  hoist serve gc --root ./registry
  hoist serve gc --root ./registry --grace 10m --dry-run
  hoist serve gc --storage s3 --s3-endpoint http://127.0.0.1:8333 --s3-bucket regs
  hoist serve gc --config /etc/hoist/serve.yaml`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			serveFlags := cmd.Parent().Flags()
			if err := sf.applyConfig(cmd.Flags(), func(k string) bool { return serveFlags.Lookup(k) != nil }); err != nil {
				return err
			}
			if sf.kind == "filesystem" {
				if st, err := os.Stat(sf.root); err != nil || !st.IsDir() {
					return fmt.Errorf("--root %s is not a registry directory: %v", sf.root, err)
				}
			}
			sopts, _, err := sf.options()
			if err != nil {
				return err
			}
			ns, err := serve.Storage(sopts...)
			if err != nil {
				return err
			}
			rep, err := ns.GC(cmd.Context(), storage.GCConfig{Grace: grace, DryRun: dry})
			if err != nil {
				return err
			}
			if a.JSON() {
				return a.PrintJSON(rep)
			}
			verb := "removed"
			if dry {
				verb = "would remove"
			}
			printGC(a.Stdout(), verb, rep)
			return nil
		},
	}
	sf.register(cmd.Flags())
	cmd.Flags().DurationVar(&grace, "grace", storage.DefaultGrace, "keep anything written or used more recently than this")
	cmd.Flags().BoolVar(&dry, "dry-run", false, "report what would be removed, remove nothing")
	return cmd
}

func printGC(w io.Writer, verb string, r storage.GCReport) {
	fmt.Fprintf(w, "%d manifests, %d blobs kept; %s %d blobs (%d bytes), %d abandoned uploads, %d stale links\n",
		r.Manifests, r.BlobsKept, verb, r.BlobsRemoved, r.BytesRemoved, r.UploadsRemoved, r.LinksRemoved)
}
