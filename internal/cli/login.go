package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	lib "github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/legacy"
	"github.com/hoist-dev/hoist/reference"
)

func (a *App) loginCommand() *cobra.Command {
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
		Args: rangeArgs(0, 1),
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
				password, err = readPassword(a.stdin)
			case isTerminal(a.stdinFile()):
				password, err = promptPassword(a.stdinFile(), a.stderr, "Password: ")
			default:
				return usagef("login needs a password: pipe it in with --password-stdin (stdin is not a terminal to prompt on)")
			}
			if err != nil {
				return err
			}
			status, err := a.session.Login(cmd.Context(), server, user, password, lib.WithEmail(email))
			if err != nil {
				return err
			}
			msg := "Login Succeeded"
			if status == legacy.AccountCreated {
				msg = status.String()
			}
			switch {
			case a.jsonOut:
				return a.printJSON(loginDoc{Server: server, Username: user, AccountCreated: status == legacy.AccountCreated, Message: msg})
			case !a.quiet:
				fmt.Fprintln(a.stdout, msg)
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

func (a *App) logoutCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "logout [SERVER]",
		Short: "Remove the stored credentials for a registry",
		Long: `Logout erases the credentials stored for SERVER (default: Docker Hub): from
the credential helper that holds them, or from config.json. Other entries
and fields of config.json are kept as they were. Logging out of a registry
hoist has no credentials for is not an error.`,
		Example: `  hoist logout registry.example.com
  hoist logout --config ./docker-config localhost:5000`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := reference.DefaultRegistry
			if len(args) == 1 {
				server = args[0]
			}
			err := a.session.Logout(cmd.Context(), server)
			msg := fmt.Sprintf("Removing login credentials for %s", server)
			switch {
			case errors.Is(err, auth.ErrNotLoggedIn):
				msg = fmt.Sprintf("Not logged in to %s", server)
			case err != nil:
				return err
			}
			switch {
			case a.jsonOut:
				return a.printJSON(logoutDoc{Server: server, Removed: err == nil, Message: msg})
			case !a.quiet:
				fmt.Fprintln(a.stdout, msg)
			}
			return nil
		},
	}
}

// stdinFile returns stdin as a file when it is one (for terminal checks).
func (a *App) stdinFile() *os.File {
	f, _ := a.stdin.(*os.File)
	return f
}

// loginDoc is hoist login --json.
type loginDoc struct {
	Server         string `json:"server"`
	Username       string `json:"username"`
	AccountCreated bool   `json:"accountCreated"`
	Message        string `json:"message"`
}

// logoutDoc is hoist logout --json; Removed is false when there were no
// credentials to remove.
type logoutDoc struct {
	Server  string `json:"server"`
	Removed bool   `json:"removed"`
	Message string `json:"message"`
}
