package hosts

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// ClientCert is one NAME.cert/NAME.key pair from a certs.d directory.
type ClientCert struct {
	// Name is the file name of the certificate, e.g. "client.cert"; it is
	// what hoist reports when saying which certificate a server accepted.
	Name string
	// CertFile and KeyFile are the full paths of the pair.
	CertFile, KeyFile string
	// Certificate is the parsed pair, ready for a tls.Config.
	Certificate tls.Certificate
}

// TLSFiles is the TLS material certs.d holds for one host. The zero value
// means "no directory": system roots and no client certificate.
type TLSFiles struct {
	// Dir is the certs.d/HOST directory the material came from, or "" when
	// no configured directory has one for this host.
	Dir string
	// CAFiles lists the *.crt files, sorted; RootCAs holds their certificates.
	CAFiles []string
	// RootCAs is nil when CAFiles is empty, meaning the system roots apply.
	RootCAs *x509.CertPool
	// ClientCerts are the certificate pairs in the order they are tried.
	ClientCerts []ClientCert
}

// DefaultCertsDirs returns the directories searched when none are
// configured: docker's, then the containers tools' system and user ones.
func DefaultCertsDirs() []string {
	dirs := []string{"/etc/docker/certs.d", "/etc/containers/certs.d"}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".config", "containers", "certs.d"))
	}
	return dirs
}

// LoadTLS reads the TLS material for host from the first directory in dirs
// that has a subdirectory named host. It returns an empty TLSFiles, not an
// error, when none has. A lone .cert or .key, or a file that does not parse,
// is an error naming the file(s) involved.
func LoadTLS(dirs []string, host string) (*TLSFiles, error) {
	if host == "" || strings.ContainsAny(host, `/\`) || host == "." || host == ".." {
		return nil, fmt.Errorf("certs.d: %q is not a registry host name", host)
	}
	for _, d := range dirs {
		dir := filepath.Join(d, host)
		fi, err := os.Stat(dir)
		switch {
		case err == nil && fi.IsDir():
			return loadDir(dir)
		case err == nil:
			return nil, fmt.Errorf("certs.d: %s is not a directory; remove it or make it the directory of %s's certificates", dir, host)
		case errors.Is(err, fs.ErrNotExist):
			continue
		default:
			return nil, fmt.Errorf("certs.d: %w", err)
		}
	}
	return &TLSFiles{}, nil
}

func loadDir(dir string) (*TLSFiles, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("certs.d: %w", err)
	}
	t := &TLSFiles{Dir: dir}
	certs := map[string]bool{}
	keys := map[string]bool{}
	for _, e := range entries { // ReadDir sorts by name, so all lists come out sorted.
		name := e.Name()
		if e.IsDir() {
			continue
		}
		switch filepath.Ext(name) {
		case ".crt":
			t.CAFiles = append(t.CAFiles, filepath.Join(dir, name))
		case ".cert":
			certs[strings.TrimSuffix(name, ".cert")] = true
		case ".key":
			keys[strings.TrimSuffix(name, ".key")] = true
		}
	}
	for _, f := range t.CAFiles {
		if t.RootCAs == nil {
			t.RootCAs = x509.NewCertPool()
		}
		if err := addPEMCerts(t.RootCAs, f); err != nil {
			return nil, err
		}
	}
	var names []string
	for n := range certs {
		if !keys[n] {
			return nil, fmt.Errorf("certs.d: client certificate %s has no key %s; add the key or remove the certificate",
				filepath.Join(dir, n+".cert"), filepath.Join(dir, n+".key"))
		}
		names = append(names, n)
	}
	for n := range keys {
		if !certs[n] {
			return nil, fmt.Errorf("certs.d: client key %s has no certificate %s; add the certificate or remove the key",
				filepath.Join(dir, n+".key"), filepath.Join(dir, n+".cert"))
		}
	}
	sort.Strings(names)
	for _, n := range names {
		cf, kf := filepath.Join(dir, n+".cert"), filepath.Join(dir, n+".key")
		pair, err := loadPair(cf, kf)
		if err != nil {
			return nil, fmt.Errorf("certs.d: client certificate %s with key %s: %w", cf, kf, err)
		}
		t.ClientCerts = append(t.ClientCerts, ClientCert{Name: n + ".cert", CertFile: cf, KeyFile: kf, Certificate: pair})
	}
	return t, nil
}

// addPEMCerts adds every certificate in a PEM file, and fails when the file
// holds none or one does not parse: a CA file that silently adds nothing would
// turn into "certificate signed by unknown authority" far from its cause.
func addPEMCerts(pool *x509.CertPool, file string) error {
	data, err := readFile(file)
	if err != nil {
		return fmt.Errorf("certs.d: %w", err)
	}
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return fmt.Errorf("certs.d: CA file %s: %w", file, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return fmt.Errorf("certs.d: CA file %s holds no PEM certificate; fix or remove it", file)
	}
	return nil
}

// maxFileSize caps what is read of one certs.d file: a whole system CA
// bundle is a few hundred kilobytes.
const maxFileSize = 4 << 20

// readFile reads a certs.d file, which must be a regular file (or a
// symlink to one) of at most maxFileSize bytes. It opens without blocking
// and checks the type before reading, so that a FIFO or a device (a
// symlink to /dev/zero) fails at once instead of hanging or reading
// forever.
func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s); replace it with the PEM file itself", path, fi.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s is larger than a certificate file can be (%d MiB)", path, maxFileSize>>20)
	}
	return data, nil
}

// loadPair reads and parses a client certificate and its key.
func loadPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := readFile(certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := readFile(keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}
