package tarsum

import (
	"bytes"
	"path/filepath"
	"testing"
)

// FuzzWriter feeds arbitrary bytes, in two writes split anywhere, and checks
// that nothing panics or hangs and that the result does not depend on how
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
		whole, wholeErr := FromReader(bytes.NewReader(data), []byte("x"))

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
