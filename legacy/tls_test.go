package legacy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/hosts"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/server"
	"github.com/hoist-dev/hoist/transport"
)

// The seed's set-up: a static v1 tree behind a web server that asks for
// any client certificate and refuses requests without an acceptable one
// (403), with fixed headers. certs.d holds two client pairs; the first is
// refused, the second accepted. A v1 pull works through it.
func TestPullStaticTreeWithClientCertificates(t *testing.T) {
	ca := testutil.NewCA(t, "test CA")
	clientCA := testutil.NewCA(t, "client CA") // the server does not verify client certs
	root := t.TempDir()
	chain := testChain(t)
	testutil.WriteV1Tree(t, root, "foo42/bar", map[string]string{"latest": childID}, []testutil.V1TreeImage{
		{ID: baseID, JSON: chain[0].json, Layer: chain[0].layer, Ancestry: []string{baseID}},
		{ID: childID, JSON: chain[1].json, Layer: chain[1].layer, Ancestry: []string{childID, baseID}},
	})
	srv := testutil.NewV1StaticServer(t, root, ca.Server(t), func(c *x509.Certificate) bool {
		return c.Subject.CommonName == "b"
	})

	certsDir := t.TempDir()
	hostDir := filepath.Join(certsDir, srv.Host)
	ca.WriteCA(t, hostDir, "ca.crt")
	clientCA.Client(t, "a").WritePair(t, hostDir, "a")
	clientCA.Client(t, "b").WritePair(t, hostDir, "b")

	rt := transport.New(transport.WithHosts(&hosts.Config{CertsDirs: []string{certsDir}}), transport.WithClock(instantClock{}))
	c, err := NewClient(srv.Host, WithTransport(rt))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var tr transport.Trace
	ping, err := c.Ping(transport.WithTrace(ctx, &tr))
	if err != nil {
		t.Fatal(err)
	}
	if ping != (PingResult{Version: "0.6.2", Standalone: true, Secure: true}) {
		t.Errorf("ping = %+v", ping)
	}
	att := tr.Attempts()
	if len(att) != 2 || att[0].Cert != "a.cert" || att[0].Status != http.StatusForbidden || !att[0].Refused || att[1].Cert != "b.cert" || att[1].Status != http.StatusOK {
		t.Errorf("certificate attempts %+v, want a.cert refused with 403, then b.cert accepted", att)
	}
	sameImages(t, pullAll(t, c, "foo42/bar", "latest"), chain)

	// Without a client certificate the server's 403 comes through.
	caOnly := t.TempDir()
	ca.WriteCA(t, filepath.Join(caOnly, srv.Host), "ca.crt")
	noCerts := transport.New(transport.WithHosts(&hosts.Config{CertsDirs: []string{caOnly}}))
	c2, _ := NewClient(srv.Host, WithTransport(noCerts))
	if _, err := c2.Ping(ctx); !errors.Is(err, errcode.ErrDenied) {
		t.Fatalf("ping without a client certificate: err = %v, want the 403", err)
	}
	if _, err := c2.Pull(ctx, "foo42/bar", "latest"); !errors.Is(err, errcode.ErrDenied) {
		t.Fatalf("pull without a client certificate: err = %v, want the 403", err)
	}
}

// A standalone registry over https gets Basic credentials on every
// request, registry calls included; one that is not standalone gets the
// index's token there.
func TestStandaloneHTTPSSendsBasicEverywhere(t *testing.T) {
	for _, standalone := range []bool{true, false} {
		ca := testutil.NewCA(t, "test CA")
		rec := &recorder{}
		srv, err := server.NewV1(t.TempDir(), server.WithV1Account(foo42), server.WithV1ReadAuth(true), server.WithV1Standalone(standalone))
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewUnstartedServer(rec.wrap(srv))
		ts.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t).TLS}}
		ts.StartTLS()
		t.Cleanup(ts.Close)
		certsDir := t.TempDir()
		ca.WriteCA(t, filepath.Join(certsDir, hostOf(ts)), "ca.crt")
		rt := transport.New(transport.WithHosts(&hosts.Config{CertsDirs: []string{certsDir}}), transport.WithClock(instantClock{}))
		c, err := NewClient(hostOf(ts), WithTransport(rt), WithKeychain(staticCred(foo42)))
		if err != nil {
			t.Fatal(err)
		}
		chain := testChain(t)
		if _, err := c.Push(context.Background(), "foo42/bar", "latest", sliceChain(chain)); err != nil {
			t.Fatal(err)
		}
		sameImages(t, pullAll(t, c, "foo42/bar", "latest"), chain)
		for _, r := range rec.all() {
			if r.path == "/v1/_ping" {
				continue
			}
			registryCall := strings.HasPrefix(r.path, "/v1/images/") || strings.Contains(r.path, "/tags")
			want := "Basic "
			if registryCall && !standalone {
				want = "Token "
			}
			if !strings.HasPrefix(r.auth, want) {
				t.Errorf("standalone=%v: %s %s with Authorization %q, want %s...", standalone, r.method, r.path, r.auth, want)
			}
		}
	}
}
