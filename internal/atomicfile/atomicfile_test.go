package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new content"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "new content" {
		t.Fatalf("after WriteFile: %q, %v", got, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("the directory holds %v; want only config.json", names)
	}
}

func TestAbortLeavesTargetAndNoTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "blob")
	if err := os.WriteFile(path, []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Create(path, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(f.Name()) != dir || filepath.Base(f.Name())[0] != '.' {
		t.Errorf("temporary file %s is not hidden beside the target", f.Name())
	}
	f.WriteString("half")
	if err := f.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil { // after Abort: nothing
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "kept" {
		t.Fatalf("target changed to %q", got)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("the directory holds %v", names)
	}
}

func TestTempDirRecreated(t *testing.T) {
	dir := t.TempDir()
	scratch := filepath.Join(dir, ".scratch")
	path := filepath.Join(dir, "index.json")
	for range 2 { // the scratch directory is made again once removed
		if err := WriteFile(path, []byte("{}"), 0o644, WithTempDir(scratch)); err != nil {
			t.Fatal(err)
		}
		if names := entries(t, scratch); len(names) != 0 {
			t.Fatalf("scratch holds %v", names)
		}
		os.Remove(scratch)
	}
}

func TestCommitFailureRemovesTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub") // a directory: the rename fails
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(path, "x"), nil, 0o644)
	if err := WriteFile(path, []byte("data"), 0o644); err == nil {
		t.Fatal("replacing a non-empty directory succeeded")
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("the directory holds %v after a failed commit", names)
	}
}
