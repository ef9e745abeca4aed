package syncer

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Bounds of a layout tree walk.
const (
	maxTreeDepth   = 16
	maxTreeEntries = 1_000_000
)

// layoutRepositories lists the OCI layouts under dir (a directory holding
// an oci-layout file), as paths relative to dir, sorted: the repositories
// of a layout tree, which a sync to oci:DIR writes one per repository.
func layoutRepositories(ctx context.Context, dir string) ([]string, error) {
	var out []string
	seen := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if seen++; seen > maxTreeEntries {
			return fmt.Errorf("more than %d entries under %s; hoist walks at most that", maxTreeEntries, dir)
		}
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if _, err := os.Stat(filepath.Join(p, "oci-layout")); err == nil {
			if rel != "." {
				out = append(out, filepath.ToSlash(rel))
			}
			return fs.SkipDir // a layout's blobs hold no layouts
		}
		if rel != "." && len(filepath.SplitList(rel)) > 0 && depth(rel) >= maxTreeDepth {
			return fs.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the layouts under %s: %w", dir, err)
	}
	sort.Strings(out)
	return out, nil
}

func depth(rel string) int {
	n := 1
	for _, c := range rel {
		if c == filepath.Separator {
			n++
		}
	}
	return n
}
