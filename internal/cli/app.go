package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	lib "github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/remote"
)

// Exit codes, as DESIGN.md's CLI conventions fix them.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// App is one invocation of hoist: its streams and global flags. Verbs read
// what they need from it; nothing here is global state. Verbs defined
// outside this package (see Verb) use its exported methods.
type App struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	certsDirs    []string
	configDir    string
	insecure     []string
	jsonOut      bool
	protocolFlag string
	verbose      bool
	quiet        bool
	showVersion  bool
	net          netFlags

	session     *lib.Session // built from the global flags before a verb runs
	sessionOpts []lib.Option // what it was built with, for a verb that needs more (sync)

	verbs []Verb   // added by the program (Run's caller)
	args  []string // as Run got them, for a program run in hoist's place
}

// usageError marks an error as the user's invocation being wrong (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Run executes hoist with args and returns the exit code; verbs are added
// to the built-in ones. Tests call it in-process.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, verbs ...Verb) int {
	a := &App{stdin: stdin, stdout: stdout, stderr: stderr, verbs: verbs, args: args}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := cliError(root.ExecuteContext(ctx))
	if a.session != nil {
		a.session.Close()
	}
	return a.report(ctx, err)
}

// optionFlags names the flag that sets each library option, so an error
// about an option names what the user typed.
var optionFlags = map[string]string{
	"WithPlatforms":   "--platform",
	"WithFormat":      "--format",
	"WithAllTags":     "--all-tags",
	"WithConcurrency": "--concurrency",
	"WithChunkSize":   "--chunk-size",
	"WithLimit":       "--limit",
	"WithIndex":       "--index",
	"WithEmail":       "--email",
	"WithProtocol":    "--protocol",
	"WithConfigDir":   "--config",
	"WithCertsDirs":   "--certs-dir",
	"WithReferrers":   "--referrers",
	"WithCosignTags":  "--cosign-tags",

	"WithArtifactType": "--artifact-type",
	"WithAnnotations":  "--annotation",

	"WithInsecureRegistries": "--insecure-registry",
}

// cliError maps the library's errors about the caller's input to usage
// errors (exit 2), naming flags instead of options.
func cliError(err error) error {
	var oe *lib.OptionError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &oe):
		name := oe.Option
		if f, ok := optionFlags[name]; ok {
			name = f
		}
		return usageError{fmt.Errorf("%s: %w", name, oe.Err)}
	case errors.Is(err, store.ErrInvalidLocation):
		return usageError{err}
	}
	return err
}

func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}

func (a *App) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "hoist",
		Short: "A container registry client: pull, push, copy, inspect, log in",
		Long: `hoist moves and inspects container images in registries that speak the OCI
Distribution API (v2) or the legacy Docker Registry v1 API.

Each registry host gets its own TLS settings from docker's certs.d layout:
certs.d/HOST/*.crt are CA roots, and each NAME.cert with NAME.key is a client
certificate, tried in alphabetical order until the registry accepts one.
Credentials come from docker's config.json, credential helpers and .dockercfg.

Image references: a plain reference (or docker://REF) is a registry;
oci:DIR[:TAG] is an OCI image layout; docker-archive:FILE[:REF] is a
docker save tarball. A path (./dir, /abs/dir, app.tar) names a local layout
or archive; a plain name such as alpine stays an image.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return a.setup()
		},
		RunE: a.runRoot,
	}
	root.Flags().BoolVar(&a.showVersion, "version", false, "print hoist's version (the module version, or the VCS revision it was built from)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.SetHelpCommand(a.helpCommand())
	f := root.PersistentFlags()
	f.StringArrayVar(&a.certsDirs, "certs-dir", nil, "directory holding certs.d/HOST subdirectories (repeatable; default /etc/docker/certs.d, /etc/containers/certs.d, ~/.config/containers/certs.d)")
	f.StringVar(&a.configDir, "config", "", "docker config directory holding config.json (default $DOCKER_CONFIG or ~/.docker)")
	f.StringArrayVar(&a.insecure, "insecure-registry", nil, "host[:port] or CIDR that may use plain http and unverified TLS (repeatable)")
	f.BoolVar(&a.jsonOut, "json", false, "print one JSON document on stdout")
	f.StringVar(&a.protocolFlag, "protocol", "", "registry protocol: v1 or v2 (default: detect, /v2/ first, then /v1/_ping)")
	f.BoolVarP(&a.verbose, "verbose", "v", false, "log every HTTP request to stderr (credentials redacted)")
	f.BoolVarP(&a.quiet, "quiet", "q", false, "print only the essential result")
	a.net.register(f)

	root.AddCommand(
		a.pullCommand(), a.pushCommand(), a.copyCommand(),
		a.tagsCommand(), a.inspectCommand(), a.manifestCommand(), a.blobCommand(),
		a.deleteCommand(), a.catalogCommand(), a.searchCommand(),
		a.loginCommand(), a.logoutCommand(), a.pingCommand(),
		a.digestCommand(), a.configCommand(), a.tagCommand(), a.untagCommand(),
		a.completionCommand(),
		a.referrersCommand(), a.attachCommand(), a.artifactCommand(), a.syncCommand(),
	)
	for _, v := range a.verbs {
		root.AddCommand(v(a))
	}
	return root
}

// setup turns the global flags into the session every verb uses.
func (a *App) setup() error {
	opts := []lib.Option{lib.WithInsecureRegistries(a.insecure...), lib.WithCertsDirs(a.certsDirs...)}
	switch a.protocolFlag {
	case "":
	case "v1", "v2":
		opts = append(opts, lib.WithProtocol(remote.Protocol(a.protocolFlag)))
	default:
		return usagef("--protocol %q: use v1 or v2, or leave it out to detect", a.protocolFlag)
	}
	if a.quiet && a.verbose {
		return usagef("--quiet and --verbose contradict each other; pick one")
	}
	if a.configDir != "" {
		opts = append(opts, lib.WithConfigDir(a.configDir))
	}
	if a.verbose {
		opts = append(opts, lib.WithLogger(slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	nopts, err := a.net.options(a.quiet, a.stderr)
	if err != nil {
		return err
	}
	if d := lib.DefaultUploadStateDir(); d != "" {
		// A push killed part way resumes where the registry stands.
		opts = append(opts, lib.WithUploadState(d))
	}
	a.sessionOpts = append(opts, nopts...)
	s, err := lib.NewSession(a.sessionOpts...)
	if err != nil {
		return err
	}
	a.session = s
	return nil
}

// printJSON writes v as the one JSON document of this invocation.
func (a *App) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// exactArgs is cobra.ExactArgs with a usage error that names the verb's
// synopsis.
func exactArgs(n int) cobra.PositionalArgs { return rangeArgs(n, n) }

// rangeArgs is cobra.RangeArgs with a usage error that names the verb's
// synopsis.
func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= lo && len(args) <= hi {
			return nil
		}
		want := fmt.Sprintf("%d", lo)
		switch {
		case lo == 0:
			want = fmt.Sprintf("at most %d", hi)
		case hi > lo:
			want = fmt.Sprintf("%d to %d", lo, hi)
		}
		return usagef("%s takes %s argument(s), got %d; usage: %s", cmd.Name(), want, len(args), cmd.UseLine())
	}
}
