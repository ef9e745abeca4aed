package server

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	driver "github.com/distribution/distribution/v3/registry/storage/driver"
)

// v1Store is the state of a V1 server, kept through a storage driver (the
// same one a v2 registry on the same store uses) under /hoist/v1:
//
//	pending/ID/json, ancestry         an image being pushed, not yet visible
//	pending/ID/layer, sums            its layer and the checksums computed on upload
//	images/ID/json, ancestry, layer   a complete image: its files moved from pending/
//	images/ID/checksums                 and, written last, its checksums: the image is
//	                                    complete once this file exists
//	repositories/NS/REPO/images       the repository's image list (JSON)
//	repositories/NS/REPO/tags         its tags (JSON map), unless WithV1Tags keeps them
//	users/NAME.json                   a registered account
//
// An upload streams to /hoist/tmp/ (which the v2 storage's GC sweeps) and
// is moved into place; small files are written whole by the driver, so a
// reader sees the old content or the new. The methods do no locking; V1
// serialises read-modify-write sequences.
type v1Store struct {
	d driver.StorageDriver
}

// Paths under the driver's root.
const (
	v1Root     = "/hoist/v1"
	v1Tmp      = "/hoist/tmp"
	dirPending = "pending"
	dirImages  = "images"
	dirRepos   = "repositories"
	dirUsers   = "users"
)

// imageSums are the checksums of an uploaded layer, computed while it
// streamed in, and kept as pending/ID/sums and, once verified, as
// images/ID/checksums. Blob is set instead of a layer file for an image a
// v2 push made (converted for v1 clients): its layer is that blob of the
// v2 store, byte for byte.
type imageSums struct {
	TarSum      string `json:"tarsum,omitempty"`
	TarSumError string `json:"tarsum_error,omitempty"` // why the layer has no TarSum
	Payload     string `json:"payload,omitempty"`
	Size        int64  `json:"size"`
	Blob        string `json:"blob,omitempty"`
	// Digest is the sha256 of the layer as uploaded: when a v2 blob with
	// that digest exists, the layer file can give way to it (LayerIsBlob).
	Digest string `json:"digest,omitempty"`
}

// repoImage is one entry of a repository's image list.
type repoImage struct {
	ID       string `json:"id"`
	Checksum string `json:"checksum,omitempty"`
}

func openV1Store(d driver.StorageDriver) (*v1Store, error) {
	if d == nil {
		return nil, errors.New("v1 server: the storage driver is nil")
	}
	return &v1Store{d: d}, nil
}

func v1Path(elem ...string) string { return path.Join(append([]string{v1Root}, elem...)...) }

// notExist turns a driver's not-found into an error matching
// fs.ErrNotExist, which the handlers test for.
func notExist(err error) error {
	var nf driver.PathNotFoundError
	if errors.As(err, &nf) {
		return fmt.Errorf("%s: %w", nf.Path, fs.ErrNotExist)
	}
	return err
}

func randomName() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// layerWriter opens a writer for an upload under tmp/; the caller commits
// it and moves it into place with setPendingLayer, or cancels it.
func (st *v1Store) layerWriter(ctx context.Context) (driver.FileWriter, string, error) {
	p := path.Join(v1Tmp, "v1-layer-"+randomName())
	w, err := st.d.Writer(ctx, p, false)
	return w, p, err
}

// writeFile replaces p with data, whole.
func (st *v1Store) writeFile(ctx context.Context, p string, data []byte) error {
	if err := st.d.PutContent(ctx, p, data); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

func (st *v1Store) writeJSON(ctx context.Context, p string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", p, err)
	}
	return st.writeFile(ctx, p, b)
}

// readFile returns the content of p; a missing file is an error matching
// fs.ErrNotExist.
func (st *v1Store) readFile(ctx context.Context, p string) ([]byte, error) {
	b, err := st.d.GetContent(ctx, p)
	return b, notExist(err)
}

// readJSON decodes p into v.
func (st *v1Store) readJSON(ctx context.Context, p string, v any) error {
	b, err := st.readFile(ctx, p)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decoding %s: %w", p, err)
	}
	return nil
}

// exists reports whether p exists; other errors count as absence, and
// show up when p is read.
func (st *v1Store) exists(ctx context.Context, p string) bool {
	_, err := st.d.Stat(ctx, p)
	return err == nil
}

func (st *v1Store) remove(ctx context.Context, p string) error {
	err := st.d.Delete(ctx, p)
	if err = notExist(err); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Images.

func imagePath(id string, file ...string) string {
	return v1Path(append([]string{dirImages, id}, file...)...)
}

func pendingPath(id string, file ...string) string {
	return v1Path(append([]string{dirPending, id}, file...)...)
}

// imageComplete reports whether id is complete and visible.
func (st *v1Store) imageComplete(ctx context.Context, id string) bool {
	return st.exists(ctx, imagePath(id, "checksums"))
}

// ancestry returns the ancestry of a complete image.
func (st *v1Store) ancestry(ctx context.Context, id string) ([]string, error) {
	var a []string
	err := st.readJSON(ctx, imagePath(id, "ancestry"), &a)
	return a, err
}

// startPending makes id pending with this JSON and ancestry, dropping any
// layer of an earlier attempt.
func (st *v1Store) startPending(ctx context.Context, id string, imageJSON []byte, ancestry []string) error {
	for _, f := range []string{"sums", "layer"} {
		if err := st.remove(ctx, pendingPath(id, f)); err != nil {
			return err
		}
	}
	if err := st.writeJSON(ctx, pendingPath(id, "ancestry"), ancestry); err != nil {
		return err
	}
	return st.writeFile(ctx, pendingPath(id, "json"), imageJSON)
}

// pendingJSON returns the JSON of a pending image.
func (st *v1Store) pendingJSON(ctx context.Context, id string) ([]byte, error) {
	return st.readFile(ctx, pendingPath(id, "json"))
}

// setPendingLayer moves the uploaded layer into the pending image and
// records its checksums. The sums go last: without them the layer does not
// count as uploaded.
func (st *v1Store) setPendingLayer(ctx context.Context, id, layerPath string, sums imageSums) error {
	if err := st.remove(ctx, pendingPath(id, "sums")); err != nil {
		return err
	}
	if err := st.d.Move(ctx, layerPath, pendingPath(id, "layer")); err != nil {
		return err
	}
	return st.writeJSON(ctx, pendingPath(id, "sums"), sums)
}

// pendingSums returns the checksums of a pending image's uploaded layer.
func (st *v1Store) pendingSums(ctx context.Context, id string) (imageSums, error) {
	var s imageSums
	err := st.readJSON(ctx, pendingPath(id, "sums"), &s)
	return s, err
}

// completeImage makes a pending image visible: its files move to images/,
// and the checksums, written last, make it complete.
func (st *v1Store) completeImage(ctx context.Context, id string, sums imageSums) error {
	for _, f := range []string{"json", "ancestry", "layer"} {
		if err := st.d.Move(ctx, pendingPath(id, f), imagePath(id, f)); err != nil {
			return fmt.Errorf("completing image %s: %w", id, err)
		}
	}
	if err := st.writeJSON(ctx, imagePath(id, "checksums"), sums); err != nil {
		return err
	}
	return st.remove(ctx, pendingPath(id))
}

// putConverted stores a complete image whose layer is a v2 blob.
func (st *v1Store) putConverted(ctx context.Context, id string, imageJSON []byte, ancestry []string, sums imageSums) error {
	if err := st.writeFile(ctx, imagePath(id, "json"), imageJSON); err != nil {
		return err
	}
	if err := st.writeJSON(ctx, imagePath(id, "ancestry"), ancestry); err != nil {
		return err
	}
	return st.writeJSON(ctx, imagePath(id, "checksums"), sums)
}

// imageChecksums returns the checksums of a complete image.
func (st *v1Store) imageChecksums(ctx context.Context, id string) (imageSums, error) {
	var s imageSums
	err := st.readJSON(ctx, imagePath(id, "checksums"), &s)
	return s, err
}

// openLayer opens the layer file of a complete image at offset.
func (st *v1Store) openLayer(ctx context.Context, id string, offset int64) (io.ReadCloser, error) {
	rc, err := st.d.Reader(ctx, imagePath(id, "layer"), offset)
	return rc, notExist(err)
}

// Repositories.

func repoPath(n v1Name, file ...string) string {
	return v1Path(append([]string{dirRepos, n.namespace, n.repo}, file...)...)
}

// repoExists reports whether anything was ever pushed to n over v1.
func (st *v1Store) repoExists(ctx context.Context, n v1Name) bool {
	return st.exists(ctx, repoPath(n, "images"))
}

// repoImages returns n's image list; empty, not an error, for a repository
// without one.
func (st *v1Store) repoImages(ctx context.Context, n v1Name) ([]repoImage, error) {
	list := []repoImage{}
	err := st.readJSON(ctx, repoPath(n, "images"), &list)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return list, err
}

// addRepoImages merges add into n's image list (mergeImages), creating
// the list for a repository without one. The caller holds the V1's mu.
func (st *v1Store) addRepoImages(ctx context.Context, n v1Name, add []repoImage) error {
	list, err := st.repoImages(ctx, n)
	if err != nil {
		return err
	}
	return st.writeJSON(ctx, repoPath(n, "images"), mergeImages(list, add))
}

// repoTags returns n's tags; empty for a repository without any.
func (st *v1Store) repoTags(ctx context.Context, n v1Name) (map[string]string, error) {
	tags := map[string]string{}
	err := st.readJSON(ctx, repoPath(n, "tags"), &tags)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return tags, err
}

func (st *v1Store) writeRepoTags(ctx context.Context, n v1Name, tags map[string]string) error {
	return st.writeJSON(ctx, repoPath(n, "tags"), tags)
}

// listRepos returns every repository pushed over v1, sorted by name.
func (st *v1Store) listRepos(ctx context.Context) ([]v1Name, error) {
	nss, err := st.d.List(ctx, v1Path(dirRepos))
	if err = notExist(err); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []v1Name
	for _, ns := range nss {
		repos, err := st.d.List(ctx, ns)
		if err != nil {
			continue
		}
		for _, r := range repos {
			n := v1Name{path.Base(ns), path.Base(r)}
			if _, err := parseV1Name([]string{n.namespace, n.repo}); err == nil {
				names = append(names, n)
			}
		}
	}
	slices.SortFunc(names, func(a, b v1Name) int {
		return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.repo, b.repo))
	})
	return names, nil
}

// Users.

// storedUser is a registered account as kept in users/NAME.json.
type storedUser struct {
	Username     string `json:"username"`
	Email        string `json:"email"`
	PasswordHash string `json:"password_bcrypt"`
	Active       bool   `json:"active"`
}

func userPath(name string) string { return v1Path(dirUsers, name+".json") }

// listUsers returns every registered account.
func (st *v1Store) listUsers(ctx context.Context) ([]storedUser, error) {
	entries, err := st.d.List(ctx, v1Path(dirUsers))
	if err = notExist(err); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var users []storedUser
	for _, e := range entries {
		if !strings.HasSuffix(e, ".json") {
			continue
		}
		var u storedUser
		if err := st.readJSON(ctx, e, &u); err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, nil
}

func (st *v1Store) writeUser(ctx context.Context, u storedUser) error {
	return st.writeJSON(ctx, userPath(u.Username), u)
}
