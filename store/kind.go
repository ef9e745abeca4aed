package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// A Kind is one kind of location: how its strings are written and how a
// store is opened at one. Each store package describes its kind and
// registers it from an init function (store/remote: REF and docker://REF;
// store/ocilayout: oci:DIR[:TAG]; store/archive: docker-archive:FILE[:REF]),
// so ParseLocation and the opening of stores know it without a switch
// anywhere else. A program gets a kind by importing its package.
//
// Register copies nothing: a registered Kind must not be changed.
type Kind struct {
	// Name is the kind's name as messages print it: "docker", "oci",
	// "docker-archive".
	Name string
	// Prefix starts the kind's location strings ("oci:", "docker://").
	// Two registered kinds never share one.
	Prefix string
	// Syntax is the form of its location strings, for messages:
	// "oci:DIR[:TAG]".
	Syntax string
	// Description says in a few words what the kind is: "an OCI layout".
	Description string
	// Bare makes strings without any prefix that are not local paths
	// locations of this kind: a plain image reference is a registry. At
	// most one registered kind is bare.
	Bare bool
	// Registry says the kind's locations are images in a registry, which
	// the calls that work on registries only accept: pulling from one,
	// pushing to one, deleting, retagging, reading a blob by digest.
	Registry bool
	// Local says which local paths written without a prefix are of this
	// kind (see ParseLocation); the zero value claims none.
	Local LocalPaths

	// Parse reads a location string with its Prefix removed. The Kind of
	// the Location it returns is set by ParseLocation. Its errors name the
	// part that is wrong.
	Parse func(rest string) (Location, error)
	// Format writes l back in the form Parse reads, prefix included.
	Format func(l Location) string
	// TargetTag is the tag a copy gives the root it writes to l ("" for
	// none). Nil means l.Tag.
	TargetTag func(l Location) string

	// OpenReader opens the store at l for reading, bound to it: the
	// store's Resolve("") answers the image l names (see Reader). env is
	// what the caller passed to Location.OpenReader, untouched (see Env).
	// Nil means the kind cannot be read.
	OpenReader func(ctx context.Context, env Env, l Location) (Reader, error)
	// OpenWriter opens (creating where needed) the store at l for writing.
	// Nil means the kind cannot be written.
	OpenWriter func(ctx context.Context, env Env, l Location) (Writer, error)
}

// LocalPaths says which local paths, written without a prefix, a Kind
// claims.
type LocalPaths struct {
	// Dirs claims existing directories, and is the kind of a new local
	// location whose name no Suffixes match (ParseLocalLocation).
	Dirs bool
	// Files claims existing regular files.
	Files bool
	// Suffixes claims paths that end so, existing or not (".tar").
	Suffixes []string
}

// String returns the kind's name.
func (k *Kind) String() string {
	if k == nil {
		return "unknown"
	}
	return k.Name
}

// Env is what a Kind's opener may need from the program opening the
// location: package hoist's Session passes itself, holding the transport,
// the credentials and one authenticated client per registry host. Store
// stays ignorant of what it holds; a kind that needs something of it
// declares an interface and asserts env to it (store/remote asserts
// remote.Env), failing with a clear error when env lacks it. Local kinds
// ignore it, so nil does for them.
type Env any

var kinds struct {
	mu     sync.RWMutex
	byName map[string]*Kind
	sorted []*Kind // by name; replaced, never changed, by Register
}

// Register makes k known to ParseLocation. It panics when k lacks a Name,
// Prefix, Parse or Format, when its name or prefix is taken, or when it is
// a second bare kind: all are programming errors of the registering
// package, found at init.
func Register(k *Kind) {
	if k == nil || k.Name == "" || k.Prefix == "" || k.Parse == nil || k.Format == nil {
		panic("store.Register: a Kind needs a Name, Prefix, Parse and Format")
	}
	kinds.mu.Lock()
	defer kinds.mu.Unlock()
	for _, o := range kinds.byName {
		switch {
		case o.Name == k.Name:
			panic(fmt.Sprintf("store.Register: kind %q registered twice", k.Name))
		case strings.HasPrefix(o.Prefix, k.Prefix) || strings.HasPrefix(k.Prefix, o.Prefix):
			panic(fmt.Sprintf("store.Register: prefix %q of kind %q clashes with %q of kind %q", k.Prefix, k.Name, o.Prefix, o.Name))
		case o.Bare && k.Bare:
			panic(fmt.Sprintf("store.Register: kinds %q and %q are both bare", o.Name, k.Name))
		}
	}
	if kinds.byName == nil {
		kinds.byName = map[string]*Kind{}
	}
	kinds.byName[k.Name] = k
	sorted := append(append([]*Kind(nil), kinds.sorted...), k)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	kinds.sorted = sorted
}

// Kinds returns the registered kinds, sorted by name.
func Kinds() []*Kind {
	return append([]*Kind(nil), registered()...)
}

// registered returns the registered kinds, sorted by name, not to be
// changed.
func registered() []*Kind {
	kinds.mu.RLock()
	defer kinds.mu.RUnlock()
	return kinds.sorted
}

// LookupKind returns the registered kind called name, or nil.
func LookupKind(name string) *Kind {
	kinds.mu.RLock()
	defer kinds.mu.RUnlock()
	return kinds.byName[name]
}
