package cli

import (
	"errors"
	"strings"

	"github.com/hoist-dev/hoist/transport"
)

// hintFlags maps the library options that errors name
// (transport.OptionHint) to the flag that sets them; "" for an option the
// command has no flag for, whose hint is then left out.
var hintFlags = map[string]string{
	"hosts.Config.Insecure":                                 "--insecure-registry",
	"hosts.Config.Insecure (and auth.WithPlainHTTPAllowed)": "--insecure-registry",
	"distribution.WithMaxManifestSize":                      "",
	"distribution.WithMaxChunkSize":                         "--chunk-size BYTES",
	"auth.WithConfigDir":                                    "--config DIR",
	"distribution.ListOptions.Limit":                        "--limit N",
	"hoist.WithMaxWait":                                     "--max-wait DURATION",
	"transport.WithMinThroughput":                           "--speed-limit BYTES",
	"transport.WithResponseHeaderTimeout":                   "--response-timeout DURATION",
	"copy.WithPlatforms":                                    "--platform os/arch",
}

// flagHints rewrites, in msg (err's message), each library option hint
// into the flag that does the same.
func flagHints(msg string, err error) string {
	for err != nil {
		var oh *transport.OptionHint
		if !errors.As(err, &oh) {
			break
		}
		if flag, ok := hintFlags[oh.Option]; ok {
			with := ""
			if flag != "" {
				with = " (" + oh.Action + " with " + flag
				if oh.Value != "" {
					with += " " + oh.Value
				}
				with += ")"
			}
			msg = strings.ReplaceAll(msg, " ("+oh.Hint()+")", with)
		}
		err = oh.Err
	}
	return msg
}
