package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// layerKind says what a generated layer holds.
type layerKind string

const (
	kindRandom layerKind = "random" // one file of incompressible bytes
	kindText   layerKind = "text"   // text-like files (compresses about 3x)
	kindSmall  layerKind = "small"  // many small files, half random, half text
)

// layerSpec describes one deterministic layer: the same spec always yields
// the same bytes, so digests are stable across machines and runs.
type layerSpec struct {
	name  string
	kind  layerKind
	bytes int64 // uncompressed payload
	files int   // number of files (text and small layers)
}

// seed derives the generator seed from everything that shapes the layer.
func (s layerSpec) seed() [32]byte {
	return sha256.Sum256([]byte(fmt.Sprintf("hoist-bench-v1/%s/%s/%d/%d", s.name, s.kind, s.bytes, s.files)))
}

// layerTime is every entry's modification time, fixed for determinism.
var layerTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// writeLayer writes the layer as a gzip-compressed tar to path, through a
// temporary file so an interrupted run leaves no truncated layer behind.
func writeLayer(path string, s layerSpec) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	bw := bufio.NewWriterSize(f, 1<<20)
	level := gzip.DefaultCompression
	if s.kind == kindRandom {
		level = gzip.BestSpeed // it cannot shrink anyway; save generation time
	}
	zw, err := gzip.NewWriterLevel(bw, level)
	if err != nil {
		f.Close()
		return err
	}
	tw := tar.NewWriter(zw)
	seed := s.seed()
	g := newGen(seed)
	if err := writeEntries(tw, s, g); err != nil {
		f.Close()
		return fmt.Errorf("generate layer %s: %w", s.name, err)
	}
	for _, c := range []io.Closer{tw, zw} {
		if err := c.Close(); err != nil {
			f.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func writeEntries(tw *tar.Writer, s layerSpec, g *gen) error {
	dir := s.name + "/"
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: layerTime, Format: tar.FormatPAX}); err != nil {
		return err
	}
	file := func(name string, size int64, body func(io.Writer, int64) error) error {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: dir + name, Mode: 0o644, Size: size, ModTime: layerTime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		return body(tw, size)
	}
	switch s.kind {
	case kindRandom:
		return file("random.bin", s.bytes, g.random)
	case kindText:
		n := max(s.files, 1)
		per := s.bytes / int64(n)
		for i := range n {
			size := per
			if i == n-1 {
				size = s.bytes - per*int64(n-1)
			}
			if err := file(fmt.Sprintf("doc-%03d.txt", i), size, g.text); err != nil {
				return err
			}
		}
		return nil
	case kindSmall:
		n := max(s.files, 1)
		avg := max(s.bytes/int64(n), 64)
		for i := range n {
			// Sizes spread evenly over [avg/8, 2*avg - avg/8].
			size := avg/8 + g.r.Int64N(2*avg-avg/4)
			body, ext := g.text, "txt"
			if i%2 == 1 {
				body, ext = g.random, "bin"
			}
			if err := file(fmt.Sprintf("d%02x/f%05d.%s", i%251, i, ext), size, body); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown layer kind %q", s.kind)
}

// gen produces deterministic random and text-like bytes.
type gen struct {
	src   *rand.ChaCha8
	r     *rand.Rand
	zipf  *rand.Zipf
	words [][]byte
	buf   []byte
}

func newGen(seed [32]byte) *gen {
	src := rand.NewChaCha8(seed)
	r := rand.New(src)
	g := &gen{src: src, r: r, buf: make([]byte, 64<<10)}
	// A vocabulary drawn with a Zipf law looks enough like source code
	// and logs to compress about as well.
	const vocab = 4096
	for range vocab {
		w := make([]byte, 2+r.IntN(9))
		for j := range w {
			w[j] = byte('a' + r.IntN(26))
		}
		g.words = append(g.words, w)
	}
	g.zipf = rand.NewZipf(r, 1.07, 2, vocab-1)
	return g
}

func (g *gen) random(w io.Writer, n int64) error {
	for n > 0 {
		b := g.buf[:min(int64(len(g.buf)), n)]
		_, _ = g.src.Read(b)
		if _, err := w.Write(b); err != nil {
			return err
		}
		n -= int64(len(b))
	}
	return nil
}

func (g *gen) text(w io.Writer, n int64) error {
	line := g.buf[:0]
	for n > 0 {
		line = line[:0]
		for words := 4 + g.r.IntN(10); words > 0; words-- {
			line = append(line, g.words[g.zipf.Uint64()]...)
			line = append(line, ' ')
		}
		line[len(line)-1] = '\n'
		if int64(len(line)) > n {
			line = line[:n]
		}
		if _, err := w.Write(line); err != nil {
			return err
		}
		n -= int64(len(line))
	}
	return nil
}

// ensureLayers writes every layer of specs that is missing under dir and
// returns their paths in order.
func ensureLayers(dir string, specs []layerSpec) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, s := range specs {
		seed := s.seed()
		p := filepath.Join(dir, fmt.Sprintf("%s-%x.tar.gz", s.name, seed[:6]))
		if _, err := os.Stat(p); err != nil {
			if err := writeLayer(p, s); err != nil {
				return nil, err
			}
		}
		paths = append(paths, p)
	}
	return paths, nil
}
