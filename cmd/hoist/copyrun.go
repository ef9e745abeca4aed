package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/store"
)

// copyFlags are the flags pull, push and copy share.
type copyFlags struct {
	platforms   []string
	format      string
	concurrency int
	allTags     bool
	noCache     bool
}

func (f *copyFlags) register(fs *pflag.FlagSet, allTags bool) {
	fs.StringArrayVar(&f.platforms, "platform", nil, "copy only os/arch[/variant] from a multi-platform image (repeatable); one platform yields its image manifest, several a filtered index")
	fs.StringVar(&f.format, "format", "", `"oci" converts Docker media types to OCI (new manifest digests); default: keep manifests byte for byte`)
	fs.IntVar(&f.concurrency, "concurrency", copy.DefaultConcurrency, "blobs of 1 MiB or more transferred at once (smaller ones move up to 16 at once beside them)")
	fs.BoolVar(&f.noCache, "no-blob-cache", false, "do not read or update the blob-location cache (~/.cache/hoist) used to mount blobs seen elsewhere")
	if allTags {
		fs.BoolVarP(&f.allTags, "all-tags", "a", false, "copy every tag of the source repository")
	}
}

// copyResult is the outcome of pull, push or copy, printed as text or JSON.
type copyResult struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Digest      string `json:"digest"`
	MediaType   string `json:"mediaType"`
	Tag         string `json:"tag,omitempty"`
	Blobs       int    `json:"blobs"`
	Copied      int    `json:"copied"`
	Existed     int    `json:"existed"`
	Mounted     int    `json:"mounted"`
	Bytes       int64  `json:"bytes"`
}

// runCopy copies src to dst with the shared flags, rendering progress and
// printing the result.
func (a *app) runCopy(ctx context.Context, src, dst store.Location, f copyFlags) error {
	var opts []copy.Option
	var platforms []ocispec.Platform
	for _, p := range f.platforms {
		pl, err := content.ParsePlatform(p)
		if err != nil {
			return usageError{err}
		}
		platforms = append(platforms, pl)
	}
	if len(platforms) > 0 {
		opts = append(opts, copy.WithPlatforms(platforms...))
	}
	switch f.format {
	case "", "keep":
	case "oci":
		opts = append(opts, copy.WithFormat(copy.FormatOCI))
	default:
		return usagef("--format %q: the only conversion is --format oci", f.format)
	}
	if f.allTags && src.Kind != store.Registry && src.Kind != store.OCILayout {
		return usagef("--all-tags copies a registry repository or a layout, not %s", src.Kind)
	}
	opts = append(opts, copy.WithConcurrency(f.concurrency))
	var cache *copy.BlobCache
	if !f.noCache {
		if p, err := copy.DefaultBlobCachePath(); err == nil {
			if cache, err = copy.OpenBlobCache(p); err != nil {
				fmt.Fprintf(a.stderr, "hoist: warning: %v; continuing without it\n", err)
				cache = nil
			}
		}
		opts = append(opts, copy.WithBlobCache(cache))
	}
	pr := a.newProgress()
	opts = append(opts, copy.WithEvents(pr.event))

	so, err := a.openReader(ctx, src)
	if err != nil {
		return err
	}
	defer so.finish(true)
	do, err := a.openWriter(ctx, dst)
	if err != nil {
		return err
	}
	c := copy.New(opts...)
	var results []*copy.Result
	if f.allTags {
		results, err = c.CopyAll(ctx, so.r, do.w)
	} else {
		var r *copy.Result
		r, err = c.Copy(ctx, so.r, srcRef(src), do.w, dstTag(dst))
		results = []*copy.Result{r}
	}
	pr.finish(err == nil)
	if cerr := do.finish(err == nil); err == nil && cerr != nil {
		err = cerr
	}
	if serr := cache.Save(); serr != nil && err == nil {
		fmt.Fprintf(a.stderr, "hoist: warning: saving the blob-location cache: %v\n", serr)
	}
	if err != nil {
		return err
	}
	return a.printCopyResults(src, dst, results)
}

func (a *app) printCopyResults(src, dst store.Location, results []*copy.Result) error {
	var out []copyResult
	for _, r := range results {
		out = append(out, copyResult{
			Source: src.String(), Destination: dst.String(),
			Digest: r.Descriptor.Digest.String(), MediaType: r.Descriptor.MediaType, Tag: r.Tag,
			Blobs: r.Blobs, Copied: r.Transferred, Existed: r.Skipped, Mounted: r.Mounted, Bytes: r.Bytes,
		})
	}
	switch {
	case a.jsonOut:
		if len(out) == 1 {
			return a.printJSON(out[0])
		}
		return a.printJSON(out)
	case a.quiet:
		for _, r := range out {
			fmt.Fprintln(a.stdout, r.Digest)
		}
	default:
		for _, r := range out {
			where := r.Destination
			if r.Tag != "" && len(out) > 1 {
				where += " tag " + r.Tag
			}
			fmt.Fprintf(a.stdout, "%s  %s  (%d blobs: %d copied, %d existed, %d mounted; %s transferred)\n",
				where, r.Digest, r.Blobs, r.Copied, r.Existed, r.Mounted, content.HumanSize(r.Bytes))
		}
	}
	return nil
}

// localLocation reads a pull destination or push source that may be a bare
// path: an existing directory or a path without ".tar" is an OCI layout, a
// ".tar" file a docker archive. Anything with a transport prefix is parsed
// as such.
func localLocation(s string) (store.Location, error) {
	if strings.HasPrefix(s, "oci:") || strings.HasPrefix(s, "docker-archive:") || strings.HasPrefix(s, "docker://") {
		return parseLocation(s)
	}
	if fi, err := os.Stat(s); (err == nil && !fi.IsDir()) || (errors.Is(err, os.ErrNotExist) && strings.HasSuffix(s, ".tar")) {
		return parseLocation("docker-archive:" + s)
	}
	return parseLocation("oci:" + s)
}

// defaultPullDest is ./NAME for REF, NAME being the repository's last path
// component, tagged with REF's tag.
func defaultPullDest(src store.Location) store.Location {
	l := store.Location{Kind: store.OCILayout, Path: "./" + path.Base(src.Ref.Repository)}
	switch {
	case src.Ref.Tag != "":
		l.Tag = src.Ref.Tag
	case src.Ref.Digest == "":
		l.Tag = "latest"
	}
	return l
}
