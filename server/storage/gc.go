package storage

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	driver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/content"
)

// GCConfig says what a garbage collection may remove.
type GCConfig struct {
	// Grace keeps anything written or used more recently than this: a
	// blob uploaded but not yet referenced by its manifest, an upload
	// still going on. It must be longer than the longest push. Zero means
	// DefaultGrace.
	Grace time.Duration
	// DryRun counts what would go and removes nothing.
	DryRun bool
}

// DefaultGrace is the GC grace period unless GCConfig.Grace says otherwise.
const DefaultGrace = time.Hour

// GCReport is what a garbage collection found and did.
type GCReport struct {
	Manifests      int   // manifests found in repositories: the roots
	BlobsKept      int   // blobs reachable, or within the grace period
	BlobsRemoved   int   // blobs removed (or, in a dry run, that would be)
	BytesRemoved   int64 // their size
	UploadsRemoved int   // abandoned uploads removed
	LinksRemoved   int   // repository links to removed blobs, and stale referrer entries
}

// GC removes every blob no manifest of any repository refers to, once it
// is older than the grace period, and every upload untouched for that
// long. It runs while the registry serves: a blob a manifest push is
// checking is fenced by its used file (the push touches it, then checks
// the blob; GC moves the blob aside, then reads used again and puts the
// blob back if it was touched), so a push either sees its blob kept or is
// refused with the blob missing, never accepted without it.
func (ns *Namespace) GC(ctx context.Context, cfg GCConfig) (GCReport, error) {
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	var rep GCReport
	cutoff := ns.cfg.now().Add(-cfg.Grace)
	if !cfg.DryRun {
		if err := ns.restoreAside(ctx); err != nil {
			return rep, err
		}
	}
	var repos []string
	if err := ns.walkRepos(ctx, rootRepos, "", true, &repos); err != nil {
		return rep, err
	}
	marked, err := ns.markAll(ctx, repos, &rep)
	if err != nil {
		return rep, err
	}
	removed := map[digest.Digest]bool{}
	if err := ns.sweepBlobs(ctx, marked, cutoff, cfg.DryRun, removed, &rep); err != nil {
		return rep, err
	}
	for _, name := range repos {
		if err := ns.sweepRepo(ctx, name, removed, cutoff, cfg.DryRun, &rep); err != nil {
			return rep, err
		}
	}
	if !cfg.DryRun {
		ns.sweepOld(ctx, rootTmp, cutoff)
	}
	return rep, nil
}

// listDigests lists dir/ALG/HEX entries as digests.
func (ns *Namespace) listDigests(ctx context.Context, dir string) ([]digest.Digest, error) {
	algs, err := ns.d.List(ctx, dir)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []digest.Digest
	for _, a := range algs {
		hexes, err := ns.d.List(ctx, a)
		if err != nil && !isNotFound(err) {
			return nil, err
		}
		for _, h := range hexes {
			d := digest.NewDigestFromEncoded(digest.Algorithm(path.Base(a)), path.Base(h))
			if d.Validate() == nil {
				out = append(out, d)
			}
		}
	}
	return out, nil
}

// gcWorkers bounds the storage requests one GC has in flight: an object
// store answers each in milliseconds, so one at a time would take minutes
// over a registry of a few thousand blobs. (A variable: the fence test
// runs one at a time, to place a push between two steps of one blob.)
var gcWorkers = 16

// markSet is the set of digests reachable from a manifest.
type markSet struct {
	mu sync.Mutex
	m  map[digest.Digest]bool
}

func (s *markSet) add(ds ...digest.Digest) {
	s.mu.Lock()
	for _, d := range ds {
		s.m[d] = true
	}
	s.mu.Unlock()
}

// markAll marks every manifest of the repositories, and what they refer
// to, reading the manifests gcWorkers at a time.
func (ns *Namespace) markAll(ctx context.Context, repos []string, rep *GCReport) (map[digest.Digest]bool, error) {
	type root struct {
		r *Repository
		d digest.Digest
	}
	var roots []root
	for _, name := range repos {
		r, err := ns.repository(name)
		if err != nil {
			continue // not a repository name: nothing of it is served
		}
		ds, err := ns.listDigests(ctx, path.Join(r.root, dirManifests))
		if err != nil {
			return nil, fmt.Errorf("gc: manifests of %s: %w", name, err)
		}
		for _, d := range ds {
			roots = append(roots, root{r, d})
		}
	}
	rep.Manifests = len(roots)
	marked := &markSet{m: map[digest.Digest]bool{}}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(gcWorkers)
	for _, rt := range roots {
		marked.add(rt.d)
		g.Go(func() error {
			mt, err := ns.d.GetContent(gctx, rt.r.manifestLink(rt.d))
			if err != nil {
				return nil // deleted meanwhile
			}
			m, err := ns.readManifest(gctx, rt.d, string(mt))
			if err != nil {
				if isNotFound(errors.Unwrap(err)) {
					return nil
				}
				return fmt.Errorf("gc: %s@%s: %w", rt.r.name, rt.d, err)
			}
			var kids []digest.Digest
			for _, c := range content.Children(m) {
				if c.Role != content.RoleSubject {
					kids = append(kids, c.Descriptor.Digest)
				}
			}
			marked.add(kids...)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return marked.m, nil
}

// blobFiles is what one listing of blobs/ says of a blob.
type blobFiles struct {
	data, used time.Time
	hasData    bool
}

// listBlobs lists blobs/ in one walk (on S3 a listing of 1000 keys a
// request, with their times) rather than a stat per blob.
func (ns *Namespace) listBlobs(ctx context.Context) (map[digest.Digest]*blobFiles, error) {
	out := map[digest.Digest]*blobFiles{}
	err := ns.d.Walk(ctx, rootBlobs, func(fi driver.FileInfo) error {
		if fi.IsDir() {
			return nil
		}
		f := strings.Split(strings.TrimPrefix(fi.Path(), rootBlobs+"/"), "/") // ALG/HH/HEX/FILE
		if len(f) != 4 {
			return nil
		}
		d := digest.NewDigestFromEncoded(digest.Algorithm(f[0]), f[2])
		if d.Validate() != nil {
			return nil
		}
		e := out[d]
		if e == nil {
			e = &blobFiles{}
			out[d] = e
		}
		switch f[3] {
		case "data":
			e.data, e.hasData = fi.ModTime(), true
		case "used":
			e.used = fi.ModTime()
		}
		return nil
	})
	if isNotFound(err) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("gc: listing blobs: %w", err)
	}
	return out, nil
}

// sweepBlobs removes unmarked blobs older than cutoff. The listing picks
// the candidates; sweepBlob checks each again, live, before it takes it.
func (ns *Namespace) sweepBlobs(ctx context.Context, marked map[digest.Digest]bool, cutoff time.Time, dry bool, removed map[digest.Digest]bool, rep *GCReport) error {
	blobs, err := ns.listBlobs(ctx)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(gcWorkers)
	for d, f := range blobs {
		if marked[d] || (f.hasData && (f.data.After(cutoff) || f.used.After(cutoff))) {
			if f.hasData {
				rep.BlobsKept++
			}
			continue
		}
		g.Go(func() error {
			gone, size, err := ns.sweepBlob(gctx, d, cutoff, dry)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			if gone {
				rep.BlobsRemoved++
				rep.BytesRemoved += size
				removed[d] = true
			} else if f.hasData {
				rep.BlobsKept++
			}
			return nil
		})
	}
	return g.Wait()
}

// sweepBlob removes the unmarked blob d unless it, or its used file, is
// newer than cutoff. The used file is read again after the blob is moved
// aside: a manifest push that touched it meanwhile gets it back.
func (ns *Namespace) sweepBlob(ctx context.Context, d digest.Digest, cutoff time.Time, dry bool) (bool, int64, error) {
	usedAt := func() time.Time {
		if fi, err := ns.d.Stat(ctx, blobUsed(d)); err == nil {
			return fi.ModTime()
		}
		return time.Time{}
	}
	fi, err := ns.d.Stat(ctx, blobData(d))
	if isNotFound(err) {
		// A used file alone: a push checked a blob that never came. A
		// directory without even that may be a blob being moved in right
		// now: leave it.
		if u := usedAt(); !dry && !u.IsZero() && u.Before(cutoff) {
			_ = ns.deleteIfExists(ctx, blobUsed(d))
		}
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("gc: blob %s: %w", d, err)
	}
	used := usedAt()
	if fi.ModTime().After(cutoff) || used.After(cutoff) {
		return false, 0, nil
	}
	if dry {
		return true, fi.Size(), nil
	}
	aside := path.Join(rootTrash, string(d.Algorithm())+"-"+d.Encoded())
	if err := ns.d.Move(ctx, blobData(d), aside); err != nil {
		if isNotFound(err) {
			return false, 0, nil
		}
		return false, 0, fmt.Errorf("gc: blob %s: %w", d, err)
	}
	if !usedAt().Equal(used) {
		if err := ns.d.Move(ctx, aside, blobData(d)); err != nil {
			return false, 0, fmt.Errorf("gc: putting back blob %s, which a push took meanwhile: %w", d, err)
		}
		return false, 0, nil
	}
	if err := ns.deleteIfExists(ctx, aside); err != nil {
		return false, 0, err
	}
	// A push may have uploaded the blob again meanwhile: keep its data.
	if _, err := ns.d.Stat(ctx, blobData(d)); isNotFound(err) {
		_ = ns.deleteIfExists(ctx, blobUsed(d))
	}
	return true, fi.Size(), nil
}

// rootTrash is where GC moves a blob aside while it decides.
const rootTrash = rootDir + "/trash"

// restoreAside puts back blobs an earlier GC moved aside and did not get
// to decide on (it was killed in between): this run decides again.
func (ns *Namespace) restoreAside(ctx context.Context) error {
	kids, err := ns.d.List(ctx, rootTrash)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("gc: listing %s: %w", rootTrash, err)
	}
	for _, k := range kids {
		alg, hex, ok := strings.Cut(path.Base(k), "-")
		d := digest.NewDigestFromEncoded(digest.Algorithm(alg), hex)
		if !ok || d.Validate() != nil {
			continue
		}
		if _, err := ns.d.Stat(ctx, blobData(d)); err == nil {
			_ = ns.deleteIfExists(ctx, k) // uploaded again since
			continue
		}
		if err := ns.move(ctx, k, blobData(d)); err != nil {
			return fmt.Errorf("gc: putting back blob %s from %s: %w", d, k, err)
		}
	}
	return nil
}

// sweepRepo removes repository name's links to removed blobs, referrer
// entries of deleted manifests, and uploads untouched since cutoff.
func (ns *Namespace) sweepRepo(ctx context.Context, name string, removed map[digest.Digest]bool, cutoff time.Time, dry bool, rep *GCReport) error {
	r, err := ns.repository(name)
	if err != nil {
		return nil
	}
	links, err := ns.listDigests(ctx, path.Join(r.root, dirBlobs))
	if err != nil {
		return fmt.Errorf("gc: blob links of %s: %w", name, err)
	}
	for _, d := range links {
		if !removed[d] {
			continue
		}
		if _, err := ns.d.Stat(ctx, blobData(d)); !isNotFound(err) {
			continue // uploaded again since
		}
		rep.LinksRemoved++
		if !dry {
			_ = ns.deleteIfExists(ctx, r.blobLink(d))
		}
	}
	subjects, err := ns.listDigests(ctx, path.Join(r.root, dirReferrers))
	if err != nil {
		return err
	}
	for _, s := range subjects {
		dir := path.Join(r.root, dirReferrers, string(s.Algorithm()), s.Encoded())
		entries, _ := ns.d.List(ctx, dir)
		for _, e := range entries {
			alg, hex, ok := strings.Cut(path.Base(e), "-")
			if !ok {
				continue
			}
			ref := digest.NewDigestFromEncoded(digest.Algorithm(alg), hex)
			if _, err := ns.d.Stat(ctx, r.manifestLink(ref)); !isNotFound(err) {
				continue
			}
			if fi, err := ns.d.Stat(ctx, e); err == nil && fi.ModTime().Before(cutoff) {
				rep.LinksRemoved++
				if !dry {
					_ = ns.deleteIfExists(ctx, e)
				}
			}
		}
	}
	active, err := ns.uploadsActiveSince(ctx, path.Join(r.root, dirUploads))
	if err != nil {
		return err
	}
	for u, at := range active {
		if at.Before(cutoff) {
			rep.UploadsRemoved++
			if !dry {
				ns.removeUpload(ctx, u)
			}
		}
	}
	return nil
}

// uploadsActiveSince lists, in one walk of dir, each upload's directory
// and when it last moved: its start, its bytes, or its newest hash state.
// On an object store the bytes are an unfinished multipart upload that a
// listing does not show, and the hash states (saved at every part
// boundary) are what shows it going on. A directory without a file (an
// object store that keeps the prefixes of deleted keys) is no upload.
func (ns *Namespace) uploadsActiveSince(ctx context.Context, dir string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := ns.d.Walk(ctx, dir, func(fi driver.FileInfo) error {
		if fi.IsDir() {
			return nil
		}
		rel := strings.TrimPrefix(fi.Path(), dir+"/")
		id, _, ok := strings.Cut(rel, "/")
		if !ok {
			return nil
		}
		u := path.Join(dir, id)
		if t := fi.ModTime(); t.After(out[u]) {
			out[u] = t
		}
		return nil
	})
	if isNotFound(err) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("gc: listing %s: %w", dir, err)
	}
	return out, nil
}

// removeUpload deletes the upload in dir, cancelling its unfinished
// multipart upload first where the driver keeps one (deleting the path
// does not end it, and its parts would stay in the bucket).
func (ns *Namespace) removeUpload(ctx context.Context, dir string) {
	if w, err := ns.d.Writer(ctx, path.Join(dir, "data"), true); err == nil {
		_ = w.Cancel(ctx)
	}
	_ = ns.deleteIfExists(ctx, dir)
}

// sweepOld deletes the files directly under dir older than cutoff.
func (ns *Namespace) sweepOld(ctx context.Context, dir string, cutoff time.Time) {
	kids, _ := ns.d.List(ctx, dir)
	for _, k := range kids {
		if fi, err := ns.d.Stat(ctx, k); err == nil && fi.ModTime().Before(cutoff) {
			_ = ns.deleteIfExists(ctx, k)
		}
	}
}
