package hoist_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/hoist-dev/hoist"
)

// Attach an SBOM to an image, and a signature to the SBOM; copy the image
// with its referrers, and list them in the copy.
func ExampleCopy_referrers() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "attach-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sbomFile := filepath.Join(dir, "sbom.spdx.json")
	if err := os.WriteFile(sbomFile, []byte(`{"spdxVersion":"SPDX-2.3"}`), 0o644); err != nil {
		log.Fatal(err)
	}
	img := source.Host() + "/zz-signed/app:v1" // after the repositories other examples list first
	if _, err := hoist.Copy(ctx, source.Host()+"/team/app:v2", img); err != nil {
		log.Fatal(err)
	}
	sbom, err := hoist.Attach(ctx, img, "application/spdx+json", []string{sbomFile})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := hoist.Attach(ctx, source.Host()+"/zz-signed/app@"+sbom.Descriptor.Digest.String(), "application/vnd.example.signature", nil); err != nil {
		log.Fatal(err)
	}
	res, err := hoist.Copy(ctx, img, target.Host()+"/signed/app:v1", hoist.WithReferrers())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(res.Images[0].Referrers), "referrers copied")
	tree, err := hoist.Referrers(ctx, target.Host()+"/signed/app:v1")
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range tree.Referrers {
		fmt.Println(r.ArtifactType)
		for _, rr := range r.Referrers {
			fmt.Println("  " + rr.ArtifactType)
		}
	}
	// Output:
	// 2 referrers copied
	// application/spdx+json
	//   application/vnd.example.signature
}

// Push plain files as an artifact (oras's layout) and pull them into a
// directory.
func ExamplePushArtifact() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "artifact-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("release notes\n"), 0o644); err != nil {
		log.Fatal(err)
	}
	ref := target.Host() + "/team/notes:v1"
	if _, err := hoist.PushArtifact(ctx, ref, []string{notes}, hoist.WithArtifactType("application/vnd.example.notes")); err != nil {
		log.Fatal(err)
	}
	res, err := hoist.PullArtifact(ctx, ref, filepath.Join(dir, "out"))
	if err != nil {
		log.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "out", res.Files[0].Name))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(res.Descriptor.ArtifactType, " ", res.Files[0].Name, ": ", string(b))
	// Output: application/vnd.example.notes notes.txt: release notes
}
