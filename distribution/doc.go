// Package distribution is hoist's client for the OCI Distribution API (the
// registry "v2" API): manifests, blobs, uploads, tags, the catalog and
// referrers, streamed and verified.
//
// A *Registry talks to one host; Registry.Repository names a repository on
// it. Every call that does I/O takes a context first. Content is keyed on
// descriptors (github.com/opencontainers/image-spec), and blobs are handed
// out as readers, never buffered whole:
//
//	reg, _ := distribution.NewRegistry("registry.example.com", distribution.WithTransport(rt))
//	repo, _ := reg.Repository("team/app")
//	m, _ := repo.Manifest(ctx, "v1.2")        // exact bytes in m.Raw, parsed in m.Image / m.Index
//	rc, _ := repo.Blob(ctx, m.Image.Layers[0]) // verified as it is read
//	defer rc.Close()
//
// # What this package checks
//
//   - A manifest fetched by digest must hash to that digest; a
//     Docker-Content-Digest header, when sent, must match the bytes; a
//     manifest PUT must come back with the digest hoist computed.
//   - Manifests are read with a size cap (4 MiB unless WithMaxManifestSize)
//     and kept byte for byte: nothing is ever re-serialised.
//   - A blob reader checks size and digest at EOF; a mismatch is an error
//     from Read, never io.EOF. A connection dropped mid-blob is resumed with
//     a Range request from the byte reached, a bounded number of times.
//   - A pushed blob is hashed as it is sent; content that does not match
//     its descriptor cancels the upload instead of committing it.
//
// # What this package leaves to the transport
//
// The caller supplies the http.RoundTripper (WithTransport) or *http.Client
// (WithHTTPClient). TLS and client certificates, authentication (Basic and
// Bearer, scopes including ?mount=&from=), retries with backoff on 429 and
// 5xx honouring Retry-After, stall timeouts and the https→http fallback for
// insecure hosts all belong there (packages transport and auth). This
// package sends each request once, except where only it knows what a
// second try needs: it resumes blob downloads and uploads from the offset
// reached (uploads also after a 429, once its Retry-After has passed),
// asks again for a manifest whose body broke, confirms with a HEAD a
// commit whose answer was lost, and goes on in smaller chunks after a 413
// (remembered for the registry; see WithMaxChunkSize). Errors from
// the registry are *errcode.Error, so errors.Is(err, errcode.ErrNotFound)
// and friends work, and RetryAfter is available to a caller that wants to
// wait itself.
package distribution
