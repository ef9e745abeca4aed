package content

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/internal/fuzzcheck"
)

// decodePerByte bounds what Decode allocates, in total, per byte of
// manifest: a valid manifest costs about 10, a list of empty strings
// about 30 (a 16-byte string header for 3 bytes of input, grown by
// doubling). At the 4 MiB manifest cap that is 256 MiB of garbage at
// worst, most of it short-lived.
const decodePerByte = 64

// FuzzDecode checks that Decode never panics, stays within
// decodePerByte, and that what it accepts is one kind of manifest, as
// its own mediaType says when it has one (the Content-Type when it has
// not), with a descriptor that names exactly the input and children with
// valid digests. A document with the members of two kinds must be
// refused, whatever its media type: that is the type confusion of
// CVE-2021-41190.
func FuzzDecode(f *testing.F) {
	signed, _ := schema1(true)
	f.Add("", []byte(ociManifest("")))
	f.Add(MediaTypeDockerManifestList, []byte(ociIndex))
	f.Add("", signed)
	f.Add(MediaTypeOCIIndex, []byte(`{"schemaVersion":2,"manifests":[]}`))
	f.Add("", []byte(`{"schemaVersion":1,"fsLayers":[{"blobSum":"sha256:00"}],"signatures":[{"protected":"e30"}]}`))
	f.Fuzz(func(t *testing.T, ctype string, raw []byte) {
		orig := bytes.Clone(raw)
		var m *Manifest
		var err error
		fuzzcheck.Heap(t, "Decode", len(raw), decodePerByte, func() { m, err = Decode(ctype, raw) })
		kinds, bodyType := shapeOf(raw)
		if err != nil {
			if bodyType != "" && KindOf(bodyType) == KindUnknown && kinds < 2 && !errors.Is(err, errcode.ErrUnsupported) {
				t.Fatalf("media type %q: %v does not wrap ErrUnsupported", bodyType, err)
			}
			return
		}
		if kinds > 1 {
			t.Fatalf("accepted a document with the members of %d kinds as %v: %s", kinds, m.Kind, raw)
		}
		if !bytes.Equal(m.Raw, orig) || m.Descriptor.Size != int64(len(orig)) || m.Descriptor.Digest != digest.FromBytes(orig) {
			t.Fatalf("descriptor %+v does not describe the input", m.Descriptor)
		}
		set := 0
		for _, p := range []bool{m.Image != nil, m.Index != nil, m.Legacy != nil} {
			if p {
				set++
			}
		}
		if set != 1 || KindOf(m.Descriptor.MediaType) != m.Kind {
			t.Fatalf("kind %v with %d parsed forms, media type %q", m.Kind, set, m.Descriptor.MediaType)
		}
		switch {
		case bodyType != "" && m.Descriptor.MediaType != BaseType(bodyType):
			t.Fatalf("the document says %q, Decode says %q", bodyType, m.Descriptor.MediaType)
		case bodyType == "" && KindOf(ctype) != KindUnknown && m.Kind != KindOf(ctype):
			t.Fatalf("no mediaType member, Content-Type %q, but Decode says %v", ctype, m.Kind)
		}
		for _, c := range Children(m) {
			if c.Descriptor.Digest.Validate() != nil {
				t.Fatalf("child with invalid digest %q", c.Descriptor.Digest)
			}
			if c.Role != RoleLayer && c.Descriptor.Size < 0 || c.Role == RoleLayer && m.Kind != KindLegacy && c.Descriptor.Size < 0 {
				t.Fatalf("child %v with negative size", c)
			}
		}
		if err := m.Verify(m.Descriptor.Digest); err != nil {
			t.Fatalf("verify own digest: %v", err)
		}
		if m.Kind == KindLegacy {
			payload, err := Schema1Payload(raw)
			if err == nil && len(payload) > len(raw)*2 {
				t.Fatalf("a %d-byte manifest has a %d-byte payload", len(raw), len(payload))
			}
		}
	})
}

// shapeOf returns, as encoding/json sees raw, how many kinds of manifest
// its non-null top-level members belong to (names compared without regard
// to case) and its mediaType member ("" when it has none or when raw is
// not a well-formed manifest document).
func shapeOf(raw []byte) (kinds int, mediaType string) {
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return 0, ""
	}
	has := func(names ...string) bool {
		for k, v := range top {
			for _, n := range names {
				if strings.EqualFold(k, n) && string(v) != "null" {
					return true
				}
			}
		}
		return false
	}
	for _, b := range []bool{has("manifests"), has("config", "layers"), has("fsLayers")} {
		if b {
			kinds++
		}
	}
	var p probe
	if json.Unmarshal(raw, &p) != nil {
		return kinds, ""
	}
	return kinds, p.MediaType
}

// FuzzReadManifest reads a stream of any length, as a registry may send
// it: a manifest prefix, a body nested up to 65535 levels deep, then the
// body repeated up to 2^32 times. ReadManifest must read no more than its
// limit plus one byte, fail with ErrTooLarge naming the limit exactly
// when the stream is longer, and allocate in proportion to what it read.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(`{}`), uint16(0), uint32(0), uint32(4096))
	f.Add([]byte(`{"mediaType":"application/vnd.oci.image.index.v1+json"}`), uint16(100), uint32(3), uint32(1<<16))
	f.Add([]byte(`{},`), uint16(0), uint32(1<<20), uint32(1<<20))
	f.Add([]byte(`[`), uint16(20000), uint32(0), uint32(1<<18))
	f.Fuzz(func(t *testing.T, chunk []byte, depth uint16, repeat uint32, limit uint32) {
		lim := int64(limit%(1<<20)) + 1
		var body bytes.Buffer
		body.WriteString(`{"schemaVersion":2,"manifests":[`)
		body.WriteString(strings.Repeat("[", int(depth)))
		body.Write(chunk)
		body.WriteString(strings.Repeat("]", int(depth)))
		tail := chunk
		if len(tail) == 0 {
			tail = []byte(" ")
		}
		total := int64(body.Len()) + int64(repeat)*int64(len(tail))
		src := &countingReader{r: io.MultiReader(bytes.NewReader(body.Bytes()), &repeater{b: tail, n: int64(repeat) * int64(len(tail))})}

		var err error
		read := min(total, lim+1)
		fuzzcheck.Heap(t, "ReadManifest", int(read), 4+decodePerByte, func() { _, err = ReadManifest(src, "", lim) })
		if src.n > lim+1 {
			t.Fatalf("read %d bytes with a limit of %d", src.n, lim)
		}
		tooLarge := errors.Is(err, errcode.ErrTooLarge)
		if tooLarge != (total > lim) {
			t.Fatalf("%d bytes with a limit of %d: %v", total, lim, err)
		}
		if tooLarge && !strings.Contains(err.Error(), HumanSize(lim)) {
			t.Fatalf("error does not name the %s limit: %v", HumanSize(lim), err)
		}
	})
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// repeater yields b over and over, n bytes in all, without holding them.
type repeater struct {
	b   []byte
	off int
	n   int64
}

func (r *repeater) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.b[r.off:])
		n += c
		r.off = (r.off + c) % len(r.b)
	}
	r.n -= int64(n)
	return n, nil
}
