package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/legacy"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store/remote"
)

func (a *app) loginCommand() *cobra.Command {
	var user, email string
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "login [SERVER]",
		Short: "Log in to a registry and store the credentials",
		Long: `Login checks a user name and password against SERVER (default: Docker Hub)
and, only if the registry accepts them, stores them where docker would:
with the credential helper config.json names for SERVER (credHelpers) or for
every registry (credsStore), else in config.json itself (mode 0600, written
atomically; every other field of the file is kept as it was).

The password is read from stdin with --password-stdin, or asked for without
echo when stdin is a terminal. It is never taken from the command line.

For a v2 registry the credentials must earn a token (or make /v2/ answer
200 with Basic). A v1 registry is logged in to through its users/ endpoint
as the original docker client did. When the check fails, hoist exits 1 with
the reason and leaves every file as it was.`,
		Example: `  echo "$TOKEN" | hoist login registry.example.com -u ci --password-stdin
  hoist login localhost:5000 -u alice
  hoist login --config ./docker-config ghcr.io -u me --password-stdin < token.txt`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := reference.DefaultRegistry
			if len(args) == 1 {
				server = args[0]
			}
			if user == "" {
				if !isTerminal(a.stdinFile()) {
					return usagef("login needs a user name: pass -u USER")
				}
				fmt.Fprint(a.stderr, "Username: ")
				line, err := bufio.NewReader(a.stdin).ReadString('\n')
				if err != nil {
					return fmt.Errorf("reading the user name: %w", err)
				}
				user = strings.TrimSpace(line)
			}
			var password string
			var err error
			switch {
			case passwordStdin:
				password, err = auth.ReadPassword(a.stdin)
			case isTerminal(a.stdinFile()):
				password, err = auth.PromptPassword(a.stdinFile(), a.stderr, "Password: ")
			default:
				return usagef("login needs a password: pipe it in with --password-stdin (stdin is not a terminal to prompt on)")
			}
			if err != nil {
				return err
			}
			cred := auth.Credential{Username: user, Password: password}
			v, err := a.loginVerifier(cmd, server, email)
			if err != nil {
				return err
			}
			if err := auth.Login(cmd.Context(), a.credentials(), server, cred, v); err != nil {
				return err
			}
			if !a.quiet {
				if a.v1LoginStatus == legacy.AccountCreated {
					fmt.Fprintln(a.stdout, a.v1LoginStatus.String())
				} else {
					fmt.Fprintln(a.stdout, "Login Succeeded")
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&user, "username", "u", "", "user name")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password (or token) from stdin")
	f.StringVar(&email, "email", "", "e-mail address, for v1 registries that create accounts on login")
	return cmd
}

// loginVerifier picks how to check credentials for server: v2 unless the
// registry speaks only v1.
func (a *app) loginVerifier(cmd *cobra.Command, server, email string) (auth.Verifier, error) {
	host := auth.NormalizeHost(server)
	p := remote.V2
	if !reference.IsDockerHub(host) { // Docker Hub's v2 answers; its v1 login is gone
		var err error
		if p, err = a.protocol(cmd.Context(), host); err != nil {
			return nil, err
		}
	}
	if p == remote.V1 {
		report := func(server string, s legacy.LoginStatus) { a.v1LoginStatus = s }
		return legacy.NewVerifier(email, report, legacy.WithTransport(a.tr)), nil
	}
	return auth.NewV2Verifier(a.tr, a.authOptions()...), nil
}

func (a *app) logoutCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "logout [SERVER]",
		Short: "Remove the stored credentials for a registry",
		Long: `Logout erases the credentials stored for SERVER (default: Docker Hub): from
the credential helper that holds them, or from config.json. Other entries
and fields of config.json are kept as they were. Logging out of a registry
hoist has no credentials for is not an error.`,
		Example: `  hoist logout registry.example.com
  hoist logout --config ./docker-config localhost:5000`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := reference.DefaultRegistry
			if len(args) == 1 {
				server = args[0]
			}
			err := a.credentials().Erase(cmd.Context(), auth.NormalizeHost(server))
			switch {
			case errors.Is(err, auth.ErrNotLoggedIn):
				if !a.quiet {
					fmt.Fprintf(a.stdout, "Not logged in to %s\n", server)
				}
				return nil
			case err != nil:
				return err
			}
			if !a.quiet {
				fmt.Fprintf(a.stdout, "Removing login credentials for %s\n", server)
			}
			return nil
		},
	}
}

// stdinFile returns stdin as a file when it is one (for terminal checks).
func (a *app) stdinFile() *os.File {
	f, _ := a.stdin.(*os.File)
	return f
}
