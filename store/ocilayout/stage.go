package ocilayout

import (
	"fmt"
	"os"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// stagePath is the staging file of blob desc: named by its digest so that
// a later run finds what an interrupted one left.
func (l *Layout) stagePath(desc ocispec.Descriptor) string {
	return filepath.Join(l.tmpDir(), desc.Digest.Algorithm().String()+"-"+desc.Digest.Encoded()+".partial")
}

// openStage opens and flocks blob desc's staging file, creating it empty
// if there is none. It returns nil, with no error, when another writer
// (goroutine or process) holds the lock. The caller closes the file, which
// releases the lock.
func (l *Layout) openStage(desc ocispec.Descriptor) (*os.File, error) {
	path := l.stagePath(desc)
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

// dropStage removes blob desc's staging file once the blob is in place by
// another route, unless a live writer still holds it.
func (l *Layout) dropStage(desc ocispec.Descriptor) {
	f, err := os.Open(l.stagePath(desc))
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
