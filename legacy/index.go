package legacy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/transport"
)

// ImageEntry is one image in a repository's image list, as the index
// keeps it: GET repositories/NAME/images returns them, and a push
// announces and closes with them.
type ImageEntry struct {
	// ID is the v1 image ID, 64 hex digits.
	ID string `json:"id"`
	// Checksum is the image's checksum ("tarsum+sha256:..." or
	// "sha256:..."); empty when the index does not know it.
	Checksum string `json:"checksum,omitempty"`
	// Tag is set in an announcement on the image a tag will name.
	Tag string `json:"Tag,omitempty"`
}

// RepositoryData is the index's answer about a repository: its images,
// the tokens that open it on the registries, and which registries those
// are.
type RepositoryData struct {
	// Images lists the repository's images; empty for an announcement.
	Images []ImageEntry
	// Tokens are the X-Docker-Token values, sent to registries as
	// "Authorization: Token T1,T2"; empty when the index issued none.
	Tokens []string
	// Endpoints are the registries to use, in the order to try them
	// (from X-Docker-Endpoints, else the index itself), as URLs ending in
	// "/v1/".
	Endpoints []*url.URL
}

// Checksum returns the checksum the index lists for image id, or "".
func (rd *RepositoryData) Checksum(id string) string {
	for _, e := range rd.Images {
		if e.ID == id {
			return e.Checksum
		}
	}
	return ""
}

// RepositoryData asks the index for the image list of name
// ("namespace/repo", or "repo" for "library/repo") with GET
// repositories/NAME/images, sending Basic credentials when the keychain
// has them and X-Docker-Token: true. A 401 (errcode.ErrUnauthorized) means
// a login is needed, a 404 (errcode.ErrNotFound) that the repository does
// not exist.
func (c *Client) RepositoryData(ctx context.Context, name string) (*RepositoryData, error) {
	remote, err := remoteName(name)
	if err != nil {
		return nil, err
	}
	hdr, err := c.indexHeaders(ctx)
	if err != nil {
		return nil, err
	}
	u := resolve(c.index, "repositories/"+remote+"/images")
	resp, err := transport.Send(ctx, c.hc, http.MethodGet, u, hdr, nil, 0)
	if err != nil {
		return nil, err
	}
	if err := transport.Expect(resp, http.StatusOK); err != nil {
		return nil, fmt.Errorf("repository %s: %w", remote, err)
	}
	rd, err := c.repositoryData(resp, false)
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	body, err := readBody(resp, maxListJSON, "the image list of "+remote)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, &rd.Images); err != nil {
		return nil, fmt.Errorf("the image list of %s from %s is not a JSON list of images: %w", remote, errcode.RedactURL(u), err)
	}
	return rd, nil
}

// repositoryData reads the tokens and endpoints of an index answer. With
// required, both must be there, as the original client demanded after an
// announcement.
func (c *Client) repositoryData(resp *http.Response, required bool) (*RepositoryData, error) {
	rd := &RepositoryData{Tokens: resp.Header.Values("X-Docker-Token")}
	eps, err := parseEndpointsHeader(resp.Header.Values("X-Docker-Endpoints"), c.index.Scheme)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", resp.Request.Method, errcode.RedactURL(resp.Request.URL), err)
	}
	rd.Endpoints = eps
	if required {
		switch {
		case len(rd.Tokens) == 0:
			return nil, fmt.Errorf("%s %s: the index answered without an access token (X-Docker-Token)", resp.Request.Method, errcode.RedactURL(resp.Request.URL))
		case len(rd.Endpoints) == 0:
			return nil, fmt.Errorf("%s %s: the index answered without any registry endpoint (X-Docker-Endpoints)", resp.Request.Method, errcode.RedactURL(resp.Request.URL))
		}
	}
	if len(rd.Endpoints) == 0 {
		rd.Endpoints = []*url.URL{c.Endpoint()}
	}
	return rd, nil
}

// Announce starts a push of name with PUT repositories/NAME/ on the index:
// images lists every image to be pushed (set Tag on the image a tag will
// name). A 3xx answer is followed by sending the same PUT to its Location.
// The answer (200 or 201) must carry a token and the registry endpoints;
// Announce fails without them.
func (c *Client) Announce(ctx context.Context, name string, images []ImageEntry) (*RepositoryData, error) {
	remote, err := remoteName(name)
	if err != nil {
		return nil, err
	}
	resp, err := c.putIndex(ctx, "repositories/"+remote+"/", images, nil)
	if err != nil {
		return nil, fmt.Errorf("announcing the push of %s: %w", remote, err)
	}
	defer transport.Drain(resp)
	if err := transport.Expect(resp, http.StatusOK, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("announcing the push of %s: %w", remote, err)
	}
	return c.repositoryData(resp, true)
}

// ClosePush ends a push of name with PUT repositories/NAME/images on the
// index: images carry the checksums of the images pushed, and endpoints
// name the registries that received them (sent in X-Docker-Endpoints).
// The index answers 204; 3xx answers are followed as for Announce.
func (c *Client) ClosePush(ctx context.Context, name string, images []ImageEntry, endpoints []*url.URL) error {
	remote, err := remoteName(name)
	if err != nil {
		return err
	}
	extra := http.Header{}
	for _, ep := range endpoints {
		extra.Add("X-Docker-Endpoints", ep.String())
	}
	list := make([]ImageEntry, len(images))
	for i, e := range images {
		list[i] = ImageEntry{ID: e.ID, Checksum: e.Checksum}
	}
	resp, err := c.putIndex(ctx, "repositories/"+remote+"/images", list, extra)
	if err != nil {
		return fmt.Errorf("closing the push of %s: %w", remote, err)
	}
	defer transport.Drain(resp)
	if err := transport.Expect(resp, http.StatusNoContent); err != nil {
		return fmt.Errorf("closing the push of %s: %w", remote, err)
	}
	return nil
}

// maxIndexRedirects bounds the 3xx answers followed by putIndex.
const maxIndexRedirects = 10

// putIndex PUTs list as JSON to path on the index, with the index headers
// and extra, and follows 3xx answers by PUTting the same body to their
// Location, as the original client did (net/http would turn a 301 or 302
// into a GET). Credentials go along only to the index's own origin, and
// an answer that came over https is never followed to http. The caller
// closes the response.
func (c *Client) putIndex(ctx context.Context, path string, list []ImageEntry, extra http.Header) (*http.Response, error) {
	if list == nil {
		list = []ImageEntry{}
	}
	body, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	hdr, err := c.indexHeaders(ctx)
	if err != nil {
		return nil, err
	}
	hdr.Set("Content-Type", "application/json")
	for k, vs := range extra {
		hdr[k] = vs
	}
	noFollow := &http.Client{
		Transport:     c.hc.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	u := resolve(c.index, path)
	for hops := 0; ; hops++ {
		resp, err := transport.Send(ctx, noFollow, http.MethodPut, u, hdr, bytes.NewReader(body), int64(len(body)))
		if err != nil {
			return nil, err
		}
		if resp.StatusCode < 300 || resp.StatusCode > 399 || resp.StatusCode == http.StatusNotModified {
			return resp, nil
		}
		loc := resp.Header.Get("Location")
		secure := resp.TLS != nil // the transport may have fallen back to http
		transport.Drain(resp)
		if loc == "" {
			return nil, fmt.Errorf("PUT %s: %d answer without a Location", errcode.RedactURL(u), resp.StatusCode)
		}
		if hops >= maxIndexRedirects {
			return nil, fmt.Errorf("PUT %s: stopped after %d redirects", errcode.RedactURL(u), maxIndexRedirects)
		}
		next, err := u.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("PUT %s: bad Location %q: %w", errcode.RedactURL(u), loc, err)
		}
		if secure && next.Scheme != "https" {
			return nil, fmt.Errorf("PUT %s: %w: to %s", errcode.RedactURL(u), transport.ErrInsecureRedirect, errcode.RedactURL(next))
		}
		if !transport.SameOrigin(next, c.index) {
			hdr.Del("Authorization")
			hdr.Del("Cookie")
		}
		u = next
	}
}

// errNoEndpoints is returned when a session has no registry to talk to.
var errNoEndpoints = errors.New("the index named no registry endpoint")
