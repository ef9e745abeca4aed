package syncer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist/internal/atomicfile"
)

// stateVersion is the format of the state file.
const stateVersion = 1

// maxStateFile bounds the state file read back.
const maxStateFile = 256 << 20

// State is what a sync remembers between runs: the digest each source tag
// named when it was last looked at, and what each target tag holds
// because this sync put it there or saw it there. A run whose sources
// have not moved uses it to skip without asking the target anything.
// It is safe for concurrent use.
type State struct {
	path string

	mu      sync.Mutex
	Version int                             `json:"version"`
	Sources map[string]map[string]SourceTag `json:"sources"` // "host/repo" -> tag
	Targets map[string]map[string]TargetTag `json:"targets"` // target repository -> tag or "@DIGEST"
	Hosts   map[string]HostState            `json:"hosts,omitempty"`
	dirty   bool
}

// HostState is what a sync learnt of a registry, source or target.
type HostState struct {
	// LinkPaging: the registry pages listings with Link headers, so a
	// page without one is the last.
	LinkPaging bool `json:"linkPaging"`
	// TagsIgnoreLast: the registry answers a tags listing's last= with
	// the list from its start, or sends tags out of lexical order, so it
	// sends whole lists (distribution 2.x).
	TagsIgnoreLast bool `json:"tagsIgnoreLast,omitempty"`
	// Probed: the paging probe ran, and LinkPaging and TagsIgnoreLast say
	// what it found.
	Probed bool `json:"probed,omitempty"`
	// PlainHTTP: the registry answered over plain http (a loopback or
	// insecure host without TLS), so the next run sends it no https
	// attempt first.
	PlainHTTP bool `json:"plainHTTP,omitempty"`
}

// SourceTag is a source tag as last resolved.
type SourceTag struct {
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType"`
	Size      int64         `json:"size"`
}

// TargetTag is what a target tag holds.
type TargetTag struct {
	// Source is the source manifest it was copied from.
	Source digest.Digest `json:"source"`
	// Digest is the manifest the target tag names (differs from Source
	// when platforms were selected).
	Digest digest.Digest `json:"digest"`
	// Options identifies how it was copied (platforms, referrers): a
	// change of them copies again.
	Options string `json:"options,omitempty"`
	// Referrers are the digests of the source's referrers copied with
	// it, sorted.
	Referrers []digest.Digest `json:"referrers,omitempty"`
}

// OpenState reads the state at path; a missing file is an empty state.
// "" is a state kept in memory only.
func OpenState(path string) (*State, error) {
	s := &State{path: path, Version: stateVersion, Sources: map[string]map[string]SourceTag{}, Targets: map[string]map[string]TargetTag{}, Hosts: map[string]HostState{}}
	if path == "" {
		return s, nil
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sync state: %w", err)
	}
	if fi.Size() > maxStateFile {
		return nil, fmt.Errorf("sync state %s is %d bytes, more than the %d MiB hoist reads; delete it (the next run checks everything)", path, fi.Size(), maxStateFile>>20)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sync state: %w", err)
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("sync state %s does not parse (%v); delete it (the next run checks everything)", path, err)
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("sync state %s has version %d, not %d; delete it (the next run checks everything)", path, s.Version, stateVersion)
	}
	if s.Sources == nil {
		s.Sources = map[string]map[string]SourceTag{}
	}
	if s.Targets == nil {
		s.Targets = map[string]map[string]TargetTag{}
	}
	if s.Hosts == nil {
		s.Hosts = map[string]HostState{}
	}
	return s, nil
}

// Path returns where the state is saved ("" for nowhere).
func (s *State) Path() string { return s.path }

func (s *State) source(repo, tag string) (SourceTag, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.Sources[repo][tag]
	return t, ok
}

func (s *State) setSource(repo, tag string, t SourceTag) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.Sources[repo]
	if m == nil {
		m = map[string]SourceTag{}
		s.Sources[repo] = m
	}
	if m[tag] != t {
		m[tag] = t
		s.dirty = true
	}
}

// keepSources forgets the tags of repo not in listed: they are gone.
func (s *State) keepSources(repo string, listed []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.Sources[repo]
	if m == nil {
		return
	}
	in := make(map[string]bool, len(listed))
	for _, t := range listed {
		in[t] = true
	}
	for t := range m {
		if !in[t] {
			delete(m, t)
			s.dirty = true
		}
	}
}

func (s *State) target(repo, key string) (TargetTag, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.Targets[repo][key]
	return t, ok
}

func (s *State) targetTags(repo string) map[string]TargetTag {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]TargetTag, len(s.Targets[repo]))
	for k, v := range s.Targets[repo] {
		out[k] = v
	}
	return out
}

func (s *State) setTarget(repo, key string, t TargetTag) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.Targets[repo]
	if m == nil {
		m = map[string]TargetTag{}
		s.Targets[repo] = m
	}
	m[key] = t
	s.dirty = true
}

func (s *State) dropTarget(repo, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.Targets[repo][key]; ok {
		delete(s.Targets[repo], key)
		s.dirty = true
	}
}

func (s *State) host(h string) (HostState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hs, ok := s.Hosts[h]
	return hs, ok
}

// editHost changes what the state keeps of host h with edit.
func (s *State) editHost(h string, edit func(*HostState)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.Hosts[h]
	hs := old
	edit(&hs)
	if !ok || old != hs {
		s.Hosts[h] = hs
		s.dirty = true
	}
}

// Save writes the state to its path atomically, when it changed.
func (s *State) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path == "" || !s.dirty {
		return nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("sync state: %w", err)
	}
	if err := atomicfile.WriteFile(s.path, b, 0o600); err != nil {
		return fmt.Errorf("sync state: %w", err)
	}
	s.dirty = false
	return nil
}
