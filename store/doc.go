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
// descriptor and makes it visible only once verified. The copy engine
// (package copy) walks a graph from a Reader into a Writer and knows nothing
// else about either. Extra abilities are optional interfaces found by type
// assertion: Mounter, Resumer, RangeReader, Referencer, TagLister,
// TagPusher, EmptyChecker, Closer, Discarder, and the ones a registry server needs:
// Ingester (blob uploads as sessions, the digest named at commit), Statter,
// Deleter, Untagger and ReferrerLister.
//
// A Namespace is a store of many repositories (a registry, hoist's own
// registry storage); each of its repositories implements the whole
// Repository contract.
package store
