package tarsum

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The known answers of docs/v1-protocol.md, "TarSum" (the original test vectors).
const (
	sumEmptyFile = "tarsum+sha256:626c4a2e9a467d65c33ae81f7f3dedd4de8ccaee72af73223c4bc4718cbc7bbd"
	sumXattrs    = "tarsum+sha256:c12bb6f1303a9ddbf4576c52da74973c00d14c109bcfa76b708d5da1154a07fa"
	sumTypeRegA  = "tarsum+sha256:8bf12d7e67c51ee2e8306cba569398b1b9f419969521a12ffb9d8875e8836738"
)

var sumPattern = regexp.MustCompile(`^tarsum\+sha256:[0-9a-f]{64}$`)

type entry struct {
	hdr  tar.Header
	body []byte
}

// buildTar writes entries with archive/tar. Every header's ModTime is the
// unix epoch unless set, matching "all other fields zero".
func buildTar(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.hdr
		if hdr.ModTime.IsZero() {
			hdr.ModTime = time.Unix(0, 0)
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatalf("writing header %q: %v", hdr.Name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatalf("writing body %q: %v", hdr.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// setRawTypeflag rewrites the typeflag byte of the header block at off and
// fixes the block's checksum, producing what old tar writers emitted.
func setRawTypeflag(t testing.TB, archive []byte, off int, flag byte) {
	t.Helper()
	blk := archive[off : off+blockSize]
	blk[typeflagOff] = flag
	copy(blk[chksumOff:chksumOff+chksumLen], "        ")
	var sum int64
	for _, c := range blk {
		sum += int64(c)
	}
	copy(blk[chksumOff:], fmt.Sprintf("%06o\x00 ", sum))
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func vectorEmptyFile(t testing.TB) []byte {
	return buildTar(t, entry{hdr: tar.Header{Name: "file.txt", Typeflag: tar.TypeReg}})
}

func vectorXattrs(t testing.TB) []byte {
	return buildTar(t, entry{
		hdr: tar.Header{
			Name: "xattrs.txt", Uid: 1000, Gid: 1000, Uname: "slartibartfast", Gname: "users",
			Size: 4, Typeflag: tar.TypeReg, Format: tar.FormatPAX,
			PAXRecords: map[string]string{"SCHILY.xattr.user.NOT": "CALCULATED"},
		},
		body: []byte("test"),
	})
}

func vectorTypeRegA(t testing.TB) []byte {
	b := buildTar(t, entry{
		hdr:  tar.Header{Name: "/testdata0", Mode: 0o755, Size: 1 << 20, Typeflag: tar.TypeReg},
		body: make([]byte, 1<<20),
	})
	setRawTypeflag(t, b, 0, tar.TypeRegA)
	return b
}

func TestKnownAnswers(t *testing.T) {
	tests := []struct {
		name  string
		build func(testing.TB) []byte
		want  string
	}{
		{"empty file", vectorEmptyFile, sumEmptyFile},
		{"PAX xattrs are not hashed", vectorXattrs, sumXattrs},
		{"raw typeflag 0x00 is hashed", vectorTypeRegA, sumTypeRegA},
	}
	for _, tt := range tests {
		archive := tt.build(t)
		for _, form := range []struct {
			name string
			data []byte
		}{{"plain", archive}, {"gzip", gzipped(t, archive)}} {
			t.Run(tt.name+"/"+form.name, func(t *testing.T) {
				got, err := FromReader(bytes.NewReader(form.data), nil)
				if err != nil {
					t.Fatal(err)
				}
				if got != tt.want {
					t.Errorf("TarSum = %s, want %s", got, tt.want)
				}
			})
		}
	}
}

// The xattrs vector must really carry a PAX xattr, and the 0x00 vector must
// really be one that archive/tar normalises; otherwise the known answers
// above would prove less than they claim.
func TestVectorsExerciseTheirCase(t *testing.T) {
	tr := tar.NewReader(bytes.NewReader(vectorXattrs(t)))
	hdr, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	if hdr.PAXRecords["SCHILY.xattr.user.NOT"] != "CALCULATED" {
		t.Errorf("xattrs vector has PAX records %v, want the user.NOT xattr", hdr.PAXRecords)
	}

	b := vectorTypeRegA(t)
	if b[typeflagOff] != 0 {
		t.Fatalf("raw typeflag = %#x, want 0x00", b[typeflagOff])
	}
	hdr, err = tar.NewReader(bytes.NewReader(b)).Next()
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Typeflag != tar.TypeReg {
		t.Skipf("archive/tar no longer normalises 0x00 (reports %#x); the raw-byte path is untested", hdr.Typeflag)
	}
}

// referenceSum computes TarSum v0 straight from the definition, for entries
// whose raw typeflag is hdr.Typeflag.
func referenceSum(entries []entry, extra string) string {
	var digests []string
	for _, e := range entries {
		h := e.hdr
		s := "name" + h.Name + "mode" + strconv.FormatInt(h.Mode, 10) +
			"uid" + strconv.Itoa(h.Uid) + "gid" + strconv.Itoa(h.Gid) +
			"size" + strconv.FormatInt(h.Size, 10) + "mtime" + strconv.FormatInt(h.ModTime.Unix(), 10) +
			"typeflag" + string([]byte{h.Typeflag}) + "linkname" + h.Linkname +
			"uname" + h.Uname + "gname" + h.Gname +
			"devmajor" + strconv.FormatInt(h.Devmajor, 10) + "devminor" + strconv.FormatInt(h.Devminor, 10)
		d := sha256.Sum256(append([]byte(s), e.body...))
		digests = append(digests, hex.EncodeToString(d[:]))
	}
	// Sorted as strings; a simple insertion sort keeps this independent of
	// the code under test.
	for i := 1; i < len(digests); i++ {
		for j := i; j > 0 && digests[j] < digests[j-1]; j-- {
			digests[j], digests[j-1] = digests[j-1], digests[j]
		}
	}
	final := sha256.Sum256([]byte(extra + strings.Join(digests, "")))
	return Label + ":" + hex.EncodeToString(final[:])
}

func TestManyEntryKinds(t *testing.T) {
	mtime := time.Date(2014, 6, 1, 12, 0, 0, 0, time.UTC)
	entries := []entry{
		{hdr: tar.Header{Name: "etc/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: mtime, Uname: "root", Gname: "root"}},
		{hdr: tar.Header{Name: "etc/hosts", Mode: 0o644, Size: 10, Typeflag: tar.TypeReg, ModTime: mtime, Uid: 1, Gid: 2}, body: []byte("127.0.0.1\n")},
		{hdr: tar.Header{Name: "etc/localhost", Mode: 0o777, Typeflag: tar.TypeSymlink, Linkname: "hosts", ModTime: mtime}},
		{hdr: tar.Header{Name: "etc/hosts.bak", Typeflag: tar.TypeLink, Linkname: "etc/hosts", ModTime: mtime}},
		{hdr: tar.Header{Name: "dev/null", Mode: 0o666, Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, ModTime: mtime}},
		{hdr: tar.Header{Name: strings.Repeat("long/", 40) + "name", Mode: 0o600, Size: 3, Typeflag: tar.TypeReg, ModTime: mtime}, body: []byte("abc")},
		// The same path twice: both entries count.
		{hdr: tar.Header{Name: "etc/hosts", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg, ModTime: mtime}, body: []byte("x\n")},
	}
	archive := buildTar(t, entries...)
	extra := `{"id":"x"}`
	got, err := FromReader(bytes.NewReader(archive), []byte(extra))
	if err != nil {
		t.Fatal(err)
	}
	if want := referenceSum(entries, extra); got != want {
		t.Errorf("TarSum = %s, want %s", got, want)
	}

	// Entry order does not matter.
	reversed := make([]entry, len(entries))
	for i, e := range entries {
		reversed[len(entries)-1-i] = e
	}
	got2, err := FromReader(bytes.NewReader(buildTar(t, reversed...)), []byte(extra))
	if err != nil {
		t.Fatal(err)
	}
	if got2 != got {
		t.Errorf("TarSum of the reversed archive = %s, want %s", got2, got)
	}
}

// A 0x00 typeflag on a name with a trailing slash is read by archive/tar as a
// directory; the raw byte is still what gets hashed.
func TestTypeRegADirectory(t *testing.T) {
	e := entry{hdr: tar.Header{Name: "old/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: time.Unix(1, 0)}}
	archive := buildTar(t, e)
	setRawTypeflag(t, archive, 0, tar.TypeRegA)
	got, err := FromReader(bytes.NewReader(archive), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.hdr.Typeflag = tar.TypeRegA
	if want := referenceSum([]entry{e}, ""); got != want {
		t.Errorf("TarSum = %s, want %s (raw 0x00 hashed)", got, want)
	}
}

func TestExtra(t *testing.T) {
	archive := vectorEmptyFile(t)
	w := NewWriter()
	if _, err := w.Write(archive); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	noExtra, err := w.Sum(nil)
	if err != nil {
		t.Fatal(err)
	}
	if noExtra != sumEmptyFile {
		t.Errorf("Sum(nil) = %s, want %s", noExtra, sumEmptyFile)
	}
	empty, _ := w.Sum([]byte{})
	if empty != noExtra {
		t.Errorf("Sum([]byte{}) = %s, want the same as Sum(nil) %s", empty, noExtra)
	}
	withJSON, _ := w.Sum([]byte(`{"id":"abc"}`))
	if want := referenceSum([]entry{{hdr: tar.Header{Name: "file.txt", Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}}}, `{"id":"abc"}`); withJSON != want {
		t.Errorf("Sum(json) = %s, want %s", withJSON, want)
	}
	if again, _ := w.Sum(nil); again != noExtra {
		t.Errorf("second Sum(nil) = %s, want %s: Sum must not change the Writer", again, noExtra)
	}
}

// Small writes, split anywhere, give the same sum as one big write.
func TestChunkedWrites(t *testing.T) {
	archive := gzipped(t, vectorXattrs(t))
	for _, size := range []int{1, 2, 7, 511, 512, 513, 4096} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			w := NewWriter()
			for b := archive; len(b) > 0; {
				n := min(size, len(b))
				if _, err := w.Write(b[:n]); err != nil {
					t.Fatal(err)
				}
				b = b[n:]
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := w.Sum(nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != sumXattrs {
				t.Errorf("TarSum = %s, want %s", got, sumXattrs)
			}
		})
	}
}

func TestTestdataLayers(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "v1", "*"))
	if err != nil || len(dirs) != 2 {
		t.Fatalf("want the two testdata images, got %v (%v)", dirs, err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			layer := readFile(t, dir, "layer")
			imageJSON := readFile(t, dir, "json")
			sum, err := FromReader(bytes.NewReader(layer), imageJSON)
			if err != nil {
				t.Fatal(err)
			}
			if !sumPattern.MatchString(sum) {
				t.Errorf("TarSum = %q, want %s", sum, sumPattern)
			}
			// The same tar, uncompressed, has the same TarSum.
			zr, err := gzip.NewReader(bytes.NewReader(layer))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			plainSum, err := FromReader(bytes.NewReader(plain), imageJSON)
			if err != nil {
				t.Fatal(err)
			}
			if plainSum != sum {
				t.Errorf("TarSum of the gunzipped layer = %s, want %s", plainSum, sum)
			}
			t.Logf("%s: %s", filepath.Base(dir), sum)
		})
	}
}

func readFile(t testing.TB, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInvalidLayers(t *testing.T) {
	valid := vectorXattrs(t)
	gz := gzipped(t, valid)
	corrupt := bytes.Clone(gz)
	corrupt[len(corrupt)-6] ^= 0xff // inside the CRC-32 trailer

	tests := []struct {
		name string
		data []byte
	}{
		{"text", []byte(strings.Repeat("this is not a tar archive\n", 40))},
		{"truncated tar", valid[:blockSize+2]},
		{"truncated gzip", gz[:len(gz)/2]},
		{"gzip with a bad CRC", corrupt},
		{"gzip magic only", gzipMagic},
		{"bad header checksum", func() []byte {
			b := bytes.Clone(valid)
			b[0] ^= 1
			return b
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWriter()
			// A parse error never fails Write, so a tee is not cut short,
			// even with more data after the error.
			for range 3 {
				if _, err := w.Write(tt.data); err != nil {
					t.Fatalf("Write: %v, want no error", err)
				}
				if tt.name != "text" {
					break
				}
			}
			err := w.Close()
			if err == nil {
				t.Fatal("Close: no error for an invalid layer")
			}
			if !strings.HasPrefix(err.Error(), "tarsum: ") {
				t.Errorf("error %q does not name the package", err)
			}
			if err2 := w.Close(); err2 != err {
				t.Errorf("second Close = %v, want %v", err2, err)
			}
			if _, serr := w.Sum(nil); serr != err {
				t.Errorf("Sum after a failed Close = %v, want %v", serr, err)
			}
		})
	}
}

func TestWriterMisuse(t *testing.T) {
	w := NewWriter()
	if _, err := w.Sum(nil); !errors.Is(err, errNotClosed) {
		t.Errorf("Sum before Close = %v, want %v", err, errNotClosed)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close of an empty stream = %v, want nil (an empty stream has no entries)", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, errWriteAfterClose) {
		t.Errorf("Write after Close = %v, want %v", err, errWriteAfterClose)
	}
	sum, err := w.Sum([]byte("extra"))
	if err != nil {
		t.Fatal(err)
	}
	if want := referenceSum(nil, "extra"); sum != want {
		t.Errorf("Sum of no entries = %s, want %s", sum, want)
	}
}

// Close ends the parser even when the layer stopped halfway, which is how a
// caller abandons an upload.
func TestCloseMidStream(t *testing.T) {
	archive := vectorTypeRegA(t)
	w := NewWriter()
	if _, err := w.Write(archive[:len(archive)/3]); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Close() }()
	select {
	case err := <-done:
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("Close after a partial layer = %v, want io.ErrUnexpectedEOF", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return: the parser goroutine is stuck")
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestFromReaderReadError(t *testing.T) {
	_, err := FromReader(io.MultiReader(bytes.NewReader(vectorEmptyFile(t)[:100]), failingReader{}), nil)
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("FromReader = %v, want the read error", err)
	}
}
