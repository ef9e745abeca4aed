package server

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// v1Store is the on-disk state of a V1 server:
//
//	ROOT/tmp/                         files being written; emptied on start
//	ROOT/pending/ID/json, ancestry    an image being pushed, not yet visible
//	ROOT/pending/ID/layer, sums       its layer and the checksums computed on upload
//	ROOT/images/ID/json, ancestry,    a complete image: the pending directory,
//	               layer, checksums   renamed once its checksums were verified
//	ROOT/repositories/NS/REPO/images  the repository's image list (JSON)
//	ROOT/repositories/NS/REPO/tags    its tags (JSON map)
//	ROOT/users/NAME.json              a registered account
//
// Every file is written to tmp/ and renamed into place. The methods do no
// locking; V1 serialises read-modify-write sequences.
type v1Store struct {
	root string
}

// Directory names under the root.
const (
	dirTmp     = "tmp"
	dirPending = "pending"
	dirImages  = "images"
	dirRepos   = "repositories"
	dirUsers   = "users"
)

// imageSums are the checksums of an uploaded layer, computed while it
// streamed in, and kept as ROOT/pending/ID/sums and, once verified, as
// ROOT/images/ID/checksums.
type imageSums struct {
	TarSum      string `json:"tarsum,omitempty"`
	TarSumError string `json:"tarsum_error,omitempty"` // why the layer has no TarSum
	Payload     string `json:"payload"`
	Size        int64  `json:"size"`
}

// repoImage is one entry of a repository's image list.
type repoImage struct {
	ID       string `json:"id"`
	Checksum string `json:"checksum,omitempty"`
}

func openV1Store(root string) (*v1Store, error) {
	if root == "" {
		return nil, errors.New("v1 server: root directory must not be empty")
	}
	st := &v1Store{root: root}
	// Leftovers of interrupted writes are garbage.
	if err := os.RemoveAll(st.path(dirTmp)); err != nil {
		return nil, fmt.Errorf("v1 server: cleaning %s: %w", st.path(dirTmp), err)
	}
	for _, d := range []string{dirTmp, dirPending, dirImages, dirRepos, dirUsers} {
		if err := os.MkdirAll(st.path(d), 0o755); err != nil {
			return nil, fmt.Errorf("v1 server: preparing root: %w", err)
		}
	}
	return st, nil
}

func (st *v1Store) path(elem ...string) string {
	return filepath.Join(append([]string{st.root}, elem...)...)
}

// tempFile creates a file in tmp/, which is on the same file system as its
// destination so that a rename moves it.
func (st *v1Store) tempFile() (*os.File, error) {
	return os.CreateTemp(st.path(dirTmp), "upload-*")
}

// writeFile replaces path with data: a temporary file, synced, then renamed.
func (st *v1Store) writeFile(path string, data []byte) error {
	f, err := st.tempFile()
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func (st *v1Store) writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return st.writeFile(path, b)
}

// readJSON decodes path into v. A missing file gives an error matching
// fs.ErrNotExist.
func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decoding %s: %w", path, err)
	}
	return nil
}

// exists reports whether path exists; other errors count as absence, and
// show up when the path is read.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Images.

func (st *v1Store) imagePath(id string, file ...string) string {
	return st.path(append([]string{dirImages, id}, file...)...)
}

func (st *v1Store) pendingPath(id string, file ...string) string {
	return st.path(append([]string{dirPending, id}, file...)...)
}

// imageComplete reports whether image id is complete and visible.
func (st *v1Store) imageComplete(id string) bool {
	return exists(st.imagePath(id))
}

// ancestry returns the ancestry of a complete image.
func (st *v1Store) ancestry(id string) ([]string, error) {
	var a []string
	err := readJSONFile(st.imagePath(id, "ancestry"), &a)
	return a, err
}

// startPending makes id pending with this JSON and ancestry, dropping any
// layer of an earlier attempt.
func (st *v1Store) startPending(id string, imageJSON []byte, ancestry []string) error {
	if err := os.MkdirAll(st.pendingPath(id), 0o755); err != nil {
		return err
	}
	for _, f := range []string{"sums", "layer"} {
		if err := os.Remove(st.pendingPath(id, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := st.writeJSON(st.pendingPath(id, "ancestry"), ancestry); err != nil {
		return err
	}
	return st.writeFile(st.pendingPath(id, "json"), imageJSON)
}

// pendingJSON returns the JSON of a pending image.
func (st *v1Store) pendingJSON(id string) ([]byte, error) {
	return os.ReadFile(st.pendingPath(id, "json"))
}

// setPendingLayer moves the uploaded layer file into the pending image and
// records its checksums. The sums go last: without them the layer does not
// count as uploaded.
func (st *v1Store) setPendingLayer(id, layerFile string, sums imageSums) error {
	if err := os.Remove(st.pendingPath(id, "sums")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(layerFile, st.pendingPath(id, "layer")); err != nil {
		return err
	}
	return st.writeJSON(st.pendingPath(id, "sums"), sums)
}

// pendingSums returns the checksums of a pending image's uploaded layer.
func (st *v1Store) pendingSums(id string) (imageSums, error) {
	var s imageSums
	err := readJSONFile(st.pendingPath(id, "sums"), &s)
	return s, err
}

// completeImage makes a pending image visible: one rename of its directory.
func (st *v1Store) completeImage(id string, sums imageSums) error {
	if err := st.writeJSON(st.pendingPath(id, "checksums"), sums); err != nil {
		return err
	}
	return os.Rename(st.pendingPath(id), st.imagePath(id))
}

// imageChecksums returns the checksums of a complete image.
func (st *v1Store) imageChecksums(id string) (imageSums, error) {
	var s imageSums
	err := readJSONFile(st.imagePath(id, "checksums"), &s)
	return s, err
}

// Repositories.

func (st *v1Store) repoPath(n v1Name, file ...string) string {
	return st.path(append([]string{dirRepos, n.namespace, n.repo}, file...)...)
}

// repoExists reports whether anything was ever pushed to n.
func (st *v1Store) repoExists(n v1Name) bool {
	return exists(st.repoPath(n))
}

// repoImages returns n's image list; empty, not an error, for a repository
// without one.
func (st *v1Store) repoImages(n v1Name) ([]repoImage, error) {
	list := []repoImage{}
	err := readJSONFile(st.repoPath(n, "images"), &list)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return list, err
}

func (st *v1Store) writeRepoImages(n v1Name, list []repoImage) error {
	if err := os.MkdirAll(st.repoPath(n), 0o755); err != nil {
		return err
	}
	return st.writeJSON(st.repoPath(n, "images"), list)
}

// repoTags returns n's tags; empty for a repository without any.
func (st *v1Store) repoTags(n v1Name) (map[string]string, error) {
	tags := map[string]string{}
	err := readJSONFile(st.repoPath(n, "tags"), &tags)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return tags, err
}

func (st *v1Store) writeRepoTags(n v1Name, tags map[string]string) error {
	if err := os.MkdirAll(st.repoPath(n), 0o755); err != nil {
		return err
	}
	return st.writeJSON(st.repoPath(n, "tags"), tags)
}

// listRepos returns every repository, sorted by name.
func (st *v1Store) listRepos() ([]v1Name, error) {
	nss, err := os.ReadDir(st.path(dirRepos))
	if err != nil {
		return nil, err
	}
	var names []v1Name
	for _, ns := range nss {
		repos, err := os.ReadDir(st.path(dirRepos, ns.Name()))
		if err != nil {
			return nil, err
		}
		for _, r := range repos {
			n := v1Name{ns.Name(), r.Name()}
			if _, err := parseV1Name([]string{n.namespace, n.repo}); err == nil && r.IsDir() {
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

// storedUser is a registered account as kept in ROOT/users/NAME.json.
type storedUser struct {
	Username     string `json:"username"`
	Email        string `json:"email"`
	PasswordHash string `json:"password_bcrypt"`
	Active       bool   `json:"active"`
}

func (st *v1Store) userPath(name string) string {
	return st.path(dirUsers, name+".json")
}

// listUsers returns every registered account.
func (st *v1Store) listUsers() ([]storedUser, error) {
	entries, err := os.ReadDir(st.path(dirUsers))
	if err != nil {
		return nil, err
	}
	var users []storedUser
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		var u storedUser
		if err := readJSONFile(st.path(dirUsers, e.Name()), &u); err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, nil
}

func (st *v1Store) writeUser(u storedUser) error {
	return st.writeJSON(st.userPath(u.Username), u)
}
