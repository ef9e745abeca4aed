// Package store is the one interface hoist copies images through, keyed on
// descriptors, and the parsing of the location strings the CLI accepts:
//
//	REF, docker://REF           a registry (package store/remote)
//	oci:DIR[:TAG]               an OCI image layout directory (store/ocilayout)
//	docker-archive:FILE[:REF]   a docker save tarball (store/archive)
//
// A Reader hands out content by descriptor; a Writer accepts content by
// descriptor and makes it visible only once verified. The copy engine
// (package copy) walks a graph from a Reader into a Writer and knows nothing
// else about either. Extra abilities are optional interfaces found by type
// assertion: Mounter, Resumer, RangeReader, Referencer, TagLister,
// TagPusher, EmptyChecker, Closer, and the ones a registry server needs:
// Ingester (blob uploads as sessions, the digest named at commit), Statter,
// Deleter, Untagger and ReferrerLister.
//
// A Namespace is a store of many repositories (a registry, hoist's own
// registry storage); each of its repositories implements the whole
// Repository contract.
package store
