package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEarlierTargetsKeepsMeasuredRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "RESULTS.md")
	section := "<!-- bench:targets:begin -->\n- Date: 2026-12-01 22:14 UTC\n- Versions: hoist (built from commit 3f2888c), crane v0.22.1\n" +
		"| case | profile | hoist | fastest peer | hoist ÷ peer | target | verdict | computed floor ÷ peer |\n" +
		"| pull | slow | 14.02 s | 50.97 s (crane) | 0.28× | ≤ 0.35× | **met** | 0.38× (19.33 s) |\n" +
		"| pull | lan | | | | ≤ 0.90× | not measured in this run | |\n<!-- bench:targets:end -->\n"
	if err := os.WriteFile(path, []byte(section), 0o644); err != nil {
		t.Fatal(err)
	}
	rows, from := earlierTargets(path)
	if len(rows) != 1 || !strings.HasPrefix(rows["pull|slow"], "| pull | slow | 14.02 s") {
		t.Fatalf("rows = %q", rows)
	}
	if from != "(from the run of commit 3f2888c, 2026-12-01 22:14 UTC)" {
		t.Fatalf("from = %q", from)
	}
}
