// Package legacy is hoist's client for the Docker Registry v1 API, the
// protocol of the original docker client (mid 2014), and the conversion of
// v1 image chains to and from OCI images.
//
// # Roles
//
// A v1 index keeps accounts, search and the image lists of repositories,
// and hands out tokens; registries keep image JSONs, layers, ancestry and
// tags. For a private registry both are the same host. A Client talks to
// one index; a Session, opened with what the index said about a
// repository (RepositoryData: tokens and registry endpoints), talks to the
// registries:
//
//	c, _ := legacy.NewClient("registry.example.com", legacy.WithTransport(rt), legacy.WithKeychain(kc))
//	chain, _ := c.Pull(ctx, "team/app", "latest")    // index, tags, ancestry
//	for _, id := range chain.IDs() {                 // base first
//		rc, _ := chain.Layer(ctx, id)                // streamed, resumed, verified
//		...
//	}
//
// Everything the original client did is here: Ping; the index's
// RepositoryData, Announce (following 3xx) and ClosePush; Search; Login
// (users/, with NewVerifier for auth.Login); and on a Session, Tags, Tag,
// Ancestry, ImageJSON, ImageExists and Layer, then PutImageJSON, PutLayer,
// PutChecksum and PutTag. Pull and Push run the whole flows.
//
// # Authentication
//
// Index calls send Basic credentials from the keychain (WithKeychain) and
// X-Docker-Token: true. Registry calls send "Authorization: Token T1,T2"
// with the index's tokens, and keep the registries' cookies in a jar per
// Session. A standalone registry spoken to over https gets Basic
// credentials on every request instead. TLS, certs.d client certificates,
// retries, stall timeouts and the https-then-http rule for loopback and
// insecure hosts come from the transport (WithTransport; use
// transport.New). Redirects follow transport.CheckRedirect: credentials
// and cookies only to the same origin, never from https to http.
//
// # Streams and checks
//
// Layers are never buffered. A download that breaks is resumed with a
// Range request when the registry accepts ranges (WithMaxResumes), and is
// checked at EOF against the checksum the registry published for the
// image, when it published one. A push reads each layer once: its TarSum
// and payload checksum (package tarsum) are computed as it streams out
// with chunked transfer encoding. Every JSON answer is read with a size
// cap.
//
// # Conversion
//
// ToOCI turns a v1 chain (from Pull, or any Chain) into an OCI image,
// streaming each layer into a BlobSink; FromOCI presents an OCI image as a
// v1 chain for Push. A chain converted one way and back keeps its layer
// digests (for gzip layers), diff_ids and history. See each function for
// the rules (empty layers, config fields, v1 IDs).
//
// # Names
//
// Repository names are "namespace/repo", or "repo" for "library/repo";
// package reference's ParseV1 applies the naming rules, and this package
// only refuses names that would break a URL.
package legacy
