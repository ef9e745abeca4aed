package remote

import (
	"context"
	"fmt"
	"net/http"

	"github.com/hoist-dev/hoist/legacy"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
)

// Kind is the registry kind of location: an image reference, plain or as
// docker://REF. Its Location's Ref is the reference. Opening needs an Env
// (package hoist's Session is one) and opens the repository in whichever
// protocol its registry speaks (Open).
var Kind = &store.Kind{
	Name:        "docker",
	Prefix:      "docker://",
	Syntax:      "[docker://]REF",
	Description: "an image in a registry",
	Bare:        true,
	Registry:    true,
	Parse: func(rest string) (store.Location, error) {
		ref, err := reference.Parse(rest)
		if err != nil {
			return store.Location{}, err
		}
		return store.Location{Ref: ref}, nil
	},
	Format: func(l store.Location) string { return l.Ref.String() },
	TargetTag: func(l store.Location) string {
		switch {
		case l.Ref.Tag != "":
			return l.Ref.Tag
		case l.Ref.Digest != "":
			return ""
		}
		return reference.DefaultTag
	},
	OpenReader: func(ctx context.Context, env store.Env, l store.Location) (store.Reader, error) {
		return openEnv(ctx, env, l, openRead)
	},
	OpenWriter: func(ctx context.Context, env store.Env, l store.Location) (store.Writer, error) {
		return openEnv(ctx, env, l, openWrite)
	},
}

func init() { store.Register(Kind) }

// Env is what opening a registry location needs from the program opening
// it. Package hoist's Session implements it; its methods are safe for
// concurrent use.
type Env interface {
	// RegistryClient returns the http.Client that reaches host (an API
	// host, see reference.APIHost) with the program's transport and the
	// credentials stored for host. It returns the same client for the same
	// host, so what auth learns (the challenge, tokens) is shared.
	RegistryClient(host string) *http.Client
	// Protocol returns the protocol registry speaks, detected once (see
	// Detect) or fixed by configuration.
	Protocol(ctx context.Context, registry string) (Protocol, error)
	// LegacyOptions returns the options of every v1 client: the transport
	// and the keychain.
	LegacyOptions() []legacy.Option
}

// SessionsEnv is an Env that keeps upload sessions somewhere of its
// choosing (package hoist's Session: files under its upload state
// directory, see FileSessions), so that a push killed part way is resumed
// by the next process. UploadSessions returns nil to keep them in memory.
type SessionsEnv interface {
	Env
	UploadSessions(ref reference.Reference) UploadSessions
}

// Store is a registry repository opened by Open: a *Repository for a v2
// registry, a *V1Repository for a v1 one (which must be closed).
type Store interface {
	store.Reader
	store.Writer
	store.TagLister
	store.Referencer
}

// LearningEnv is an Env that lets Open learn a registry's protocol from
// the first request a read sends anyway, instead of a separate detection
// (package hoist's Session is one).
type LearningEnv interface {
	Env
	// KnownProtocol returns the protocol of registry when configuration
	// fixed it or it was detected or learnt before.
	KnownProtocol(registry string) (Protocol, bool)
	// LearnProtocol records that registry speaks p.
	LearnProtocol(registry string, p Protocol)
}

func openEnv(ctx context.Context, env store.Env, l store.Location, mode openMode) (Store, error) {
	e, ok := env.(Env)
	if !ok {
		return nil, fmt.Errorf("%s: opening a registry location needs a remote.Env (a hoist.Session), not %T", l, env)
	}
	return openRef(ctx, e, l.Ref, mode)
}

// Open opens the repository ref names in whichever protocol its registry
// speaks (env.Protocol). ref's tag or digest is what Resolve answers for
// "". v1 registries have no digests: a reference by digest to one is an
// error matching store.ErrInvalidLocation.
//
// For a read, when env is a LearningEnv that does not know the registry's protocol yet, Open sends the GET of that
// manifest ref names (with every accepted media type; latest when it
// names none) first: an answer in the
// distribution API's terms proves v2, and is kept for the store's
// ResolveManifest, so reading an image costs one round trip. Only an
// answer that proves nothing falls back to env.Protocol's detection. A
// write learns it the same way from the one-entry tags listing that
// Empty would send, whose answer Empty then uses.
func Open(ctx context.Context, env Env, ref reference.Reference) (Store, error) {
	return openRef(ctx, env, ref, openRead)
}

// OpenForDigest opens the repository ref names, as Open does, for a
// caller that needs only the digest of ref's manifest (hoist digest):
// where Open would learn the protocol from a GET of the manifest, it
// learns it from a HEAD, whose answer the Repository's Head then uses, so
// the digest costs one HEAD request. Registries such as Docker Hub count
// a manifest GET as a pull, and a HEAD not.
func OpenForDigest(ctx context.Context, env Env, ref reference.Reference) (Store, error) {
	return openRef(ctx, env, ref, openHead)
}

// openMode is what the first request of an open asks, to learn the
// protocol from.
type openMode int

const (
	openRead  openMode = iota // GET the manifest ref names
	openWrite                 // list one tag (what Empty asks)
	openHead                  // HEAD the manifest ref names
)

func openRef(ctx context.Context, env Env, ref reference.Reference, mode openMode) (Store, error) {
	if le, ok := env.(LearningEnv); ok {
		if _, known := le.KnownProtocol(ref.Registry); !known {
			r, err := openV2(env, ref)
			if err != nil {
				return nil, err
			}
			var proved bool
			switch mode {
			case openRead:
				proved, err = r.probe(ctx)
			case openWrite:
				proved, err = r.probeEmpty(ctx)
			case openHead:
				proved, err = r.probeHead(ctx)
			}
			if proved {
				le.LearnProtocol(ref.Registry, V2)
				return r, nil
			}
			if err := timedOut(ctx, ref.Registry, err); err != nil {
				return nil, err // detection would only wait as long again
			}
		}
	}
	p, err := env.Protocol(ctx, ref.Registry)
	if err != nil {
		return nil, err
	}
	if p == V2 {
		return openV2(env, ref)
	}
	if ref.Digest != "" {
		return nil, store.InvalidLocation(fmt.Errorf("%s: v1 registries have no digests; name the image by tag", ref))
	}
	s := ref.Registry + "/" + ref.Repository
	if reference.IsDockerHub(ref.Registry) {
		s = ref.Repository
	}
	if ref.Tag != "" {
		s += ":" + ref.Tag
	}
	name, err := reference.ParseV1(s)
	if err != nil {
		return nil, store.InvalidLocation(err)
	}
	return NewV1(name, env.LegacyOptions()...)
}

// openV2 is the v2 repository ref names, through env's client and upload
// sessions.
func openV2(env Env, ref reference.Reference) (*Repository, error) {
	r, err := New(ref, env.RegistryClient(reference.APIHost(ref.Registry)))
	if err != nil {
		return nil, err
	}
	if se, ok := env.(SessionsEnv); ok {
		if s := se.UploadSessions(ref); s != nil {
			r.sessions = s
		}
	}
	return r, nil
}
