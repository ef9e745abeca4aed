package hoist

import (
	"context"

	"github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist/legacy"
)

// The functions below each build a Session from opts (session and call
// options alike), make one call and close it: the shortest way to do one
// job. A program doing several keeps a Session instead, to share its
// connections, tokens and protocol detection.

// Copy copies the image src names to dst; see Session.Copy.
func Copy(ctx context.Context, src, dst string, opts ...Option) (*CopyResult, error) {
	return oneCall(opts, func(s *Session) (*CopyResult, error) { return s.Copy(ctx, src, dst) })
}

// Pull copies the registry image ref names to the local dest ("" for
// ./NAME); see Session.Pull.
func Pull(ctx context.Context, ref, dest string, opts ...Option) (*CopyResult, error) {
	return oneCall(opts, func(s *Session) (*CopyResult, error) { return s.Pull(ctx, ref, dest) })
}

// Push copies the local image src to the registry reference ref; see
// Session.Push.
func Push(ctx context.Context, src, ref string, opts ...Option) (*CopyResult, error) {
	return oneCall(opts, func(s *Session) (*CopyResult, error) { return s.Push(ctx, src, ref) })
}

// Tags lists the tags of repo; see Session.Tags.
func Tags(ctx context.Context, repo string, opts ...Option) ([]string, error) {
	return oneCall(opts, func(s *Session) ([]string, error) { return s.Tags(ctx, repo) })
}

// Digest returns the digest of the manifest ref names; see Session.Digest.
func Digest(ctx context.Context, ref string, opts ...Option) (digest.Digest, error) {
	return oneCall(opts, func(s *Session) (digest.Digest, error) { return s.Digest(ctx, ref) })
}

// Manifest returns the exact bytes of the manifest ref names; see
// Session.Manifest.
func Manifest(ctx context.Context, ref string, opts ...Option) ([]byte, error) {
	return oneCall(opts, func(s *Session) ([]byte, error) { return s.Manifest(ctx, ref) })
}

// Inspect describes the image or index ref names; see Session.Inspect.
func Inspect(ctx context.Context, ref string, opts ...Option) (*Inspection, error) {
	return oneCall(opts, func(s *Session) (*Inspection, error) { return s.Inspect(ctx, ref) })
}

// Delete deletes the manifest ref names, with every tag naming it, from
// its registry; see Session.Delete.
func Delete(ctx context.Context, ref string, opts ...Option) (*DeleteResult, error) {
	return oneCall(opts, func(s *Session) (*DeleteResult, error) { return s.Delete(ctx, ref) })
}

// Login checks and stores credentials for server; see Session.Login.
func Login(ctx context.Context, server, username, password string, opts ...Option) (legacy.LoginStatus, error) {
	return oneCall(opts, func(s *Session) (legacy.LoginStatus, error) { return s.Login(ctx, server, username, password) })
}

// oneCall runs call on a session built from opts: the call options among
// them are the session's defaults, so call itself passes none.
func oneCall[T any](opts []Option, call func(*Session) (T, error)) (T, error) {
	s, err := NewSession(opts...)
	if err != nil {
		var zero T
		return zero, err
	}
	defer s.Close()
	return call(s)
}
