// Package mirror is the pull-through cache behind `hoist serve --mirror`:
// a store.Namespace that serves pulls from hoist's registry storage
// (server/storage) and fetches what that lacks from an upstream
// store.Namespace, a registry reached through hoist's own client stack
// (store/remote over hoist.Session: credentials, certs.d, client
// certificates). server/registry serves it like any other namespace.
//
// What it guarantees:
//   - Nothing unverified is stored: a blob from upstream is committed
//     only once its digest and size check out, a manifest only once its
//     bytes hash to its digest; a corrupted answer is refused (the client
//     gets a 502 naming the upstream) and nothing of it is kept.
//   - Tags are revalidated: a tag older than the TTL is looked up
//     upstream again before it is served, so a tag moved upstream is seen
//     at most a TTL later. Digests never change, so manifests and blobs,
//     once stored, are served without asking upstream.
//   - An upstream that cannot be reached does not stop pulls of what is
//     stored: a stale tag is then served as it is, and logged.
//   - Writes (pushes, tags, deletes, mounts) are refused with errors
//     matching errdef.ErrReadOnly that name the upstream.
//
// Everything it keeps, including when each tag was last checked (the
// tag's write time), is in the storage, so several instances on one
// bucket mirror together.
package mirror
