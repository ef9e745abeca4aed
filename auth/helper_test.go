package auth

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// statefulHelper is a docker credential helper that keeps one file per
// server URL in STORE and logs every call to STORE/log.
const statefulHelper = `#!/bin/sh
store="STORE"
key() { printf %s "$1" | tr '/:' '__'; }
case "$1" in
get)
	url=$(cat); echo "get $url" >> "$store/log"
	if [ -f "$store/$(key "$url")" ]; then cat "$store/$(key "$url")"; else echo "credentials not found in native keychain"; exit 1; fi ;;
store)
	in=$(cat)
	url=$(printf %s "$in" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p'); echo "store $url" >> "$store/log"
	printf %s "$in" > "$store/$(key "$url")" ;;
erase)
	url=$(cat); echo "erase $url" >> "$store/log"
	if [ -f "$store/$(key "$url")" ]; then rm "$store/$(key "$url")"; else echo "credentials not found in native keychain"; exit 1; fi ;;
*)
	echo "unknown action $1"; exit 1 ;;
esac
`

// installHelpers writes docker-credential-NAME scripts into a temp dir and
// puts it first on PATH. It returns the stateful helper's store dir.
func installHelpers(t *testing.T, scripts map[string]string) string {
	t.Helper()
	bin, store := t.TempDir(), t.TempDir()
	for name, script := range scripts {
		script = strings.ReplaceAll(script, "STORE", store)
		if err := os.WriteFile(filepath.Join(bin, "docker-credential-"+name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return store
}

func TestHelperRoundTrip(t *testing.T) {
	store := installHelpers(t, map[string]string{"fake": statefulHelper})
	f := newFiles(t)
	cfg := `{"credsStore": "fake", "credHelpers": {"special.example": "fake"}, "auths": {"reg.example": {"auth": "` + b64("plain:text") + `"}}, "currentContext": "x"}`
	writeFile(t, f.config, cfg)
	ctx := context.Background()

	if err := f.store.Put(ctx, "reg.example", Credential{Username: "u", Password: "secret"}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Put(ctx, "docker.io", Credential{IdentityToken: "refresh-me"}); err != nil {
		t.Fatal(err)
	}
	got := string(readFile(t, f.config))
	if strings.Contains(got, "reg.example") || !strings.Contains(got, `"currentContext": "x"`) {
		t.Errorf("storing to the helper should drop the old plaintext entry and keep the rest:\n%s", got)
	}
	if c, err := f.store.Get(ctx, "reg.example"); err != nil || c != (Credential{Username: "u", Password: "secret"}) {
		t.Errorf("Get(reg.example) = %#v, %v", c, err)
	}
	if c, err := f.store.Get(ctx, "registry-1.docker.io"); err != nil || c != (Credential{IdentityToken: "refresh-me"}) {
		t.Errorf("Get(hub) = %#v, %v", c, err)
	}
	if c, err := f.store.Get(ctx, "unknown.example"); err != nil || !c.IsZero() {
		t.Errorf("Get(unknown) = %#v, %v; want anonymous", c, err)
	}
	before := readFile(t, f.config)
	if err := f.store.Erase(ctx, "docker.io"); err != nil {
		t.Fatal(err)
	}
	if c, err := f.store.Get(ctx, "docker.io"); err != nil || !c.IsZero() {
		t.Errorf("Get after Erase = %#v, %v", c, err)
	}
	if !bytes.Equal(before, readFile(t, f.config)) {
		t.Error("an erase from the helper alone rewrote config.json")
	}
	log := string(readFile(t, filepath.Join(store, "log")))
	for _, want := range []string{"store reg.example", "store https://index.docker.io/v1/", "get https://index.docker.io/v1/", "erase https://index.docker.io/v1/"} {
		if !strings.Contains(log, want+"\n") {
			t.Errorf("helper log lacks %q:\n%s", want, log)
		}
	}
}

func TestCredHelpersBeforeCredsStore(t *testing.T) {
	installHelpers(t, map[string]string{
		"store":   "#!/bin/sh\ncat >/dev/null; echo '{\"Username\":\"from-store\",\"Secret\":\"s\"}'\n",
		"special": "#!/bin/sh\ncat >/dev/null; echo '{\"Username\":\"from-special\",\"Secret\":\"s\"}'\n",
	})
	f := newFiles(t)
	writeFile(t, f.config, `{"credsStore":"store","credHelpers":{"https://special.example/":"special"},"auths":{"special.example":{"auth":"`+b64("from:file")+`"}}}`)
	for host, user := range map[string]string{"special.example": "from-special", "other.example": "from-store"} {
		c, err := f.store.Get(context.Background(), host)
		if err != nil || c.Username != user {
			t.Errorf("Get(%s) = %#v, %v; want user %s", host, c, err, user)
		}
	}
}

func TestHelperFailures(t *testing.T) {
	installHelpers(t, map[string]string{
		"fails":   "#!/bin/sh\necho 'error getting credentials - err: exit status 1, out: keychain is locked'\nexit 1\n",
		"stderr":  "#!/bin/sh\necho 'gpg: decryption failed: No secret key' >&2\nexit 2\n",
		"garbage": "#!/bin/sh\ncat >/dev/null\necho 'this is not json'\n",
		"nouser":  "#!/bin/sh\ncat >/dev/null\necho '{\"Username\":\"u\",\"Secret\":\"\"}'\n",
	})
	tests := []struct {
		helper string
		// putFails: the helper also fails "store" (a helper's store output
		// is not read, so garbage there is no error).
		putFails bool
		wantErr  []string
	}{
		{"missing", true, []string{"docker-credential-missing", "not installed", `credHelpers["reg.example"]`}},
		{"fails", true, []string{"docker-credential-fails", "get", "keychain is locked"}},
		{"stderr", true, []string{"docker-credential-stderr", "No secret key"}},
		{"garbage", false, []string{"docker-credential-garbage", "not the JSON credentials"}},
		{"nouser", false, []string{"docker-credential-nouser", "without a secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.helper, func(t *testing.T) {
			f := newFiles(t)
			cfg := `{"credHelpers":{"reg.example":"` + tt.helper + `"},"auths":{"reg.example":{"auth":"` + b64("should:not-be-used") + `"}}}`
			writeFile(t, f.config, cfg)
			ctx := context.Background()
			_, errGet := f.store.Get(ctx, "reg.example")
			if errGet == nil {
				t.Fatal("Get: want an error")
			}
			if tt.putFails {
				err := f.store.Put(ctx, "reg.example", Credential{Username: "u", Password: "p"})
				if err == nil || !strings.Contains(err.Error(), tt.wantErr[0]) {
					t.Errorf("Put: %v, want an error naming %s", err, tt.wantErr[0])
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errGet.Error(), w) {
					t.Errorf("Get error %q lacks %q", errGet, w)
				}
			}
			if !bytes.Equal(readFile(t, f.config), []byte(cfg)) {
				t.Fatal("config.json changed")
			}
		})
	}
}
