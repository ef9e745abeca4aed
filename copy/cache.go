package copy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/hoist-dev/hoist/internal/atomicfile"
)

// DefaultMaxCacheEntries bounds the blob-location cache; the blobs seen
// longest ago are forgotten first.
const DefaultMaxCacheEntries = 20000

// BlobCache remembers in which repositories of which registries a blob was
// seen, so a later copy into that registry can mount the blob instead of
// uploading it (skopeo keeps the same kind of cache). It is advisory: a
// stale entry costs one refused mount.
//
// A nil *BlobCache is valid and remembers nothing. Methods are safe for
// concurrent use; Save merges with what other processes saved meanwhile.
type BlobCache struct {
	path string
	max  int

	mu    sync.Mutex
	blobs map[digest.Digest]map[string]int64 // "registry/repo" -> unix seconds last seen
	now   func() time.Time
}

type cacheFile struct {
	Version int                                `json:"version"`
	Blobs   map[digest.Digest]map[string]int64 `json:"blobs"`
}

// DefaultBlobCachePath is $XDG_CACHE_HOME/hoist/blob-locations.json, or
// ~/.cache/hoist/blob-locations.json.
func DefaultBlobCachePath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "hoist", "blob-locations.json"), nil
}

// OpenBlobCache loads the cache at path. A missing file is an empty cache.
// A file that does not parse is an error naming it (delete it to start
// afresh: it only holds hints).
func OpenBlobCache(path string) (*BlobCache, error) {
	c := &BlobCache{path: path, max: DefaultMaxCacheEntries, blobs: map[digest.Digest]map[string]int64{}, now: time.Now}
	f, err := c.read()
	if err != nil {
		return nil, err
	}
	c.blobs = f.Blobs
	return c, nil
}

func (c *BlobCache) read() (*cacheFile, error) {
	f := &cacheFile{Blobs: map[digest.Digest]map[string]int64{}}
	b, err := os.ReadFile(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("blob-location cache: %w", err)
	}
	if err := json.Unmarshal(b, f); err != nil {
		return nil, fmt.Errorf("blob-location cache %s is corrupt (%v); delete it, it only holds hints", c.path, err)
	}
	if f.Blobs == nil {
		f.Blobs = map[digest.Digest]map[string]int64{}
	}
	return f, nil
}

// Add records that registry/repository holds d.
func (c *BlobCache) Add(registry, repository string, d digest.Digest) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.blobs[d]
	if m == nil {
		m = map[string]int64{}
		c.blobs[d] = m
	}
	m[registry+"/"+repository] = c.now().Unix()
}

// Repositories returns the repositories of registry known to hold d, the
// most recently seen first.
func (c *BlobCache) Repositories(registry string, d digest.Digest) []string {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	type seen struct {
		repo string
		at   int64
	}
	var out []seen
	for loc, at := range c.blobs[d] {
		if repo, ok := strings.CutPrefix(loc, registry+"/"); ok {
			out = append(out, seen{repo, at})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].at != out[j].at {
			return out[i].at > out[j].at
		}
		return out[i].repo < out[j].repo
	})
	repos := make([]string, len(out))
	for i, s := range out {
		repos[i] = s.repo
	}
	return repos
}

// Save writes the cache, merged with what is on disk now, atomically and
// under a lock, keeping the most recent DefaultMaxCacheEntries blobs.
func (c *BlobCache) Save() error {
	if c == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return fmt.Errorf("blob-location cache: %w", err)
	}
	lock, err := os.OpenFile(c.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("blob-location cache: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("blob-location cache: lock %s: %w", lock.Name(), err)
	}
	defer unix.Flock(int(lock.Fd()), unix.LOCK_UN)

	disk, err := c.read()
	if err != nil {
		disk = &cacheFile{Blobs: map[digest.Digest]map[string]int64{}} // a corrupt cache is replaced
	}
	c.mu.Lock()
	for d, locs := range c.blobs {
		m := disk.Blobs[d]
		if m == nil {
			m = map[string]int64{}
			disk.Blobs[d] = m
		}
		for l, at := range locs {
			if at > m[l] {
				m[l] = at
			}
		}
	}
	c.mu.Unlock()
	prune(disk.Blobs, c.max)
	disk.Version = 1
	b, err := json.Marshal(disk)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(c.path, b, 0o600); err != nil {
		return fmt.Errorf("blob-location cache: %w", err)
	}
	return nil
}

// prune keeps the max blobs seen most recently.
func prune(blobs map[digest.Digest]map[string]int64, limit int) {
	if len(blobs) <= limit {
		return
	}
	type entry struct {
		d  digest.Digest
		at int64
	}
	all := make([]entry, 0, len(blobs))
	for d, locs := range blobs {
		var last int64
		for _, at := range locs {
			last = max(last, at)
		}
		all = append(all, entry{d, last})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].at > all[j].at })
	for _, e := range all[limit:] {
		delete(blobs, e.d)
	}
}
