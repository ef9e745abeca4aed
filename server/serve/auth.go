package serve

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/hoist-dev/hoist/server/registry"
)

// maxHtpasswd caps the htpasswd file read.
const maxHtpasswd = 8 << 20

// loadHtpasswd reads user:bcrypt-hash lines. Other hash kinds (MD5, SHA1,
// crypt) are refused, naming the line: they are too weak to accept.
func loadHtpasswd(file string) (map[string][]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("serve: htpasswd file: %w", err)
	}
	if len(b) > maxHtpasswd {
		return nil, fmt.Errorf("serve: htpasswd file %s is over %d bytes", file, maxHtpasswd)
	}
	users := map[string][]byte{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("serve: htpasswd %s line %d: want USER:HASH", file, n)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("serve: htpasswd %s line %d (%s): not a bcrypt hash; create entries with `htpasswd -B`", file, n, user)
		}
		users[user] = []byte(hash)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("serve: htpasswd file %s has no entries", file)
	}
	return users, nil
}

// maxAuthCache bounds the remembered good credentials.
const maxAuthCache = 1024

// basicAuth admits requests with credentials matching users. A bcrypt
// check costs tens of milliseconds, and a push sends credentials with
// every request, so credentials that passed are remembered (as a SHA-256
// of user and password, never the password) for the life of the server.
func basicAuth(next http.Handler, users map[string][]byte, realm string) http.Handler {
	dummy, _ := bcrypt.GenerateFromPassword([]byte("dummy"), bcrypt.MinCost)
	var mu sync.Mutex
	good := map[[32]byte]bool{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if ok {
			key := sha256.Sum256([]byte(user + "\x00" + pass))
			mu.Lock()
			hit := good[key]
			mu.Unlock()
			hash, known := users[user]
			if !known {
				hash = dummy // spend the same time for an unknown user
			}
			if hit || (bcrypt.CompareHashAndPassword(hash, []byte(pass)) == nil && known) {
				if !hit {
					mu.Lock()
					if len(good) < maxAuthCache {
						good[key] = true
					}
					mu.Unlock()
				}
				next.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", realm))
		registry.WriteError(w, http.StatusUnauthorized, registry.CodeUnauthorized, "authentication required")
	})
}
