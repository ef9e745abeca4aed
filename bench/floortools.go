package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// floorName is the curl floor's name in tables and -tools: one connection
// per blob, every blob at once.
const floorName = "floor"

// rangedFloorName is the measured floor that splits the blobs over N
// parallel ranged GETs (-ranges), under shaped profiles.
const rangedFloorName = "floor-ranged"

// isFloor says whether a table row is a floor rather than a tool.
func isFloor(name string) bool { return name == floorName || name == rangedFloorName }

// curlFloor is the classic floor: every case, curl doing the raw
// transfer.
var curlFloor = &tool{name: floorName, bin: "curl",
	args: func(caseName, run) ([]string, string) { return nil, "" },
	floor: func(ctx context.Context, cu *curls, h *harness, c caseName, r run) error {
		switch c {
		case casePull:
			return floorPull(ctx, cu, r, h.fx.big)
		case casePush:
			return floorPush(ctx, cu, r, h.fx.big)
		case caseMount:
			return floorMount(ctx, cu, r, h.fx.big)
		case caseCopy:
			return floorCopy(ctx, cu, r, h.fx.big)
		case caseAllTags:
			return floorAllTags(ctx, cu, r, h.fx.tags)
		case caseIndex:
			return floorIndex(ctx, cu, r, h.fx.index)
		}
		return fmt.Errorf("the floor has no transfer for case %s", c)
	}}

// rangedFloor fetches the big image as N byte ranges in parallel: pull,
// and copy (ranged download, then one upload per blob).
var rangedFloor = &tool{name: rangedFloorName, bin: "curl",
	args: func(c caseName, _ run) ([]string, string) {
		if c == casePull || c == caseCopy {
			return nil, ""
		}
		return nil, "ranged GETs split downloads; this case downloads no large blob (or, for push, uploads, which are one ordered stream)"
	},
	floor: func(ctx context.Context, cu *curls, h *harness, c caseName, r run) error {
		if c == caseCopy {
			return floorCopyRanged(ctx, cu, r, h.fx.big, h.cfg.ranges)
		}
		return floorPullRanged(ctx, cu, r, h.fx.big, h.cfg.ranges)
	}}

// floorIndex GETs the index once into r.out; the harness checks its
// digest.
func floorIndex(ctx context.Context, c *curls, r run, ix rawManifest) error {
	_, err := c.run(ctx, "-H", "Accept: "+ix.mediaType, manifestURL(r.src, ix.repo, ix.tag), "-o", r.out)
	return err
}

// piece is a byte range of one blob.
type piece struct {
	blob     blobRef
	from, to int64 // inclusive, as in a Range header
}

func (p piece) file(dir string) string {
	return filepath.Join(dir, p.blob.digest+"."+strconv.FormatInt(p.from, 10))
}

// splitRanges cuts the blobs, laid end to end, into n slices of equal
// length; each slice is the pieces of the blobs it covers.
func splitRanges(blobs []blobRef, n int) [][]piece {
	var total int64
	for _, b := range blobs {
		total += b.size
	}
	n = max(1, n)
	per := (total + int64(n) - 1) / int64(n)
	slices := make([][]piece, n)
	var pos int64 // offset of the current blob in the concatenation
	for _, b := range blobs {
		for off := int64(0); off < b.size; {
			k := min((pos+off)/per, int64(n-1))
			end := min(b.size, (k+1)*per-pos) // this slice ends here, within b
			if k == int64(n-1) {
				end = b.size
			}
			slices[k] = append(slices[k], piece{blob: b, from: off, to: end - 1})
			off = end
		}
		pos += b.size
	}
	return slices
}

// fetchRanged runs one curl per slice, all at once; each fetches its
// pieces one after another over one connection, into files in dir.
func fetchRanged(ctx context.Context, c *curls, host, repo, dir string, slices [][]piece) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := parallel(len(slices), func(i int) error {
		sl := slices[i]
		if len(sl) == 0 {
			return nil
		}
		var args []string
		for j, p := range sl {
			if j > 0 {
				// --next starts a new set of options for the next URL,
				// on the same connection.
				args = append(args, "--next", "-sS", "-f")
			}
			args = append(args, "-r", fmt.Sprintf("%d-%d", p.from, p.to), blobURL(host, repo, p.blob.digest), "-o", p.file(dir))
		}
		_, err := c.run(ctx, args...)
		return err
	}); err != nil {
		return err
	}
	for _, sl := range slices {
		for _, p := range sl {
			fi, err := os.Stat(p.file(dir))
			if err != nil {
				return err
			}
			if want := p.to - p.from + 1; fi.Size() != want {
				return fmt.Errorf("range %d-%d of %s: %d bytes, want %d (did the registry ignore Range?)", p.from, p.to, p.blob.digest, fi.Size(), want)
			}
		}
	}
	return nil
}

// floorPullRanged GETs the manifest, then every blob as n ranges in
// parallel, into part files in r.out.
func floorPullRanged(ctx context.Context, c *curls, r run, im image, n int) error {
	if err := os.MkdirAll(r.out, 0o755); err != nil {
		return err
	}
	if _, err := c.run(ctx, "-H", "Accept: "+im.mediaType, manifestURL(r.src, im.repo, im.tag), "-o", filepath.Join(r.out, "manifest.json")); err != nil {
		return err
	}
	return fetchRanged(ctx, c, r.src, im.repo, r.out, splitRanges(im.blobs, n))
}

// floorCopyRanged fetches the big image as n ranges in parallel (spooled
// to files), then uploads each blob's parts in order as one stream, all
// blobs at once, then copies the manifest.
func floorCopyRanged(ctx context.Context, c *curls, r run, im image, n int) error {
	slices := splitRanges(im.blobs, n)
	locs, err := c.startUploads(ctx, r.dst, r.dstRepo, im.blobs)
	if err != nil {
		return err
	}
	if err := fetchRanged(ctx, c, r.src, im.repo, r.out, slices); err != nil {
		return err
	}
	parts := map[string][]string{} // digest -> file:// URLs in offset order
	for _, sl := range slices {
		for _, p := range sl {
			parts[p.blob.digest] = append(parts[p.blob.digest], "file://"+p.file(r.out))
		}
	}
	// curl writes the file:// URLs one after another: the blob.
	if err := parallel(len(im.blobs), func(i int) error {
		return c.pipe(ctx, parts[im.blobs[i].digest], uploadStdin(locs[i]))
	}); err != nil {
		return err
	}
	return copyManifest(ctx, c, r, im, r.dstRepo, bigTag)
}

// verifyDigest checks that the file holds exactly the bytes of digest.
func verifyDigest(file, digest string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if got := fmt.Sprintf("sha256:%x", sha256.Sum256(b)); got != digest {
		return fmt.Errorf("%s holds %s (%d bytes), want %s", file, got, len(b), digest)
	}
	return nil
}
