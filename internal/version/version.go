// Package version says which hoist this is, for --version and the
// User-Agent header.
package version

import (
	"runtime"
	"runtime/debug"
)

// Version is hoist's version. Release builds set it with
// -ldflags "-X github.com/hoist-dev/hoist/internal/version.Version=v1.2.3";
// otherwise it comes from the build information: the module version of a
// `go install ...@VERSION`, or the VCS revision of a build from a checkout.
var Version = ""

// Info is what a binary knows of its own version.
type Info struct {
	// Version is Version, the module version, or "devel" when the build
	// recorded neither (then Revision may say more).
	Version string
	// Revision is the VCS revision the binary was built from, when the
	// build recorded it (go build in a checkout stamps it unless
	// -buildvcs=false), and Modified whether the tree had changes.
	Revision string
	Modified bool
}

// String is "v1.2.3", "devel (git 1a2b3c4d5e6f)", "devel (git
// 1a2b3c4d5e6f, modified)" or "devel".
func (i Info) String() string {
	s := i.Version
	if i.Revision != "" && i.Version == "devel" {
		s += " (git " + shortRev(i.Revision)
		if i.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s
}

// Get returns the version information of the running binary.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = &debug.BuildInfo{}
	}
	return fromBuildInfo(Version, bi)
}

func fromBuildInfo(set string, bi *debug.BuildInfo) Info {
	i := Info{Version: set}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		i.Version = bi.Main.Version
	}
	if i.Version == "" {
		i.Version = "devel"
	}
	return i
}

// String returns the version as --version prints it (see Info.String).
func String() string { return Get().String() }

// UserAgent is the User-Agent hoist sends: "hoist/VERSION (GOOS/GOARCH)".
func UserAgent() string {
	v := Get()
	s := v.Version
	if s == "devel" && v.Revision != "" {
		s += "+" + shortRev(v.Revision)
	}
	return "hoist/" + s + " (" + runtime.GOOS + "/" + runtime.GOARCH + ")"
}

func shortRev(r string) string {
	if len(r) > 12 {
		return r[:12]
	}
	return r
}
