package auth

import (
	"context"
	"fmt"
	"path/filepath"
)

// ConfigStore is the Store over docker's config.json and credential
// helpers, which also reads the legacy ~/.dockercfg and containers'
// auth.json files (see the package documentation for the order). It holds
// no credentials in memory: every call reads the files again, so a login
// by another process is seen at once. A ConfigStore is safe for concurrent
// use, by goroutines and by processes.
type ConfigStore struct {
	o options
	// beforeRename, when set (by tests), runs after the new config.json is
	// written and synced to its temp file and before the rename; an error
	// abandons the write.
	beforeRename func(tmp string) error
}

var _ Store = (*ConfigStore)(nil)

// NewConfigStore returns a store for the files the options name; see
// WithConfigDir, WithDockerCfg and WithAuthFiles for the defaults.
func NewConfigStore(opts ...Option) *ConfigStore {
	return &ConfigStore{o: buildOptions(opts)}
}

// ConfigPath is the config.json this store reads and writes, or "" when
// there is no config directory (no --config, $DOCKER_CONFIG or $HOME).
func (s *ConfigStore) ConfigPath() string {
	if s.o.configDir == "" {
		return ""
	}
	return filepath.Join(s.o.configDir, "config.json")
}

// Get returns the credential for host from the first source that has one.
// It returns the zero Credential and nil when no source knows host. A
// helper that fails or misbehaves, a malformed file, or a malformed entry
// for host is an error naming the helper or file.
func (s *ConfigStore) Get(ctx context.Context, host string) (Credential, error) {
	cfg, err := loadConfig(s.ConfigPath())
	if err != nil {
		return Credential{}, err
	}
	if name, why := cfg.helperFor(host); name != "" {
		c, err := helper{name: name, why: why + " in " + cfg.path}.get(ctx, storageKey(host))
		if err != nil || !c.IsZero() {
			return c, err
		}
	}
	if c, err := lookupAuths(cfg.path, cfg.auths, host); err != nil || !c.IsZero() {
		return c, err
	}
	legacy, err := loadDockerCfg(s.o.dockerCfg)
	if err != nil {
		return Credential{}, err
	}
	if c, err := lookupAuths(s.o.dockerCfg, legacy, host); err != nil || !c.IsZero() {
		return c, err
	}
	for _, path := range s.o.authFiles {
		f, err := loadConfig(path)
		if err != nil {
			return Credential{}, err
		}
		if c, err := lookupAuths(path, f.auths, host); err != nil || !c.IsZero() {
			return c, err
		}
	}
	return Credential{}, nil
}

func lookupAuths(path string, auths *object, host string) (Credential, error) {
	key, raw, ok := findEntry(auths, host)
	if !ok {
		return Credential{}, nil
	}
	return decodeEntry(path, key, raw)
}

// readOnlySource names the read-only file that still holds a credential for
// host, or "".
func (s *ConfigStore) readOnlySource(host string) string {
	if legacy, err := loadDockerCfg(s.o.dockerCfg); err == nil {
		if _, _, ok := findEntry(legacy, host); ok {
			return s.o.dockerCfg
		}
	}
	for _, path := range s.o.authFiles {
		if f, err := loadConfig(path); err == nil {
			if _, _, ok := findEntry(f.auths, host); ok {
				return path
			}
		}
	}
	return ""
}

func errNotLoggedIn(host string) error {
	return fmt.Errorf("%w to %s", ErrNotLoggedIn, NormalizeHost(host))
}
