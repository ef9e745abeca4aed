package testutil

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
)

// V1TreeImage is one image of a static v1 registry tree.
type V1TreeImage struct {
	// ID is the image ID, 64 hex digits.
	ID string
	// JSON and Layer are served as images/ID/json and images/ID/layer.
	JSON, Layer []byte
	// Ancestry is served as images/ID/ancestry: the image first, its
	// oldest parent last.
	Ancestry []string
}

// WriteV1Tree writes a static v1 registry tree under dir, the kind the
// original client could pull from a plain web server:
//
//	v1/_ping                          "true" (no JSON object: clients assume standalone)
//	v1/repositories/REPO/images       [{"id": ...}, ...] for every image
//	v1/repositories/REPO/tags         {"tag": "id", ...}
//	v1/images/ID/{json,layer,ancestry}
//
// repo is "namespace/name". There is no repositories/REPO/tags/TAG: the
// tags file is in its place, so clients read all tags.
func WriteV1Tree(t testing.TB, dir, repo string, tags map[string]string, images []V1TreeImage) {
	t.Helper()
	jsonFile := func(path string, v any) {
		t.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, b)
	}
	v1 := filepath.Join(dir, "v1")
	writeFile(t, filepath.Join(v1, "_ping"), []byte("true"))
	type entry struct {
		ID string `json:"id"`
	}
	var list []entry
	for _, img := range images {
		list = append(list, entry{img.ID})
		writeFile(t, filepath.Join(v1, "images", img.ID, "json"), img.JSON)
		writeFile(t, filepath.Join(v1, "images", img.ID, "layer"), img.Layer)
		jsonFile(filepath.Join(v1, "images", img.ID, "ancestry"), img.Ancestry)
	}
	repoDir := filepath.Join(v1, "repositories", filepath.FromSlash(repo))
	jsonFile(filepath.Join(repoDir, "images"), list)
	jsonFile(filepath.Join(repoDir, "tags"), tags)
}

// V1StaticServer is a static v1 registry tree served over https behind a
// client-certificate check, as the original client's tests served one
// with apache: `SSLVerifyClient optional_no_ca` asked for any client
// certificate without naming acceptable CAs, and a CGI answered 403
// unless the connection was https with a certificate, and otherwise
// served the file with fixed headers.
type V1StaticServer struct {
	// URL is the base URL, e.g. "https://127.0.0.1:41234".
	URL string
	// Host is host:port, e.g. "127.0.0.1:41234".
	Host string
	// Server is the underlying test server; it is closed at cleanup.
	Server *httptest.Server
}

// NewV1StaticServer serves the tree under root (see WriteV1Tree) over TLS
// with cert, asking clients for any certificate (tls.RequestClientCert).
// A request without a client certificate, or with one that accept refuses
// (accept nil takes any), gets 403. Every answer carries
// X-Docker-Registry-Version: 0.6.2; files are served with
// X-Docker-Endpoints set to the request's Host and X-Docker-Size: 0, the
// CGI's fixed headers. It stops when the test ends.
func NewV1StaticServer(t testing.TB, root string, cert *Cert, accept func(*x509.Certificate) bool) *V1StaticServer {
	t.Helper()
	files := http.FileServer(http.Dir(root))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Docker-Registry-Version", "0.6.2")
		switch {
		case r.TLS == nil:
			http.Error(w, "Not using SSL", http.StatusForbidden)
			return
		case len(r.TLS.PeerCertificates) == 0:
			http.Error(w, "Client certificate invalid", http.StatusForbidden)
			return
		case accept != nil && !accept(r.TLS.PeerCertificates[0]):
			http.Error(w, "Client certificate refused", http.StatusForbidden)
			return
		}
		w.Header().Set("X-Docker-Endpoints", r.Host)
		w.Header().Set("X-Docker-Size", "0")
		files.ServeHTTP(w, r)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}, ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &V1StaticServer{URL: srv.URL, Host: srv.Listener.Addr().String(), Server: srv}
}
