package main

import "fmt"

// imageSpecs are the test images for one scale.
type imageSpecs struct {
	big      []layerSpec // the 8-layer image
	tagsBase layerSpec   // the layer every tag shares
	tagLayer func(i int) layerSpec
	tags     int
}

const mib = 1 << 20

// specsFor returns the full-size images (quick false: about 300 MB
// compressed, 50 tags) or the CI smoke size (about 10 MB, 5 tags).
func specsFor(quick bool) imageSpecs {
	scale := func(n int64) int64 { return n }
	count := func(n int) int { return n }
	tags := 50
	if quick {
		scale = func(n int64) int64 { return max(n/30, 4096) }
		count = func(n int) int { return max(n/30, 2) }
		tags = 5
	}
	return imageSpecs{
		big: []layerSpec{
			{name: "random-a", kind: kindRandom, bytes: scale(96 * mib)},
			{name: "text-a", kind: kindText, bytes: scale(120 * mib), files: count(24)},
			{name: "random-b", kind: kindRandom, bytes: scale(64 * mib)},
			{name: "small-files", kind: kindSmall, bytes: scale(40 * mib), files: count(8000)},
			{name: "random-c", kind: kindRandom, bytes: scale(32 * mib)},
			{name: "text-b", kind: kindText, bytes: scale(60 * mib), files: count(12)},
			{name: "random-d", kind: kindRandom, bytes: scale(8 * mib)},
			{name: "etc", kind: kindSmall, bytes: scale(256 << 10), files: count(60)},
		},
		tagsBase: layerSpec{name: "tags-base", kind: kindSmall, bytes: 3 * mib, files: 300},
		tagLayer: func(i int) layerSpec {
			return layerSpec{name: fmt.Sprintf("tag-%02d", i), kind: kindSmall, bytes: 48 << 10, files: 8}
		},
		tags: tags,
	}
}
