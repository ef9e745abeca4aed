package hoist

import (
	"context"
	"fmt"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/syncer"
)

// NewSyncer returns a syncer for cfg (see package syncer) that reaches
// registries through the session: its per-host clients, credentials,
// certs.d settings and protocol cache. Unless opts give one, its copies
// use the blob-location cache (~/.cache/hoist/blob-locations.json) and
// save it after each run (Sync does; a program calling Run itself calls
// SaveBlobCache).
func (s *Session) NewSyncer(cfg *syncer.Config, opts ...syncer.Option) (*syncer.Syncer, error) {
	all := []syncer.Option{syncer.WithBlobCache(s.syncCache())}
	return syncer.New(s, cfg, append(all, opts...)...)
}

// Sync runs the sync cfg describes once; see syncer.Syncer.Run. The
// Result lists every item and failure; the error is for what stopped the
// run as a whole.
func (s *Session) Sync(ctx context.Context, cfg *syncer.Config, opts ...syncer.Option) (*syncer.Result, error) {
	sy, err := s.NewSyncer(cfg, opts...)
	if err != nil {
		return nil, err
	}
	res, err := sy.Run(ctx)
	if serr := s.SaveBlobCache(); err == nil && serr != nil {
		err = serr
	}
	return res, err
}

// syncCache opens the default blob-location cache once per session; nil
// (no cache) when it cannot be read.
func (s *Session) syncCache() *copy.BlobCache {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.blobCache == nil {
		if p, err := copy.DefaultBlobCachePath(); err == nil {
			s.blobCache, _ = copy.OpenBlobCache(p)
		}
	}
	return s.blobCache
}

// SaveBlobCache saves the blob-location cache the session's syncers
// use, merged with what other processes saved.
func (s *Session) SaveBlobCache() error {
	s.mu.Lock()
	c := s.blobCache
	s.mu.Unlock()
	if err := c.Save(); err != nil {
		return fmt.Errorf("saving the blob-location cache: %w", err)
	}
	return nil
}

// SyncSessionOptions are the session options a sync config asks for:
// the hosts a skopeo config marks tls-verify: false are insecure, and
// its credentials come before docker's (read from configDir, "" for the
// default). A config in hoist's format asks for none.
func SyncSessionOptions(cfg *syncer.Config, configDir string) []Option {
	var opts []Option
	if len(cfg.Insecure) > 0 {
		opts = append(opts, WithInsecureRegistries(cfg.Insecure...))
	}
	if len(cfg.Credentials) > 0 {
		var aopts []auth.Option
		if configDir != "" {
			aopts = append(aopts, auth.WithConfigDir(configDir))
		}
		base := auth.NewConfigStore(aopts...)
		opts = append(opts, WithKeychain(auth.KeychainFunc(func(ctx context.Context, host string) (auth.Credential, error) {
			if c, ok := cfg.Credentials[syncer.CanonicalHost(host)]; ok {
				return c, nil
			}
			return base.Get(ctx, host)
		})))
	}
	return opts
}
