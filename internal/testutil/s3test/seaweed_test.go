package s3test

import (
	"os"
	"strings"
	"testing"
)

// The SeaweedFS version tests run is the one .ci/tools builds.
func TestSeaweedVersionMatchesCITools(t *testing.T) {
	b, err := os.ReadFile("../../../.ci/tools")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\nWEED_VERSION="+SeaweedVersion+"\n") {
		t.Fatalf(".ci/tools does not build SeaweedFS %s (s3test.SeaweedVersion): keep the two in step", SeaweedVersion)
	}
}
