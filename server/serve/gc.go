package serve

import (
	"context"
	"sync"
	"time"

	"github.com/hoist-dev/hoist/server/storage"
)

// startGC runs a garbage collection every WithGC interval until ctx ends,
// logging each report; the returned func stops it and waits for a
// collection under way to end.
func (s *Server) startGC(ctx context.Context) func() {
	if s.cfg.gcInterval == 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(s.cfg.gcInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			start := time.Now()
			rep, err := s.ns.GC(ctx, storage.GCConfig{Grace: s.cfg.gcGrace})
			if err != nil {
				if ctx.Err() == nil {
					s.cfg.logger.Error("gc failed", "err", err)
				}
				continue
			}
			s.cfg.logger.Info("gc", "took", time.Since(start).Round(time.Millisecond),
				"manifests", rep.Manifests, "blobs_kept", rep.BlobsKept, "blobs_removed", rep.BlobsRemoved,
				"bytes_removed", rep.BytesRemoved, "uploads_removed", rep.UploadsRemoved, "links_removed", rep.LinksRemoved)
		}
	}()
	return func() { cancel(); wg.Wait() }
}
