// Package storetest is the conformance suite of the store contract: Run
// puts any store through the same tests, as containerd's content
// testsuite does for its content stores. Every store of hoist runs it
// (the OCI layout, the docker archive, a registry through store/remote,
// store/memory, and hoist serve's storage), so that what the copy engine
// and the registry server rely on holds for all of them:
//
//   - content is visible only once verified: wrong bytes, too many or too
//     few, are refused and leave nothing a reader could see;
//   - a manifest is accepted only after its children, an index only after
//     its manifests;
//   - what a store lacks is an error matching store.ErrNotFound;
//   - an ingest resumes at its offset when opened again by its ref, is
//     checked at its commit, and leaves nothing visible when it is closed
//     without a commit or aborted;
//   - concurrent writers of the same and of different blobs all succeed;
//   - tags list in order and page, and Stat, Delete, Untag, Referrers and
//     Repositories keep their contracts where a store has them.
//
// The tests find a store's optional abilities by type assertion and test
// those it has. They use only the content package and the standard
// library, so a store outside hoist can run them too.
package storetest
