package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

const resultsPreamble = `# hoist benchmark results

Written by ` + "`go run ./bench`" + ` (see bench/README.md for what each case does and how
to read the tables). Each section records the command that produced it; a run
replaces only the sections it measured.
`

// sectionOrder is the order of sections in the results file. "notes" and
// "notes-wan" are written by hand (the analysis of missed targets, on
// loopback and under the profiles); the program only keeps them.
var sectionOrder = []string{"results", "results-lan", "results-far", "results-throttled", "results-slow", "targets", "notes-wan", "sweep", "servers", "servers-s3", "sync-loopback", "sync-lan", "sync-far", "sync-throttled", "sync-slow", "notes"}

func sectionMarkers(name string) (begin, end string) {
	return fmt.Sprintf("<!-- bench:%s:begin -->", name), fmt.Sprintf("<!-- bench:%s:end -->", name)
}

// updateResultsFile writes sections into the Markdown file at path,
// replacing those sections and keeping the others it already held.
func updateResultsFile(path string, sections map[string]string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	body := mergeSections(string(old), sections)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// mergeSections returns the file text with sections replaced: kept ones
// come from old, in sectionOrder.
func mergeSections(old string, sections map[string]string) string {
	var b strings.Builder
	b.WriteString(resultsPreamble)
	for _, name := range sectionOrder {
		text, ok := sections[name]
		if !ok {
			begin, end := sectionMarkers(name)
			i := strings.Index(old, begin)
			j := strings.Index(old, end)
			if i < 0 || j < i {
				continue
			}
			text = strings.TrimSpace(old[i+len(begin) : j])
		}
		begin, end := sectionMarkers(name)
		fmt.Fprintf(&b, "\n%s\n%s\n%s\n", begin, strings.TrimSpace(text), end)
	}
	return b.String()
}
