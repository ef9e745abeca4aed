package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "1a2b3c4d5e6f7a8b9c0d"}, {Key: "vcs.modified", Value: "true"}}
	for _, tt := range []struct {
		set, mod string
		settings []debug.BuildSetting
		want     string
	}{
		{"v1.2.3", "(devel)", vcs, "v1.2.3"},
		{"", "v0.4.0", nil, "v0.4.0"},
		{"", "v0.0.0-20261201185027-1a2b3c4d5e6f", vcs, "v0.0.0-20261201185027-1a2b3c4d5e6f"},
		{"", "(devel)", vcs, "devel (git 1a2b3c4d5e6f, modified)"},
		{"", "(devel)", vcs[:1], "devel (git 1a2b3c4d5e6f)"},
		{"", "(devel)", nil, "devel"},
	} {
		bi := &debug.BuildInfo{Main: debug.Module{Version: tt.mod}, Settings: tt.settings}
		if got := fromBuildInfo(tt.set, bi).String(); got != tt.want {
			t.Errorf("fromBuildInfo(%q, %q) = %q; want %q", tt.set, tt.mod, got, tt.want)
		}
	}
}
