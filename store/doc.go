// Package store is the one interface hoist copies images through, keyed on
// descriptors, and the location strings that name stores:
//
//	REF, docker://REF           a registry (package store/remote)
//	oci:DIR[:TAG]               an OCI image layout directory (store/ocilayout)
//	docker-archive:FILE[:REF]   a docker save tarball (store/archive)
//
// Each of those packages describes its kind of location as a Kind and
// registers it from its init function; ParseLocation reads any registered
// kind's strings (and local paths) and Location.OpenReader and OpenWriter
// open the store through its kind. Package hoist imports all three and
// opens locations with its Session as the Env.
//
// A Reader hands out content by descriptor; a Writer accepts content by
// descriptor and makes it visible only once verified. Every store opened
// at a location is bound to it: Resolve("") is the image the location
// names. The copy engine (package copy) walks a graph from a Reader into
// a Writer and knows nothing else about either.
//
// Extra abilities are optional interfaces found by type assertion:
//
//	Ingester        blobs as sessions: open by ref, write, resume at an
//	                offset, commit with size and digest checked, abort
//	                (PushIngest is Push over it, CopyIngest the resume)
//	RangeReader     a blob from an offset on
//	SectionReader   a bounded section of a blob (parallel ranged fetches)
//	SectionIngest   an Ingest that also takes sections at their offsets
//	ManifestResolver a reference resolved and its manifest read at once
//	Mounter         a blob from another repository of the same registry
//	TagPusher       a manifest stored and tagged in one step
//	TagLister       tags, paged
//	Statter         a blob described by digest alone
//	Deleter         a manifest or blob deleted
//	Untagger        one tag removed, the manifest kept
//	ReferrerLister  the manifests whose subject is a manifest
//	EmptyChecker    whether the location holds nothing yet
//	Referencer      the Location the store was opened at
//	Closer          the store finished (an archive written)
//	Aborter         the store's writes abandoned (an archive removed)
//
// Readers that verify implement content.Verifying, so that a blob is
// hashed once per copy.
//
// A Namespace is a store of many repositories (a registry, hoist's own
// registry storage, store/memory); each of its repositories implements
// the whole Repository contract. Package store/storetest is the
// conformance suite every store runs.
package store
