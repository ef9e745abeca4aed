package tarsum

import (
	"archive/tar"
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/fuzzcheck"
)

// FuzzWriter feeds arbitrary bytes, in two writes split anywhere, and checks
// that nothing panics or hangs, that allocation does not grow with what
// the layer decompresses to, and that the result does not depend on how
// the stream was split.
func FuzzWriter(f *testing.F) {
	f.Add(vectorEmptyFile(f), uint16(0))
	f.Add(gzipped(f, vectorXattrs(f)), uint16(100))
	f.Add(vectorXattrs(f)[:700], uint16(512))
	for _, dir := range []string{
		"42d718c941f5c532ac049bf0b0ab53f0062f09a03afd4aa4a02c098e46032b9d",
		"77dbf71da1d00e3fbddc480176eac8994025630c6590d11cfc8fe1209c2a1d20",
	} {
		f.Add(readFile(f, filepath.Join("testdata", "v1", dir), "layer"), uint16(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		var whole string
		var wholeErr error
		// Streamed: what a layer holds, a gzip bomb included, costs time,
		// not memory.
		fuzzcheck.Heap(t, "FromReader", len(data), 4, func() { whole, wholeErr = FromReader(bytes.NewReader(data), []byte("x")) })

		at := int(split) % (len(data) + 1)
		w := NewWriter()
		if _, err := w.Write(data[:at]); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data[at:]); err != nil {
			t.Fatal(err)
		}
		closeErr := w.Close()
		if (closeErr == nil) != (wholeErr == nil) {
			t.Fatalf("split at %d: Close = %v, one write = %v", at, closeErr, wholeErr)
		}
		if closeErr != nil {
			return
		}
		parts, err := w.Sum([]byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		if parts != whole || !sumPattern.MatchString(parts) {
			t.Fatalf("split at %d: %s, one write: %s", at, parts, whole)
		}
	})
}

// fuzzTypes are the entry types FuzzEntries writes, picked by a byte of
// meta.
var fuzzTypes = []byte{tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo}

// FuzzEntries writes a tar from fuzzed entries (one name a line, bodies
// split at NUL bytes, types, modes, owners, times and device numbers
// from meta) and checks that its TarSum is the one computed straight
// from the definition, the same for the gzipped tar and for the entries
// in reverse order, with allocation bounded by the tar's size whatever
// its bodies hold.
func FuzzEntries(f *testing.F) {
	f.Add("etc/\netc/hosts\netc/localhost", []byte("\x00127.0.0.1\n\x00"), []byte{1, 0, 2, 0, 0, 9}, []byte(`{"id":"x"}`))
	f.Add("a\na\nb", []byte("same path\x00twice"), []byte{}, []byte(nil))
	f.Add("dev/null\n"+strings.Repeat("long/", 40)+"name", []byte("\x00abc"), []byte{4, 1, 3, 0, 0, 0}, []byte("x"))
	f.Fuzz(func(t *testing.T, names string, bodies, meta, extra []byte) {
		var entries []entry
		parts := bytes.Split(bodies, []byte{0})
		for i, name := range strings.Split(names, "\n") {
			m := func(k int) int64 {
				if j := 6*i + k; j < len(meta) {
					return int64(meta[j])
				}
				return 0
			}
			h := tar.Header{
				Name: name, Typeflag: fuzzTypes[int(m(0))%len(fuzzTypes)], Mode: m(1) * 0o7,
				Uid: int(m(2)), Gid: int(m(3)), ModTime: time.Unix(m(4)<<24, 0),
			}
			var body []byte
			switch h.Typeflag {
			case tar.TypeReg:
				body = parts[i%len(parts)]
				h.Size = int64(len(body))
			case tar.TypeSymlink, tar.TypeLink:
				h.Linkname = string(parts[i%len(parts)])
			case tar.TypeChar, tar.TypeBlock:
				h.Devmajor, h.Devminor = m(5), m(5)/2
			}
			entries = append(entries, entry{hdr: h, body: body})
		}
		archive, ok := tryTar(entries)
		if !ok {
			return // a header archive/tar will not write
		}
		var got string
		var err error
		fuzzcheck.Heap(t, "FromReader", len(archive), 4, func() { got, err = FromReader(bytes.NewReader(archive), extra) })
		if err != nil {
			t.Fatalf("a tar archive/tar wrote does not sum: %v", err)
		}
		if want := referenceSum(entries, string(extra)); got != want {
			t.Fatalf("TarSum %s, the definition gives %s", got, want)
		}
		if zipped, err := FromReader(bytes.NewReader(gzipped(t, archive)), extra); err != nil || zipped != got {
			t.Fatalf("gzipped: %s, %v; plain: %s", zipped, err, got)
		}
		slices.Reverse(entries)
		if reversed, _ := tryTar(entries); reversed != nil {
			if back, err := FromReader(bytes.NewReader(reversed), extra); err != nil || back != got {
				t.Fatalf("entries reversed: %s, %v; in order: %s", back, err, got)
			}
		}
	})
}

// tryTar is buildTar for entries that may not be writable: it reports
// false instead of failing.
func tryTar(entries []entry) ([]byte, bool) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if tw.WriteHeader(&e.hdr) != nil {
			return nil, false
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, false
		}
	}
	if tw.Close() != nil {
		return nil, false
	}
	return buf.Bytes(), true
}
