package content

import (
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestParsePlatform(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "linux/amd64", want: "linux/amd64"},
		{in: "linux/x86_64", want: "linux/amd64"},
		{in: "Linux/AArch64", want: "linux/arm64"},
		{in: "linux/arm64/v8", want: "linux/arm64"},
		{in: "linux/arm/7", want: "linux/arm/v7"},
		{in: "linux/armhf", want: "linux/arm/v7"},
		{in: "windows/amd64", want: "windows/amd64"},
		{in: "linux", bad: true},
		{in: "linux//v7", bad: true},
		{in: "a/b/c/d", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePlatform(tt.in)
			if tt.bad {
				if err == nil {
					t.Fatalf("parsed as %v", p)
				}
				return
			}
			if err != nil || FormatPlatform(p) != tt.want {
				t.Fatalf("%v %v, want %s", FormatPlatform(p), err, tt.want)
			}
		})
	}
}

func TestSelectPlatform(t *testing.T) {
	m, err := Decode("", []byte(ociIndex))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		want string
		last byte // last hex digit of the chosen digest, 0 for none
	}{
		{"linux/amd64", '1'},
		{"linux/aarch64", '2'},
		{"linux/arm64/v8", '2'},
		{"linux/arm", '3'},
		{"linux/arm/v7", '3'},
		{"linux/arm/v6", 0},
		{"windows/amd64", 0},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			p, _ := ParsePlatform(tt.want)
			d, ok := SelectPlatform(m.Index, p)
			if tt.last == 0 {
				if ok {
					t.Fatalf("selected %s", d.Digest)
				}
				return
			}
			if !ok || d.Digest.String()[len(d.Digest.String())-1] != tt.last {
				t.Fatalf("selected %v %v", d.Digest, ok)
			}
		})
	}
	bare := &ocispec.Index{Manifests: []ocispec.Descriptor{{Digest: digest.Digest("sha256:" + strings.Repeat("0", 64)), Size: 1}}}
	if d, ok := SelectPlatform(bare, ocispec.Platform{OS: "linux", Architecture: "amd64"}); ok {
		t.Errorf("an entry without a platform matched: %v", d)
	}
}
