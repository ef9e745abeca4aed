package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	hoisttransport "github.com/hoist-dev/hoist/transport"
)

// credentialFields are the members of an auths entry that hoist owns; any
// other member (such as "email") is kept when an entry is rewritten.
var credentialFields = []string{"auth", "username", "password", "identitytoken", "registrytoken"}

// isCredentialField reports whether key names one of credentialFields
// when decoded as encoding/json decodes it, ignoring case.
func isCredentialField(key string) bool {
	for _, f := range credentialFields {
		if strings.EqualFold(key, f) {
			return true
		}
	}
	return false
}

// Put saves c for host: to the helper that config.json assigns to host
// (credHelpers, then credsStore), else into config.json's "auths" under
// host's key ("https://index.docker.io/v1/" for Docker Hub). Entries for the
// same registry under other spellings are removed, so the new credential is
// the one found; storing to a helper also removes a plaintext entry left
// from before. config.json is written atomically under a lock, and only
// when something changed. A malformed config.json is an error and is left
// as it is.
func (s *ConfigStore) Put(ctx context.Context, host string, c Credential) error {
	if NormalizeHost(host) == "" {
		return errors.New("cannot store credentials for an empty registry host")
	}
	if c.IsZero() {
		return fmt.Errorf("the credential for %s has no password or token to store", NormalizeHost(host))
	}
	if strings.Contains(c.Username, ":") {
		return fmt.Errorf("username %q contains ':', which Basic auth and docker's \"auth\" field cannot carry", c.Username)
	}
	return s.update(ctx, func(cfg *configFile) (bool, error) {
		if name, why := cfg.helperFor(host); name != "" {
			h := helper{name: name, why: why + " in " + s.ConfigPath()}
			if err := h.store(ctx, storageKey(host), c); err != nil {
				return false, err
			}
			return removeEntries(cfg, host, ""), nil
		}
		putEntry(cfg, host, c)
		return true, nil
	})
}

// Erase removes the credential for host from its helper and from
// config.json. It wraps ErrNotLoggedIn when neither had one. When a
// read-only file (~/.dockercfg, auth.json) still holds a credential for
// host, Erase says so in an error, because hoist would go on using it.
func (s *ConfigStore) Erase(ctx context.Context, host string) error {
	found := false
	err := s.update(ctx, func(cfg *configFile) (bool, error) {
		if name, why := cfg.helperFor(host); name != "" {
			h := helper{name: name, why: why + " in " + s.ConfigPath()}
			ok, err := h.erase(ctx, storageKey(host))
			if err != nil {
				return false, err
			}
			found = ok
		}
		removed := removeEntries(cfg, host, "")
		found = found || removed
		return removed, nil
	})
	if err != nil {
		return err
	}
	if src := s.readOnlySource(host); src != "" {
		return fmt.Errorf("credentials for %s remain in %s, which hoist reads but never changes: remove them there", NormalizeHost(host), src)
	}
	if !found {
		return errNotLoggedIn(host)
	}
	return nil
}

// update runs fn on config.json under the lock and writes the result when
// fn reports a change. A symlinked config.json is written through the link.
func (s *ConfigStore) update(ctx context.Context, fn func(*configFile) (bool, error)) error {
	dir := s.o.configDir
	if dir == "" {
		return &hoisttransport.OptionHint{Err: errors.New("no docker config directory: set $DOCKER_CONFIG or $HOME"), Action: "or name one", Option: "auth.WithConfigDir"}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the docker config directory: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, "config.json.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	path := s.ConfigPath()
	target := path
	if t, err := filepath.EvalSymlinks(path); err == nil {
		target = t
	}
	cfg, err := loadConfig(target)
	if err != nil {
		return err
	}
	cfg.path = path
	changed, err := fn(cfg)
	if err != nil || !changed {
		return err
	}
	return writeAtomic(target, cfg.encode(), s.beforeRename)
}

// putEntry writes c into auths under host's key, keeping the entry's
// members that are not credentials.
func putEntry(cfg *configFile, host string, c Credential) {
	if cfg.auths == nil {
		cfg.auths = &object{}
	}
	key := storageKey(host)
	entry := &object{}
	if raw := cfg.auths.get(key); raw != nil {
		if e, err := parseObject(raw); err == nil {
			entry = e
		}
	}
	removeEntries(cfg, host, key)
	// docker and hoist decode an entry with encoding/json, which matches
	// member names without regard to case: an "Auth" left beside the new
	// fields would be read as the entry's auth.
	entry.members = slices.DeleteFunc(entry.members, func(m member) bool { return isCredentialField(m.key) })
	switch {
	case c.RegistryToken != "":
		entry.setString("registrytoken", c.RegistryToken)
	case c.IdentityToken != "":
		entry.setString("auth", encodeAuth(c.Username, ""))
		entry.setString("identitytoken", c.IdentityToken)
	default:
		entry.setString("auth", encodeAuth(c.Username, c.Password))
	}
	cfg.auths.set(key, entry.encode(2))
}

// removeEntries deletes every auths key naming host's registry except
// keep, and reports whether it deleted any.
func removeEntries(cfg *configFile, host, keep string) bool {
	if cfg.auths == nil {
		return false
	}
	removed := false
	for _, m := range append([]member(nil), cfg.auths.members...) {
		if m.key != keep && sameRegistry(m.key, host) {
			removed = cfg.auths.del(m.key) || removed
		}
	}
	return removed
}
