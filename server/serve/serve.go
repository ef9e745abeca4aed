package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	driver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/filesystem"

	"github.com/hoist-dev/hoist/server"
	"github.com/hoist-dev/hoist/server/registry"
	"github.com/hoist-dev/hoist/server/storage"
	"github.com/hoist-dev/hoist/store"
)

// Server is one `hoist serve` instance: the registry over its storage,
// with TLS, access control, limits and observability around it.
type Server struct {
	cfg     config
	ns      *storage.Namespace
	handler http.Handler
	tls     *tls.Config // nil for plain HTTP
	metrics *metrics
}

// New builds a Server from opts. It reads the TLS and htpasswd files now,
// so a bad file fails here with its name, not at the first request.
func New(opts ...Option) (*Server, error) {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	d, ns, err := openStorage(&cfg)
	if err != nil {
		return nil, err
	}
	var served store.Namespace = ns
	if cfg.mirror != nil {
		if served, err = cfg.mirror.namespace(ns, cfg.logger); err != nil {
			return nil, err
		}
	}
	v2, err := registry.New(served,
		registry.WithReadOnly(cfg.readOnly),
		registry.WithMaxUploads(cfg.maxUploads),
		registry.WithChunkMinLength(cfg.chunkMinLength),
		registry.WithLogger(cfg.logger))
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, ns: ns, metrics: newMetrics()}
	if cfg.tlsCert != "" {
		if s.tls, err = serverTLS(&cfg); err != nil {
			return nil, err
		}
	}
	var h http.Handler = v2
	if cfg.htpasswd != "" {
		users, err := loadHtpasswd(cfg.htpasswd)
		if err != nil {
			return nil, err
		}
		h = basicAuth(h, users, cfg.realm)
	}
	if cfg.mode() == ClientCertOptional {
		h = requireClientCert(h, cfg.clientCN)
	}
	mux := http.NewServeMux()
	mux.Handle("/v2/", h)
	mux.Handle("/v2", h)
	if cfg.v1 {
		v1, err := s.newV1(d)
		if err != nil {
			return nil, err
		}
		mux.Handle("/v1/", v1)
	}
	mux.HandleFunc("/healthz", s.healthz)
	mux.Handle("/metrics", s.metrics)
	s.handler = s.observe(stallDeadlines(mux, cfg.stallTimeout))
	return s, nil
}

// Storage opens the registry storage opts name (WithRoot, WithDriver or
// WithS3, with WithAllowMissing and WithMaxManifestSize), without a
// server: what `hoist serve gc` collects in.
func Storage(opts ...Option) (*storage.Namespace, error) {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	_, ns, err := openStorage(&cfg)
	return ns, err
}

// openStorage builds the driver and the storage cfg names; on S3 it also
// sets the OCI-Chunk-Min-Length default.
func openStorage(cfg *config) (driver.StorageDriver, *storage.Namespace, error) {
	d := cfg.driver
	sopts := []storage.Option{storage.WithAllowMissing(cfg.allowMissing || cfg.mirror != nil), storage.WithMaxManifestSize(cfg.maxManifestSize)}
	switch {
	case cfg.s3 != nil:
		var err error
		if d, err = cfg.s3.driver(context.Background()); err != nil {
			return nil, nil, err
		}
		sopts = append(sopts, storage.WithPartSize(cfg.s3.partSize()), storage.WithAtomicPut(true), storage.WithRedirects(cfg.s3.Redirect))
		if cfg.chunkMinLength == 0 {
			cfg.chunkMinLength = MinS3PartSize
		}
	case d == nil:
		// Fail now, naming the directory, rather than at the first push.
		if err := os.MkdirAll(cfg.root, 0o755); err != nil {
			return nil, nil, fmt.Errorf("serve: the registry root: %w", err)
		}
		probe, err := os.CreateTemp(cfg.root, ".hoist-write-check-*")
		if err != nil {
			return nil, nil, fmt.Errorf("serve: the registry root %s is not writable: %w", cfg.root, err)
		}
		probe.Close()
		os.Remove(probe.Name())
		d = FilesystemDriver(cfg.root)
	}
	ns, err := storage.New(d, sopts...)
	if err != nil {
		return nil, nil, err
	}
	return d, ns, nil
}

// newV1 builds the v1 API over the same driver, its tags and images
// bridged to the v2 store (v1bridge.go), with the same client-certificate
// check and read-only mode as v2.
func (s *Server) newV1(d driver.StorageDriver) (http.Handler, error) {
	b := &v1Bridge{ns: s.ns, logger: s.cfg.logger}
	v1, err := server.NewV1OnDriver(d, server.WithV1Tags(b), server.WithV1Blobs(b), server.WithV1Logger(s.cfg.logger))
	if err != nil {
		return nil, err
	}
	b.v1 = v1
	var h http.Handler = v1
	if s.cfg.readOnly {
		h = readOnlyV1(h)
	}
	if s.cfg.mode() == ClientCertOptional {
		h = requireClientCert(h, s.cfg.clientCN)
	}
	return h, nil
}

// readOnlyV1 refuses v1 writes.
func readOnlyV1(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			_, _ = w.Write([]byte(`{"error":"this registry is read-only"}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// FilesystemDriver is the storage driver for a registry kept under dir:
// distribution's filesystem driver.
func FilesystemDriver(dir string) driver.StorageDriver {
	return filesystem.New(filesystem.DriverParameters{RootDirectory: dir, MaxThreads: 100})
}

// Namespace returns the storage the server serves.
func (s *Server) Namespace() *storage.Namespace { return s.ns }

// Handler returns the server's whole HTTP handler, for tests and for
// embedding; TLS and its client-certificate checks apply only in Serve.
func (s *Server) Handler() http.Handler { return s.handler }

// healthz answers 200 once the storage answers.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.ns.Driver().List(ctx, "/"); err != nil && !isNotFoundErr(err) {
		http.Error(w, "storage: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func isNotFoundErr(err error) bool {
	var nf driver.PathNotFoundError
	return errors.As(err, &nf)
}

// Serve answers requests on ln until ctx ends, then shuts down: it stops
// accepting, lets requests in flight finish for the WithShutdownGrace
// period, and closes what is left. It returns nil after a shutdown and the
// server's error otherwise. ln is closed when Serve returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.headerTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
	}
	if s.tls != nil {
		srv.TLSConfig = s.tls
		ln = tls.NewListener(ln, s.tls)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	gcDone := s.startGC(ctx)
	defer gcDone()
	s.cfg.logger.Info("serving", "addr", ln.Addr().String(), "tls", s.tls != nil)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.cfg.logger.Info("shutting down", "grace", s.cfg.shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.shutdownGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		s.cfg.logger.Warn("requests still running after the grace period were cut off; their uploads stay resumable")
		err = srv.Close()
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// ListenAndServe listens on addr (host:port) and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: listening on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}
