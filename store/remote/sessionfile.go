package remote

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/hoist-dev/hoist/internal/atomicfile"
)

// MaxUploadSessionAge is how long a saved upload session is offered for
// resuming. Registries forget idle sessions after a while (distribution
// purges them after a week); an older file is removed instead of asked
// about.
const MaxUploadSessionAge = 7 * 24 * time.Hour

// FileSessions keeps the upload sessions of one repository as files in
// dir, one per ingest ref, so that a push killed part way is resumed by
// the next process: it asks the registry where each session stands (a GET
// of its URL, answered 204 with Range) and sends only the missing bytes;
// a session the registry has forgotten is started over. A session's URL
// may carry registry state and signatures, so dir is made 0700 and each
// file 0600. Files are replaced whole (internal/atomicfile). repo names
// the repository ("registry/repository"); two repositories may share dir.
type FileSessions struct {
	dir, repo string
}

// NewFileSessions returns the sessions of repo kept under dir.
func NewFileSessions(dir, repo string) *FileSessions { return &FileSessions{dir: dir, repo: repo} }

type sessionFile struct {
	Repository string    `json:"repository"`
	Ref        string    `json:"ref"`
	Location   string    `json:"location"`
	Offset     int64     `json:"offset"`
	Saved      time.Time `json:"saved"`
}

func (s *FileSessions) path(ref string) string {
	h := sha256.Sum256([]byte(s.repo + "\x00" + ref))
	return filepath.Join(s.dir, hex.EncodeToString(h[:16])+".json")
}

// Load returns the session saved for ref, unless it is older than
// MaxUploadSessionAge or unreadable (then it is removed).
func (s *FileSessions) Load(ref string) (UploadSession, bool) {
	p := s.path(ref)
	b, err := os.ReadFile(p)
	if err != nil {
		return UploadSession{}, false
	}
	var f sessionFile
	if len(b) > 64<<10 || json.Unmarshal(b, &f) != nil || f.Repository != s.repo || f.Ref != ref || f.Location == "" ||
		time.Since(f.Saved) > MaxUploadSessionAge {
		os.Remove(p)
		return UploadSession{}, false
	}
	return UploadSession{Location: f.Location, Offset: f.Offset}, true
}

// Save records ref's session.
func (s *FileSessions) Save(ref string, u UploadSession) error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(sessionFile{Repository: s.repo, Ref: ref, Location: u.Location, Offset: u.Offset, Saved: time.Now().UTC()})
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(s.path(ref), b, 0o600)
}

// Delete forgets ref.
func (s *FileSessions) Delete(ref string) {
	if err := os.Remove(s.path(ref)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return
	}
}

// Persistent reports true: the sessions outlive the process.
func (s *FileSessions) Persistent() bool { return true }

var _ UploadSessions = (*FileSessions)(nil)
