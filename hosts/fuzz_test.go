package hosts

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/hoist-dev/hoist/internal/fuzzcheck"
	"github.com/hoist-dev/hoist/internal/testutil"
)

// Bits of FuzzLoadTLS's mix argument: real material and hostile entries
// added to the generated directory.
const (
	mixCA       = 1 << iota // ca.crt: the CA that signed the client pair
	mixPair                 // client.cert and client.key, a valid pair
	mixLinkOut              // out.crt: a symlink to a CA file outside certs.d
	mixDirCrt               // sub.crt: a directory
	mixDevZero              // zero.crt: a symlink to /dev/zero, which never ends
	mixFIFO                 // fifo.crt: a named pipe, which never answers
	mixHostFile             // certs.d/HOST is a file, not a directory
	mixDangling             // gone.key: a symlink to nothing
)

// FuzzLoadTLS builds a certs.d directory from fuzzed host and file names
// and contents, plus real and hostile entries chosen by mix, and checks
// that LoadTLS:
//   - refuses a host name that is not one path element;
//   - never hangs or reads without bound (a FIFO, /dev/zero): it reads no
//     more than the files' sizes;
//   - on success, reports exactly the directory's .crt files as CA files
//     and its .cert/.key pairs as client certificates, sorted, with a
//     pool that verifies the real client certificate when the real CA is
//     there;
//   - on failure, says "certs.d:" and names the directory or a file in it.
func FuzzLoadTLS(f *testing.F) {
	ca := testutil.NewCA(f, "certs.d fuzz CA")
	pair := ca.Client(f, "certs.d fuzz client")
	outside := filepath.Join(f.TempDir(), "outside-ca.crt")
	if err := os.WriteFile(outside, ca.CertPEM, 0o600); err != nil {
		f.Fatal(err)
	}
	f.Add("reg:5000", "a.crt\nb.cert\nb.key", []byte("x\x00y\x00z"), uint8(mixCA|mixPair))
	f.Add("reg", "ca.crt", ca.CertPEM, uint8(0))
	f.Add("[::1]:443", "x.cert\nx.key", bytes.Join([][]byte{pair.CertPEM, pair.KeyPEM}, []byte{0}), uint8(mixLinkOut))
	f.Add("..", "", []byte(nil), uint8(0))
	f.Add("a/b", "", []byte(nil), uint8(0))
	f.Fuzz(func(t *testing.T, host, names string, contents []byte, mix uint8) {
		root := t.TempDir()
		hostDir := filepath.Join(root, host)
		safe := host != "" && host != "." && host != ".." && !strings.ContainsAny(host, "/\\\x00")
		if !safe {
			if _, err := LoadTLS([]string{root}, host); err == nil {
				t.Fatalf("LoadTLS accepted the host name %q", host)
			}
			return
		}
		if mix&mixHostFile != 0 {
			write(t, hostDir, contents)
			if _, err := LoadTLS([]string{root}, host); err == nil || !strings.Contains(err.Error(), hostDir) {
				t.Fatalf("certs.d/%s is a file: %v", host, err)
			}
			return
		}
		if err := os.Mkdir(hostDir, 0o755); err != nil {
			t.Skipf("the file system refuses %q: %v", host, err)
		}
		parts := bytes.Split(contents, []byte{0})
		for i, name := range strings.Split(names, "\n") {
			if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
				continue
			}
			write(t, filepath.Join(hostDir, name), parts[i%len(parts)])
		}
		if mix&mixCA != 0 {
			write(t, filepath.Join(hostDir, "ca.crt"), ca.CertPEM)
		}
		if mix&mixPair != 0 {
			write(t, filepath.Join(hostDir, "client.cert"), pair.CertPEM)
			write(t, filepath.Join(hostDir, "client.key"), pair.KeyPEM)
		}
		if mix&mixLinkOut != 0 {
			link(t, outside, filepath.Join(hostDir, "out.crt"))
		}
		if mix&mixDirCrt != 0 {
			if err := os.Mkdir(filepath.Join(hostDir, "sub.crt"), 0o755); err != nil && !os.IsExist(err) {
				t.Fatal(err)
			}
		}
		if mix&mixDevZero != 0 {
			link(t, "/dev/zero", filepath.Join(hostDir, "zero.crt"))
		}
		if mix&mixFIFO != 0 {
			fifo := filepath.Join(hostDir, "fifo.crt")
			os.Remove(fifo)
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if mix&mixDangling != 0 {
			link(t, filepath.Join(root, "nothing"), filepath.Join(hostDir, "gone.key"))
		}

		var got *TLSFiles
		var err error
		limit := dirSize(t, hostDir) + fuzzcheck.Slack
		if n := fuzzcheck.FileBytesRead(func() {
			got, err = LoadTLS([]string{filepath.Join(root, "missing"), root}, host)
		}); n > limit {
			t.Fatalf("LoadTLS read %d bytes from a directory of %d", n, limit-fuzzcheck.Slack)
		}
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "certs.d: ") || !strings.Contains(msg, hostDir) {
				t.Fatalf("error does not say certs.d and name %s: %v", hostDir, err)
			}
			return
		}
		checkLoaded(t, hostDir, got)
		if got.RootCAs != nil && slices.Contains(got.CAFiles, filepath.Join(hostDir, "ca.crt")) && mix&mixCA != 0 {
			opts := x509.VerifyOptions{Roots: got.RootCAs, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
			if _, err := pair.Cert.Verify(opts); err != nil {
				t.Fatalf("the pool from ca.crt does not verify a certificate the CA signed: %v", err)
			}
		}
	})
}

// checkLoaded asserts that got lists exactly dir's CA files and client
// pairs, sorted.
func checkLoaded(t *testing.T, dir string, got *TLSFiles) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var cas, pairs []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		switch filepath.Ext(e.Name()) {
		case ".crt":
			cas = append(cas, filepath.Join(dir, e.Name()))
		case ".cert":
			pairs = append(pairs, e.Name())
		}
	}
	var names []string
	for _, c := range got.ClientCerts {
		names = append(names, c.Name)
		base := strings.TrimSuffix(c.Name, ".cert")
		if c.CertFile != filepath.Join(dir, c.Name) || c.KeyFile != filepath.Join(dir, base+".key") || len(c.Certificate.Certificate) == 0 {
			t.Fatalf("client certificate %+v is not the pair %s in %s", c, base, dir)
		}
	}
	switch {
	case got.Dir != dir:
		t.Fatalf("Dir %q, want %q", got.Dir, dir)
	case !slices.Equal(got.CAFiles, cas):
		t.Fatalf("CA files %q, the directory has %q", got.CAFiles, cas)
	case (got.RootCAs != nil) != (len(cas) > 0):
		t.Fatalf("RootCAs set: %v, with %d CA files", got.RootCAs != nil, len(cas))
	case !slices.Equal(names, pairs):
		t.Fatalf("client certificates %q, the directory has %q", names, pairs)
	}
}

// dirSize is the sum of the sizes of the regular files in dir, following
// symlinks that lead to one.
func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Skipf("the file system refuses %q: %v", path, err)
	}
}

func link(t *testing.T, target, path string) {
	t.Helper()
	os.Remove(path)
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}
