package cli

import (
	"github.com/spf13/cobra"
)

func (a *App) completionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script",
		Long: `Completion prints the script that makes SHELL complete hoist's verbs and
flags. Load it in the current shell, or install it where the shell looks
for completions.`,
		Example: `  source <(hoist completion bash)
  hoist completion bash > /etc/bash_completion.d/hoist
  hoist completion zsh > "${fpath[1]}/_hoist"
  hoist completion fish > ~/.config/fish/completions/hoist.fish`,
		Args:      exactArgs(1),
		ValidArgs: []string{"bash", "zsh", "fish"},
		// A script needs no session.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.jsonOut {
				return usagef("completion prints a shell script; --json does not apply to it")
			}
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(a.stdout, true)
			case "zsh":
				return root.GenZshCompletion(a.stdout)
			case "fish":
				return root.GenFishCompletion(a.stdout, true)
			}
			return usagef("completion %q: hoist writes scripts for bash, zsh and fish", args[0])
		},
	}
}
