package tarsum

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

func TestPayloadChecksumTestdata(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "v1", "*"))
	if err != nil || len(dirs) != 2 {
		t.Fatalf("want the two testdata images, got %v (%v)", dirs, err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			imageJSON := readFile(t, dir, "json")
			layer := readFile(t, dir, "layer")
			want := strings.TrimSpace(string(readFile(t, dir, "checksum-payload")))

			got, err := PayloadChecksum(imageJSON, bytes.NewReader(layer))
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("PayloadChecksum = %s, want %s", got, want)
			}

			// Streaming, in pieces, alongside a TarSum Writer as a push does.
			p := NewPayload(imageJSON)
			w := NewWriter()
			tee := io.MultiWriter(p, w)
			for b := layer; len(b) > 0; {
				n := min(17, len(b))
				if _, err := tee.Write(b[:n]); err != nil {
					t.Fatal(err)
				}
				b = b[n:]
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := p.Sum(); got != want {
				t.Errorf("Payload.Sum = %s, want %s", got, want)
			}
			ts, err := w.Sum(imageJSON)
			if err != nil {
				t.Fatal(err)
			}
			if fromReader, _ := FromReader(bytes.NewReader(layer), imageJSON); ts != fromReader {
				t.Errorf("teed TarSum = %s, want %s", ts, fromReader)
			}
		})
	}
}

func TestPayloadChecksumReadError(t *testing.T) {
	_, err := PayloadChecksum([]byte("{}"), failingReader{})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("PayloadChecksum = %v, want the read error", err)
	}
	var target interface{ Unwrap() error }
	if !errors.As(err, &target) {
		t.Errorf("error %v does not wrap the read error", err)
	}
}
