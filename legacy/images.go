package legacy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/hoist-dev/hoist/transport"

	"github.com/hoist-dev/hoist/errcode"
)

// Image is a v1 image's JSON as a registry served it, with what the
// answer's headers said about its layer.
type Image struct {
	// ID is the image ID.
	ID string
	// JSON is the image JSON, byte for byte: the payload checksum covers
	// these exact bytes.
	JSON []byte
	// Size is the layer's size in bytes from X-Docker-Size, -1 when the
	// registry did not say (static registries say 0 for everything, so 0
	// is no promise either).
	Size int64
	// Checksum is the checksum the registry sent with the JSON
	// (X-Docker-Checksum-Payload, else X-Docker-Checksum), "" when none.
	Checksum string
}

// Tags returns every tag of name with GET repositories/NAME/tags, as a map
// from tag to image ID. A 404 is final (the repository does not exist,
// errcode.ErrNotFound); any other failure moves on to the next endpoint.
func (s *Session) Tags(ctx context.Context, name string) (map[string]string, error) {
	remote, err := remoteName(name)
	if err != nil {
		return nil, err
	}
	var tags map[string]string
	err = s.try(ctx, func(ep *url.URL) error {
		return s.getJSON(ctx, ep, "repositories/"+remote+"/tags", "the tags of "+remote, true, &tags)
	})
	if err != nil {
		return nil, fmt.Errorf("tags of %s: %w", remote, err)
	}
	for tag, id := range tags {
		if err := validID(id); err != nil {
			return nil, fmt.Errorf("tags of %s: tag %q: %w", remote, tag, err)
		}
	}
	return tags, nil
}

// Tag returns the image ID that tag names in name, with GET
// repositories/NAME/tags/TAG. A 404 is final (errcode.ErrNotFound).
func (s *Session) Tag(ctx context.Context, name, tag string) (string, error) {
	remote, err := remoteTag(name, tag)
	if err != nil {
		return "", err
	}
	var id string
	err = s.try(ctx, func(ep *url.URL) error {
		return s.getJSON(ctx, ep, "repositories/"+remote+"/tags/"+tag, "tag "+tag+" of "+remote, true, &id)
	})
	if err != nil {
		return "", fmt.Errorf("tag %s of %s: %w", tag, remote, err)
	}
	if err := validID(id); err != nil {
		return "", fmt.Errorf("tag %s of %s: %w", tag, remote, err)
	}
	return id, nil
}

// Ancestry returns image id and its parents with GET images/ID/ancestry,
// the image itself first and its oldest parent last. A 401
// (errcode.ErrUnauthorized) means a login is needed.
func (s *Session) Ancestry(ctx context.Context, id string) ([]string, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	var anc []string
	err := s.try(ctx, func(ep *url.URL) error {
		return s.getJSON(ctx, ep, "images/"+id+"/ancestry", "the ancestry of "+id, false, &anc)
	})
	if err != nil {
		return nil, fmt.Errorf("ancestry of image %s: %w", id, err)
	}
	if len(anc) == 0 || anc[0] != id {
		return nil, fmt.Errorf("ancestry of image %s does not start with the image itself: %q", id, anc)
	}
	seen := map[string]bool{}
	for _, a := range anc {
		if err := validID(a); err != nil {
			return nil, fmt.Errorf("ancestry of image %s: %w", id, err)
		}
		if seen[a] {
			return nil, fmt.Errorf("ancestry of image %s names %s twice", id, a)
		}
		seen[a] = true
	}
	return anc, nil
}

// ImageJSON returns image id's JSON with GET images/ID/json, and the
// layer size and checksum its headers carry. The JSON's "id" must be id.
func (s *Session) ImageJSON(ctx context.Context, id string) (Image, error) {
	if err := validID(id); err != nil {
		return Image{}, err
	}
	var img Image
	err := s.try(ctx, func(ep *url.URL) error {
		resp, err := s.do(ctx, ep, http.MethodGet, "images/"+id+"/json", nil, nil, 0)
		if err != nil {
			return err
		}
		if err := transport.Expect(resp, http.StatusOK); err != nil {
			return err
		}
		b, err := readBody(resp, maxImageJSON, "the JSON of image "+id)
		if err != nil {
			return err
		}
		var meta struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &meta); err != nil {
			return fmt.Errorf("the JSON of image %s from %s is not a JSON object: %w", id, errcode.RedactURL(resp.Request.URL), err)
		}
		if meta.ID != id {
			return fmt.Errorf("the JSON of image %s from %s is for image %q", id, errcode.RedactURL(resp.Request.URL), meta.ID)
		}
		img = Image{ID: id, JSON: b, Size: -1}
		if n, err := strconv.ParseInt(resp.Header.Get("X-Docker-Size"), 10, 64); err == nil && n >= 0 {
			img.Size = n
		}
		img.Checksum = resp.Header.Get("X-Docker-Checksum-Payload")
		if img.Checksum == "" {
			img.Checksum = resp.Header.Get("X-Docker-Checksum")
		}
		return nil
	})
	if err != nil {
		return Image{}, fmt.Errorf("JSON of image %s: %w", id, err)
	}
	return img, nil
}

// ImageExists reports whether a registry has image id: a 200 on GET
// images/ID/json. It is true when any endpoint has the image and false
// when every endpoint answered 404; other failures are errors.
func (s *Session) ImageExists(ctx context.Context, id string) (bool, error) {
	if err := validID(id); err != nil {
		return false, err
	}
	notFound := 0
	err := s.try(ctx, func(ep *url.URL) error {
		resp, err := s.do(ctx, ep, http.MethodGet, "images/"+id+"/json", nil, nil, 0)
		if err != nil {
			return err
		}
		if resp.StatusCode == http.StatusNotFound {
			transport.Drain(resp)
			notFound++
			return fmt.Errorf("image %s: %w", id, errcode.ErrNotFound)
		}
		if err := transport.Expect(resp, http.StatusOK); err != nil {
			return err
		}
		transport.Drain(resp)
		return nil
	})
	switch {
	case err == nil:
		return true, nil
	case notFound == len(s.endpoints):
		return false, nil
	}
	return false, fmt.Errorf("checking whether image %s exists: %w", id, err)
}

// getJSON GETs path from ep and decodes the JSON answer into v. With
// notFoundIsFinal, a 404 stops the endpoint loop.
func (s *Session) getJSON(ctx context.Context, ep *url.URL, path, what string, notFoundIsFinal bool, v any) error {
	resp, err := s.do(ctx, ep, http.MethodGet, path, nil, nil, 0)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotFound && notFoundIsFinal {
		return &stopError{errcode.FromResponse(resp)}
	}
	if err := transport.Expect(resp, http.StatusOK); err != nil {
		return err
	}
	b, err := readBody(resp, maxListJSON, what)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s from %s is not the JSON expected: %w", what, errcode.RedactURL(resp.Request.URL), err)
	}
	return nil
}
