package content

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/errcode"
)

func TestVerifier(t *testing.T) {
	data := []byte(strings.Repeat("hoist", 1000))
	good := NewDescriptor("application/octet-stream", data)
	tests := []struct {
		name    string
		src     []byte
		desc    ocispec.Descriptor
		want    error // nil means io.EOF after all of data
		wantLen int
	}{
		{name: "match", src: data, desc: good, wantLen: len(data)},
		{name: "unknown size", src: data, desc: ocispec.Descriptor{Digest: good.Digest, Size: -1}, wantLen: len(data)},
		{name: "empty", src: nil, desc: NewDescriptor("", nil)},
		{name: "short", src: data[:100], desc: good, want: errcode.ErrSizeMismatch, wantLen: 100},
		{name: "long stops at the size", src: append(bytes.Clone(data), 'x'), desc: good, want: errcode.ErrSizeMismatch, wantLen: len(data)},
		{name: "corrupt", src: append(bytes.Clone(data[:len(data)-1]), 'x'), desc: good, want: errcode.ErrDigestMismatch, wantLen: len(data)},
		{name: "corrupt, unknown size", src: data[1:], desc: ocispec.Descriptor{Digest: good.Digest, Size: -1}, want: errcode.ErrDigestMismatch, wantLen: len(data) - 1},
	}
	for _, tt := range tests {
		for _, slow := range []bool{false, true} {
			name := tt.name
			if slow {
				name += "/one byte reads"
			}
			t.Run(name, func(t *testing.T) {
				var r io.Reader = bytes.NewReader(tt.src)
				if slow {
					r = iotest.OneByteReader(r)
				}
				v, err := NewVerifier(r, tt.desc)
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				_, err = io.Copy(&out, v)
				if tt.want == nil {
					if err != nil || !v.Verified() || !bytes.Equal(out.Bytes(), tt.src) {
						t.Fatalf("err %v, verified %v, %d bytes", err, v.Verified(), out.Len())
					}
					return
				}
				if !errors.Is(err, tt.want) || v.Verified() {
					t.Fatalf("err %v, want %v", err, tt.want)
				}
				if out.Len() != tt.wantLen || v.Count() != int64(tt.wantLen) {
					t.Errorf("passed %d bytes (count %d), want %d", out.Len(), v.Count(), tt.wantLen)
				}
				// The error is sticky: nothing later looks like success.
				if n, err2 := v.Read(make([]byte, 10)); n != 0 || err2 != err {
					t.Errorf("read after failure: %d, %v", n, err2)
				}
			})
		}
	}
}

func TestVerifierPassesReadErrors(t *testing.T) {
	data := []byte("0123456789")
	boom := errors.New("connection reset")
	v, _ := NewVerifier(io.MultiReader(bytes.NewReader(data[:4]), iotest.ErrReader(boom)), NewDescriptor("", data))
	buf := make([]byte, 10)
	if n, err := v.Read(buf); n != 4 || err != nil {
		t.Fatalf("%d %v", n, err)
	}
	if _, err := v.Read(buf); err != boom {
		t.Fatalf("got %v, want the reader's own error", err)
	}
}

func TestNewVerifierBadDigest(t *testing.T) {
	for _, d := range []digest.Digest{"", "sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e"} {
		if _, err := NewVerifier(strings.NewReader(""), ocispec.Descriptor{Digest: d}); err == nil {
			t.Errorf("digest %q accepted", d)
		}
	}
}

// A Verifier over a reader that already verifies the same descriptor does
// not hash again, and still fails on bad content (through the inner one).
func TestVerifierOverVerifying(t *testing.T) {
	data := []byte("layer bytes")
	desc := NewDescriptor("application/octet-stream", data)
	inner, _ := NewVerifier(bytes.NewReader(data), desc)
	outer, _ := NewVerifier(inner, desc)
	if outer.h != nil {
		t.Fatal("outer verifier hashes again")
	}
	if b, err := io.ReadAll(outer); err != nil || !bytes.Equal(b, data) || !outer.Verified() {
		t.Fatalf("read %q, %v", b, err)
	}
	bad := []byte("layer bytez")
	inner, _ = NewVerifier(bytes.NewReader(bad), desc)
	outer, _ = NewVerifier(inner, desc)
	if _, err := io.ReadAll(outer); !errors.Is(err, errcode.ErrDigestMismatch) {
		t.Fatalf("bad content through two verifiers: %v", err)
	}
	// A different descriptor is hashed as usual.
	other := NewDescriptor("application/octet-stream", bad)
	outer, _ = NewVerifier(inner, other)
	if outer.h == nil {
		t.Fatal("a verifier for another digest trusted the inner one")
	}
}
