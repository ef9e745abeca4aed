package hosts

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
)

func TestLoadTLS(t *testing.T) {
	ca := testutil.NewCA(t, "certs.d test CA")
	a, b := ca.Client(t, "a"), ca.Client(t, "b")

	t.Run("first directory with the host wins", func(t *testing.T) {
		d1, d2 := t.TempDir(), t.TempDir()
		ca.WriteCA(t, filepath.Join(d2, "reg:5000"), "ca.crt")
		b.WritePair(t, filepath.Join(d2, "reg:5000"), "b")
		a.WritePair(t, filepath.Join(d2, "reg:5000"), "a")
		ca.WriteCA(t, filepath.Join(d1, "other"), "ca.crt")
		got, err := LoadTLS([]string{d1, d2}, "reg:5000")
		if err != nil {
			t.Fatal(err)
		}
		if got.Dir != filepath.Join(d2, "reg:5000") || got.RootCAs == nil || len(got.CAFiles) != 1 {
			t.Fatalf("got %+v", got)
		}
		var names []string
		for _, c := range got.ClientCerts {
			names = append(names, c.Name)
		}
		if strings.Join(names, ",") != "a.cert,b.cert" {
			t.Fatalf("client certificates in order %v, want a.cert,b.cert", names)
		}
	})

	t.Run("host:port is not host", func(t *testing.T) {
		d := t.TempDir()
		ca.WriteCA(t, filepath.Join(d, "reg"), "ca.crt")
		got, err := LoadTLS([]string{d}, "reg:5000")
		if err != nil || got.Dir != "" || got.RootCAs != nil {
			t.Fatalf("got %+v, %v; want no material", got, err)
		}
	})

	t.Run("no directory means system roots", func(t *testing.T) {
		got, err := LoadTLS([]string{filepath.Join(t.TempDir(), "missing")}, "reg")
		if err != nil || got.RootCAs != nil || len(got.ClientCerts) != 0 {
			t.Fatalf("got %+v, %v", got, err)
		}
	})

	bad := []struct {
		name  string
		setup func(dir string)
		want  []string
	}{
		{"cert without key", func(dir string) {
			a.WritePair(t, dir, "a")
			os.Remove(filepath.Join(dir, "a.key"))
		}, []string{"a.cert", "a.key", "has no key"}},
		{"key without cert", func(dir string) {
			a.WritePair(t, dir, "a")
			os.Remove(filepath.Join(dir, "a.cert"))
		}, []string{"a.key", "a.cert", "has no certificate"}},
		{"bad CA PEM", func(dir string) {
			os.WriteFile(filepath.Join(dir, "ca.crt"), []byte("not a certificate"), 0o600)
		}, []string{"ca.crt", "no PEM certificate"}},
		{"bad client PEM", func(dir string) {
			a.WritePair(t, dir, "a")
			os.WriteFile(filepath.Join(dir, "a.key"), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600)
		}, []string{"a.cert", "a.key"}},
		{"CA file is a FIFO", func(dir string) {
			syscall.Mkfifo(filepath.Join(dir, "ca.crt"), 0o600)
		}, []string{"ca.crt", "not a regular file"}},
		{"CA file leads to /dev/zero", func(dir string) {
			os.Symlink("/dev/zero", filepath.Join(dir, "ca.crt"))
		}, []string{"ca.crt", "not a regular file"}},
		{"mismatched pair", func(dir string) {
			a.WritePair(t, dir, "a")
			os.WriteFile(filepath.Join(dir, "a.key"), b.KeyPEM, 0o600)
		}, []string{"a.cert", "a.key"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "reg")
			os.MkdirAll(dir, 0o755)
			tc.setup(dir)
			_, err := LoadTLS([]string{root}, "reg")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}

	t.Run("host names that escape the directory", func(t *testing.T) {
		for _, h := range []string{"", "..", "a/b"} {
			if _, err := LoadTLS([]string{t.TempDir()}, h); err == nil {
				t.Errorf("LoadTLS(%q): no error", h)
			}
		}
	})
}

func TestHostPolicy(t *testing.T) {
	c := &Config{Insecure: []string{"reg.internal:5000", "plain.example", "10.1.0.0/16", "[fd00::1]:443"}}
	tests := []struct {
		host           string
		insecure, http bool
	}{
		{"reg.internal:5000", true, true},
		{"reg.internal:5001", false, false},
		{"reg.internal", false, false},
		{"plain.example", true, true},
		{"plain.example:8443", true, true},
		{"PLAIN.example", true, true},
		{"10.1.2.3:5000", true, true},
		{"10.2.0.1", false, false},
		{"[fd00::1]:443", true, true},
		{"[fd00::1]:444", false, false},
		{"localhost", false, true},
		{"localhost:5000", false, true},
		{"127.0.0.1:5000", false, true},
		{"127.8.9.1", false, true},
		{"[::1]:5000", false, true},
		{"[::1]", false, true},
		{"docker.io", false, false},
		{"localhost.example.com", false, false},
	}
	for _, tc := range tests {
		if got := c.IsInsecure(tc.host); got != tc.insecure {
			t.Errorf("IsInsecure(%q) = %v", tc.host, got)
		}
		if got := c.PlainHTTPAllowed(tc.host); got != tc.http {
			t.Errorf("PlainHTTPAllowed(%q) = %v", tc.host, got)
		}
	}
	var zero *Config
	if zero.IsInsecure("x") || !zero.PlainHTTPAllowed("localhost") || len(zero.Dirs()) == 0 {
		t.Error("nil Config is not the default policy")
	}
}
