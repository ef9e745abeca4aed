package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
)

const (
	msgRepoNotFound = "Repository not found"
	msgTagNotFound  = "Tag not found"
)

// mergeImages adds the entries of add to list: new IDs are appended in
// order, and a non-empty checksum replaces the one on record.
func mergeImages(list, add []repoImage) []repoImage {
	for _, a := range add {
		i := slices.IndexFunc(list, func(ri repoImage) bool { return ri.ID == a.ID })
		switch {
		case i < 0:
			list = append(list, a)
		case a.Checksum != "":
			list[i].Checksum = a.Checksum
		}
	}
	return list
}

// readImageList reads the body of an announcement or a close: a JSON list of
// {"id", "checksum"} (other fields, such as "Tag", are ignored).
func readImageList(r *http.Request) ([]repoImage, error) {
	var list []repoImage
	if err := readJSON(r, maxListJSON, &list); err != nil {
		return nil, err
	}
	for _, ri := range list {
		if err := validImageID(ri.ID); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// announce answers PUT repositories/NAME/, the start of a push: the listed
// images join the repository's image list, and the answer carries a write
// token (when X-Docker-Token: true is sent) and X-Docker-Endpoints. It is
// 201 for a new repository and 200 for an existing one. With
// WithV1AnnounceRedirect, the first PUT is redirected to redirectedPrefix.
func (s *V1) announce(w http.ResponseWriter, r *http.Request, n v1Name, redirected bool) {
	if s.cfg.announceRedirect != 0 && !redirected {
		w.Header().Set("Location", "/v1/"+redirectedPrefix+n.String()+"/")
		w.WriteHeader(s.cfg.announceRedirect)
		return
	}
	user, ok := s.authIndex(w, r, true)
	if !ok {
		return
	}
	add, err := readImageList(r)
	if err != nil {
		badBody(w, err)
		return
	}

	s.mu.Lock()
	existed := s.store.repoExists(r.Context(), n)
	err = s.store.addRepoImages(r.Context(), n, add)
	s.mu.Unlock()
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if r.Header.Get("X-Docker-Token") == "true" {
		s.issueToken(w, n, accessWrite, user)
	}
	s.setEndpoints(w, r)
	status := http.StatusCreated
	if existed {
		status = http.StatusOK
	}
	writeJSON(w, status, "")
}

// getRepoImages answers GET repositories/NAME/images with the repository's
// image list, a read token (when X-Docker-Token: true is sent) and
// X-Docker-Endpoints.
func (s *V1) getRepoImages(w http.ResponseWriter, r *http.Request, n v1Name) {
	user, ok := s.authIndex(w, r, false)
	if !ok {
		return
	}
	known := false
	if s.cfg.tags != nil {
		// Images pushed over v2 join the list as they are converted.
		_, ok, err := s.cfg.tags.Tags(r.Context(), n.String())
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		known = ok
	}
	if !known && !s.store.repoExists(r.Context(), n) {
		writeError(w, http.StatusNotFound, msgRepoNotFound)
		return
	}
	list, err := s.store.repoImages(r.Context(), n)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if r.Header.Get("X-Docker-Token") == "true" {
		s.issueToken(w, n, accessRead, user)
	}
	s.setEndpoints(w, r)
	writeJSON(w, http.StatusOK, list)
}

// closePush answers PUT repositories/NAME/images, the end of a push: the
// listed checksums are recorded, and the answer is 204.
func (s *V1) closePush(w http.ResponseWriter, r *http.Request, n v1Name) {
	if _, ok := s.authIndex(w, r, true); !ok {
		return
	}
	add, err := readImageList(r)
	if err != nil {
		badBody(w, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.store.repoExists(r.Context(), n) {
		writeError(w, http.StatusNotFound, msgRepoNotFound+": announce it with PUT repositories/"+n.String()+"/ first")
		return
	}
	if err := s.store.addRepoImages(r.Context(), n, add); err != nil {
		s.internalError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// getTags answers GET repositories/NAME/tags with {"tag": "imageid", ...}.
func (s *V1) getTags(w http.ResponseWriter, r *http.Request, n v1Name) {
	if !s.authRegistry(w, r, v1Target{repo: &n}, false) {
		return
	}
	tags, ok, err := s.tags(r.Context(), n)
	if err == nil && !ok {
		writeError(w, http.StatusNotFound, msgRepoNotFound)
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tags)
}

// getTag answers GET repositories/NAME/tags/TAG with "imageid".
func (s *V1) getTag(w http.ResponseWriter, r *http.Request, n v1Name, tag string) {
	if !s.authRegistry(w, r, v1Target{repo: &n}, false) {
		return
	}
	if err := validTag(tag); err != nil {
		writeError(w, http.StatusNotFound, msgTagNotFound+": "+err.Error())
		return
	}
	tags, _, err := s.tags(r.Context(), n)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	id, ok := tags[tag]
	if !ok {
		writeError(w, http.StatusNotFound, msgTagNotFound)
		return
	}
	writeJSON(w, http.StatusOK, id)
}

// putTag answers PUT repositories/NAME/tags/TAG, whose body is "imageid": a
// complete image. The image also joins the repository's image list, so that
// a pull through the index finds it.
func (s *V1) putTag(w http.ResponseWriter, r *http.Request, n v1Name, tag string) {
	if !s.authRegistry(w, r, v1Target{repo: &n}, true) {
		return
	}
	if err := validTag(tag); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var id string
	if err := readJSON(r, maxSmallJSON, &id); err != nil {
		badBody(w, fmt.Errorf("the body must be the image id as a JSON string: %w", err))
		return
	}
	if err := validImageID(id); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}

	ctx := r.Context()
	s.mu.Lock()
	if !s.store.imageComplete(ctx, id) {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, msgImageNotFound)
		return
	}
	err := s.store.addRepoImages(ctx, n, []repoImage{{ID: id}})
	if err == nil && s.cfg.tags == nil {
		var tags map[string]string
		if tags, err = s.store.repoTags(ctx, n); err == nil {
			tags[tag] = id
			err = s.store.writeRepoTags(ctx, n, tags)
		}
	}
	s.mu.Unlock()
	if err == nil && s.cfg.tags != nil {
		// Outside the lock: converting a large image takes a while.
		err = s.cfg.tags.SetTag(ctx, n.String(), tag, id)
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, true)
}

// tags returns n's tags: from WithV1Tags when set, else the server's own.
// ok is false when the repository is unknown.
func (s *V1) tags(ctx context.Context, n v1Name) (map[string]string, bool, error) {
	if s.cfg.tags != nil {
		tags, ok, err := s.cfg.tags.Tags(ctx, n.String())
		if err != nil || ok {
			return tags, ok, err
		}
		return map[string]string{}, s.store.repoExists(ctx, n), nil
	}
	if !s.store.repoExists(ctx, n) {
		return nil, false, nil
	}
	tags, err := s.store.repoTags(ctx, n)
	return tags, true, err
}
