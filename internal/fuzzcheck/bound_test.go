package fuzzcheck

import (
	"os"
	"path/filepath"
	"testing"
)

var sink []byte

func TestHeapAllocatedSeesAnAllocation(t *testing.T) {
	got := HeapAllocated(func() { sink = make([]byte, 8<<20) })
	if got < 8<<20 {
		t.Fatalf("an 8 MiB allocation counted as %d bytes", got)
	}
}

func TestFileBytesReadSeesARead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	got := FileBytesRead(func() {
		if _, err := os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	})
	if got < 1<<20 {
		t.Fatalf("reading a 1 MiB file counted as %d bytes", got)
	}
}
