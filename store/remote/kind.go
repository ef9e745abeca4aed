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
		return openEnv(ctx, env, l)
	},
	OpenWriter: func(ctx context.Context, env store.Env, l store.Location) (store.Writer, error) {
		return openEnv(ctx, env, l)
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

func openEnv(ctx context.Context, env store.Env, l store.Location) (Store, error) {
	e, ok := env.(Env)
	if !ok {
		return nil, fmt.Errorf("%s: opening a registry location needs a remote.Env (a hoist.Session), not %T", l, env)
	}
	return Open(ctx, e, l.Ref)
}

// Open opens the repository ref names in whichever protocol its registry
// speaks (env.Protocol). ref's tag or digest is what Resolve answers for
// "". v1 registries have no digests: a reference by digest to one is an
// error matching store.ErrInvalidLocation.
func Open(ctx context.Context, env Env, ref reference.Reference) (Store, error) {
	p, err := env.Protocol(ctx, ref.Registry)
	if err != nil {
		return nil, err
	}
	if p == V2 {
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
