package cli

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hoist-dev/hoist/internal/version"
)

// runRoot is hoist without a verb: --version, the help, or an unknown
// verb (a usage error, with the verbs it may have meant).
func (a *App) runRoot(cmd *cobra.Command, args []string) error {
	switch {
	case len(args) > 0:
		msg := fmt.Sprintf("unknown verb %q", args[0])
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return usagef("%s; run hoist help for the verbs", msg)
	case a.showVersion:
		info := version.Get()
		if a.jsonOut {
			return a.printJSON(versionDoc{Version: info.Version, Revision: info.Revision, Modified: info.Modified, GoVersion: runtime.Version()})
		}
		fmt.Fprintf(a.stdout, "hoist %s\n", info)
		return nil
	}
	return cmd.Help()
}

// versionDoc is hoist --version --json.
type versionDoc struct {
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"goVersion"`
}

// helpCommand is cobra's help verb with a usage error for a topic that
// is not a verb.
func (a *App) helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [VERB]",
		Short: "Explain a verb, with examples",
		Long:  `Help explains VERB with its flags and examples; without VERB it lists the verbs.`,
		Example: `  hoist help pull
  hoist help tag`,
		Args: rangeArgs(0, 1),
		// The help needs no session.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			if len(args) == 0 {
				return root.Help()
			}
			target, rest, err := root.Find(args)
			if err != nil || target == root || len(rest) > 0 {
				return usagef("no help for %q: it is not a verb; run hoist help for the verbs", args[0])
			}
			if target.Name() == "serve" && target.DisableFlagParsing {
				return a.serveHelp(target)
			}
			return target.Help()
		},
	}
}
