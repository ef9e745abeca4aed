package cli

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	lib "github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/copy"
)

// copyFlags are the flags pull, push and copy share.
type copyFlags struct {
	platforms   []string
	format      string
	concurrency int
	allTags     bool
	noCache     bool
	chunkSize   int64
	refs        referrerFlags // referrers.go
}

func (f *copyFlags) register(fs *pflag.FlagSet, allTags bool) {
	fs.StringArrayVar(&f.platforms, "platform", nil, "copy only os/arch[/variant] from a multi-platform image (repeatable); one platform yields its image manifest, several a filtered index")
	fs.StringVar(&f.format, "format", "", `"oci" converts Docker media types to OCI (new manifest digests); default: keep manifests byte for byte`)
	fs.IntVar(&f.concurrency, "concurrency", copy.DefaultConcurrency, "blobs of 1 MiB or more transferred at once (smaller ones move up to 16 at once beside them)")
	fs.BoolVar(&f.noCache, "no-blob-cache", false, "do not read or update the blob-location cache (~/.cache/hoist) used to mount blobs seen elsewhere")
	if allTags {
		fs.BoolVarP(&f.allTags, "all-tags", "a", false, "copy every tag of the source repository")
	}
	f.refs.register(fs)
}

// registerChunkSize adds --chunk-size, for the verbs that upload to a
// registry (push, copy).
func (f *copyFlags) registerChunkSize(fs *pflag.FlagSet) {
	fs.Int64Var(&f.chunkSize, "chunk-size", 0, "upload blobs larger than this many bytes in chunks of it, for a proxy that caps request bodies (default: one request per blob, and chunks of 1 MiB or less after a 413)")
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
	// Referrers are those copied with the image (--referrers).
	Referrers []copiedReferrer `json:"referrers,omitempty"`
}

// copyJob is one pull, push or copy: the session call that does it.
type copyJob func(ctx context.Context, opts ...lib.Option) (*lib.CopyResult, error)

// runCopy runs job with the shared flags as options, rendering progress
// and printing the result.
func (a *App) runCopy(ctx context.Context, f copyFlags, job copyJob) error {
	opts := []lib.Option{lib.WithPlatforms(f.platforms...), lib.WithConcurrency(f.concurrency)}
	switch f.format {
	case "", "keep":
	case "oci":
		opts = append(opts, lib.WithFormat(copy.FormatOCI))
	default:
		return usagef("--format %q: the only conversion is --format oci", f.format)
	}
	if f.allTags {
		opts = append(opts, lib.WithAllTags())
	}
	if f.noCache {
		opts = append(opts, lib.WithoutBlobCache())
	}
	if f.chunkSize < 0 {
		return usagef("--chunk-size %d: want a number of bytes, or 0 for one request per blob", f.chunkSize)
	}
	if f.chunkSize > 0 {
		opts = append(opts, lib.WithChunkSize(f.chunkSize))
	}
	opts = append(opts, f.refs.options()...)
	pr := a.newProgress()
	opts = append(opts, lib.WithEvents(pr.event), lib.WithWarnings(a.warn))
	res, err := job(ctx, opts...)
	pr.finish(err == nil)
	if err != nil {
		return err
	}
	return a.printCopyResults(res)
}

func (a *App) printCopyResults(res *lib.CopyResult) error {
	var out []copyResult
	for _, r := range res.Images {
		out = append(out, copyResult{
			Source: res.Source.String(), Destination: res.Destination.String(),
			Digest: r.Descriptor.Digest.String(), MediaType: r.Descriptor.MediaType, Tag: r.Tag,
			Blobs: r.Blobs, Copied: r.Transferred, Existed: r.Skipped, Mounted: r.Mounted, Bytes: r.Bytes,
			Referrers: copiedReferrers(r.Referrers),
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
			refs := ""
			if n := len(r.Referrers); n > 0 {
				refs = fmt.Sprintf("; %d referrer(s)", n)
			}
			fmt.Fprintf(a.stdout, "%s  %s  (%d blobs: %d copied, %d existed, %d mounted; %s transferred%s)\n",
				where, r.Digest, r.Blobs, r.Copied, r.Existed, r.Mounted, content.HumanSize(r.Bytes), refs)
		}
	}
	return nil
}
