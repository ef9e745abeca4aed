package ocilayout

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// stageSuffix ends the name of every staging file, which Staged counts.
const stageSuffix = ".partial"

// safeRef is an ingest ref usable in a file name as it is.
var safeRef = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// stagePath is the staging file of the ingest ref: named by the ref, so
// that a later run finds what an interrupted one left. A digest names its
// file ALG-HEX.partial, as every hoist before ingests did.
func (l *Layout) stagePath(ref string) string {
	name := ref
	if d, err := digest.Parse(ref); err == nil {
		name = d.Algorithm().String() + "-" + d.Encoded()
	} else if !safeRef.MatchString(ref) {
		name = "ref-" + digest.FromString(ref).Encoded()[:40]
	}
	return filepath.Join(l.tmpDir(), name+stageSuffix)
}

// openStage opens and flocks the staging file at path, creating it empty
// if there is none. It returns nil, with no error, when another writer
// (goroutine or process) holds the lock. The caller closes the file, which
// releases the lock.
func (l *Layout) openStage(path string) (*os.File, error) {
	for range 10 {
		f, err := createIn(l.tmpDir(), func() (*os.File, error) {
			return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		})
		if err != nil {
			return nil, err
		}
		ok, err := tryLock(f)
		if err != nil || !ok {
			f.Close()
			return nil, err
		}
		// The previous holder may have renamed the file into blobs/ (or
		// discarded it) between our open and our lock: the lock is then on
		// a file nobody else will see, so open the path again.
		if sameFile(f) {
			return f, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("could not lock staging file %s", path)
}

// dropStage removes the staging file at path once its blob is in place
// by another route, unless a live writer still holds it.
func (l *Layout) dropStage(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	if ok, _ := tryLock(f); ok && sameFile(f) {
		os.Remove(f.Name())
		l.tidy()
	}
}

// createTemp creates a private temporary file for blob desc.
func (l *Layout) createTemp(desc ocispec.Descriptor) (*os.File, error) {
	return createIn(l.tmpDir(), func() (*os.File, error) {
		return os.CreateTemp(l.tmpDir(), desc.Digest.Algorithm().String()+"-"+desc.Digest.Encoded()+".*.tmp")
	})
}
