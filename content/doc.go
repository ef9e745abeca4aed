// Package content knows what registries move around: media types, OCI
// descriptors, manifests and indexes, and the checks that make untrusted
// bytes safe to use.
//
//   - Media types of OCI and Docker manifests, configs and layers, with
//     KindOf to classify a manifest type. Docker schema 1 is recognised as
//     KindLegacy: readable, never written.
//   - Decode and ReadManifest turn manifest bytes into a *Manifest that keeps
//     the exact bytes (Raw) next to the parsed form, so a manifest is never
//     re-serialised; ReadManifest caps how much it reads.
//   - Verifier checks a stream's size and digest as it is read; a mismatch
//     is an error from Read, never io.EOF.
//   - Children lists what a manifest or index points at (config, layers,
//     child manifests, subject), for walking an image graph.
//   - ParsePlatform and MatchPlatform select an index entry by
//     "os/arch[/variant]".
//
// Nothing here does I/O beyond the io.Reader it is handed. Errors wrap the
// sentinels of package errcode (ErrTooLarge, ErrDigestMismatch,
// ErrSizeMismatch, ErrUnsupported), so callers need only one set of checks.
package content
