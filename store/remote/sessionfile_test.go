package remote

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestFileSessions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "uploads")
	a := NewFileSessions(dir, "registry.example/team/app")
	b := NewFileSessions(dir, "registry.example/team/other")
	ref := "sha256:0123"
	if _, ok := a.Load(ref); ok {
		t.Fatal("a session before any was saved")
	}
	want := UploadSession{Location: "https://registry.example/v2/team/app/blobs/uploads/x?_state=secret", Offset: 42}
	if err := a.Save(ref, want); err != nil {
		t.Fatal(err)
	}
	if got, ok := a.Load(ref); !ok || got != want {
		t.Fatalf("Load = %+v, %v", got, ok)
	}
	if _, ok := b.Load(ref); ok {
		t.Fatal("another repository sees the session")
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	fi, err := os.Stat(a.path(ref))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("session file mode %v (%v), want 0600: its URL is a secret", fi.Mode().Perm(), err)
	}
	if !a.Persistent() {
		t.Error("file sessions are not persistent")
	}
	old := time.Now().Add(-MaxUploadSessionAge - time.Hour)
	os.Chtimes(a.path(ref), old, old)
	b2 := []byte(`{"repository":"registry.example/team/app","ref":"sha256:0123","location":"x","offset":1,"saved":"2000-01-01T00:00:00Z"}`)
	os.WriteFile(a.path(ref), b2, 0o600)
	if _, ok := a.Load(ref); ok {
		t.Fatal("a session older than MaxUploadSessionAge was offered")
	}
	if _, err := os.Stat(a.path(ref)); !os.IsNotExist(err) {
		t.Fatal("the stale session file was kept")
	}
	a.Save(ref, want)
	a.Delete(ref)
	if _, ok := a.Load(ref); ok {
		t.Fatal("a deleted session")
	}
}
