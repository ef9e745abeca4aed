// Package version says which hoist this is, for --version and the
// User-Agent header.
package version

import (
	"runtime"
	"runtime/debug"
)

// Version is hoist's version. Release builds set it with
// -ldflags "-X github.com/hoist-dev/hoist/internal/version.Version=v1.2.3";
// otherwise it comes from the module's build information, or "devel".
var Version = ""

// String returns Version, falling back to the build information.
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// UserAgent is the User-Agent hoist sends: "hoist/VERSION (GOOS/GOARCH)".
func UserAgent() string {
	return "hoist/" + String() + " (" + runtime.GOOS + "/" + runtime.GOARCH + ")"
}
