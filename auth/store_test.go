package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// files is a set of credential files in a temp dir and a store over them.
type files struct {
	configDir, config, dockercfg, authJSON string
	store                                  *ConfigStore
}

func newFiles(t *testing.T) *files {
	t.Helper()
	root := t.TempDir()
	f := &files{
		configDir: filepath.Join(root, "docker"),
		dockercfg: filepath.Join(root, "home", ".dockercfg"),
		authJSON:  filepath.Join(root, "run", "containers", "auth.json"),
	}
	f.config = filepath.Join(f.configDir, "config.json")
	f.store = NewConfigStore(WithConfigDir(f.configDir), WithDockerCfg(f.dockercfg), WithAuthFiles(f.authJSON))
	return f
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestGet(t *testing.T) {
	tests := []struct {
		name                        string
		config, dockercfg, authJSON string
		host                        string
		want                        Credential
	}{
		{name: "auth field", config: `{"auths":{"reg.example":{"auth":"` + b64("u:p:with:colons") + `"}}}`,
			host: "reg.example", want: Credential{Username: "u", Password: "p:with:colons"}},
		{name: "username and password fields", config: `{"auths":{"reg.example":{"username":"u","password":"p"}}}`,
			host: "reg.example", want: Credential{Username: "u", Password: "p"}},
		{name: "identity token", config: `{"auths":{"reg.example":{"auth":"` + b64("u:") + `","identitytoken":"idt"}}}`,
			host: "reg.example", want: Credential{Username: "u", IdentityToken: "idt"}},
		{name: "registry token", config: `{"auths":{"reg.example":{"registrytoken":"rt"}}}`,
			host: "reg.example", want: Credential{RegistryToken: "rt"}},
		{name: "hub key found as docker.io", config: `{"auths":{"https://index.docker.io/v1/":{"auth":"` + b64("hub:pw") + `"}}}`,
			host: "docker.io", want: Credential{Username: "hub", Password: "pw"}},
		{name: "hub key found as registry-1.docker.io", config: `{"auths":{"https://index.docker.io/v1/":{"auth":"` + b64("hub:pw") + `"}}}`,
			host: "registry-1.docker.io", want: Credential{Username: "hub", Password: "pw"}},
		{name: "hub key found as index.docker.io", config: `{"auths":{"index.docker.io":{"auth":"` + b64("hub:pw") + `"}}}`,
			host: "https://index.docker.io/v1/", want: Credential{Username: "hub", Password: "pw"}},
		{name: "URL key matches its host", config: `{"auths":{"https://Reg.Example:5000/v1/":{"auth":"` + b64("u:p") + `"}}}`,
			host: "reg.example:5000", want: Credential{Username: "u", Password: "p"}},
		{name: "port is part of the host", config: `{"auths":{"reg.example:5000":{"auth":"` + b64("u:p") + `"}}}`,
			host: "reg.example"},
		{name: "unknown host is anonymous", config: `{"auths":{"other":{"auth":"` + b64("u:p") + `"}}}`,
			host: "reg.example"},
		{name: "placeholder entry is anonymous", config: `{"auths":{"reg.example":{}}}`, host: "reg.example"},
		{name: "no files at all", host: "reg.example"},
		{name: "dockercfg JSON map", dockercfg: `{"https://reg.example/v1/":{"auth":"` + b64("old:pw") + `","email":"e@x"}}`,
			host: "reg.example", want: Credential{Username: "old", Password: "pw"}},
		{name: "dockercfg two-line form is Docker Hub's", dockercfg: "auth = " + b64("old:pw") + "\nemail = e@x\n",
			host: "docker.io", want: Credential{Username: "old", Password: "pw"}},
		{name: "auth.json namespaced key", authJSON: `{"auths":{"quay.io/team":{"auth":"` + b64("q:pw") + `"}}}`,
			host: "quay.io", want: Credential{Username: "q", Password: "pw"}},
		{name: "config.json before dockercfg and auth.json",
			config:    `{"auths":{"reg.example":{"auth":"` + b64("new:pw") + `"}}}`,
			dockercfg: `{"reg.example":{"auth":"` + b64("old:pw") + `"}}`,
			authJSON:  `{"auths":{"reg.example":{"auth":"` + b64("podman:pw") + `"}}}`,
			host:      "reg.example", want: Credential{Username: "new", Password: "pw"}},
		{name: "dockercfg before auth.json",
			dockercfg: `{"reg.example":{"auth":"` + b64("old:pw") + `"}}`,
			authJSON:  `{"auths":{"reg.example":{"auth":"` + b64("podman:pw") + `"}}}`,
			host:      "reg.example", want: Credential{Username: "old", Password: "pw"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFiles(t)
			for path, content := range map[string]string{f.config: tt.config, f.dockercfg: tt.dockercfg, f.authJSON: tt.authJSON} {
				if content != "" {
					writeFile(t, path, content)
				}
			}
			got, err := f.store.Get(context.Background(), tt.host)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Get(%q) = %#v, want %#v", tt.host, got, tt.want)
			}
		})
	}
}

func TestGetBadInput(t *testing.T) {
	tests := []struct {
		name, config, dockercfg string
		wantErr                 []string // substrings of the error
	}{
		{name: "malformed config.json", config: `{"auths": {"reg.example": {"auth": "x"}`, wantErr: []string{"config.json", "not a valid docker config"}},
		{name: "auths is not an object", config: `{"auths": ["reg.example"]}`, wantErr: []string{"config.json", `"auths"`}},
		{name: "bad base64", config: `{"auths":{"reg.example":{"auth":"%%%not base64"}}}`, wantErr: []string{"config.json", `"reg.example"`, "base64"}},
		{name: "auth without a colon", config: `{"auths":{"reg.example":{"auth":"` + b64("justuser") + `"}}}`, wantErr: []string{`"reg.example"`, "user:password"}},
		{name: "auth without a password", config: `{"auths":{"reg.example":{"auth":"` + b64("user:") + `"}}}`, wantErr: []string{`"reg.example"`, `"user"`, "no password"}},
		{name: "username field without password", config: `{"auths":{"reg.example":{"username":"user"}}}`, wantErr: []string{"no password"}},
		{name: "malformed dockercfg", dockercfg: "auth: what\n", wantErr: []string{".dockercfg", "two-line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFiles(t)
			if tt.config != "" {
				writeFile(t, f.config, tt.config)
			}
			if tt.dockercfg != "" {
				writeFile(t, f.dockercfg, tt.dockercfg)
			}
			_, err := f.store.Get(context.Background(), "reg.example")
			if err == nil {
				t.Fatal("Get succeeded, want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tt.config != "" && !bytes.Equal(readFile(t, f.config), []byte(tt.config)) {
				t.Fatal("config.json changed")
			}
		})
	}
}

// A malformed config.json is never overwritten, by a login or a logout.
func TestMalformedConfigIsNeverWritten(t *testing.T) {
	f := newFiles(t)
	bad := "{\"auths\": {\"reg.example\": {\"auth\": \"" + b64("u:p") + "\"}},\n\"proxies\": "
	writeFile(t, f.config, bad)
	ctx := context.Background()
	errPut := f.store.Put(ctx, "other.example", Credential{Username: "a", Password: "b"})
	errErase := f.store.Erase(ctx, "reg.example")
	for _, err := range []error{errPut, errErase} {
		if err == nil || !strings.Contains(err.Error(), f.config) {
			t.Errorf("want an error naming %s, got %v", f.config, err)
		}
	}
	if !bytes.Equal(readFile(t, f.config), []byte(bad)) {
		t.Fatal("config.json changed")
	}
}

func TestEraseReadOnlySources(t *testing.T) {
	f := newFiles(t)
	ctx := context.Background()
	if err := f.store.Erase(ctx, "reg.example"); !errors.Is(err, ErrNotLoggedIn) {
		t.Fatalf("Erase with nothing stored: %v, want ErrNotLoggedIn", err)
	}
	writeFile(t, f.authJSON, `{"auths":{"reg.example":{"auth":"`+b64("q:pw")+`"}}}`)
	err := f.store.Erase(ctx, "reg.example")
	if err == nil || !strings.Contains(err.Error(), f.authJSON) {
		t.Fatalf("Erase of a credential only auth.json holds: %v, want an error naming it", err)
	}
	if !bytes.Equal(readFile(t, f.authJSON), []byte(`{"auths":{"reg.example":{"auth":"`+b64("q:pw")+`"}}}`)) {
		t.Fatal("auth.json changed")
	}
}

func TestNormalizeHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://index.docker.io/v1/": "docker.io",
		"index.docker.io":             "docker.io",
		"registry-1.docker.io":        "docker.io",
		"DOCKER.IO":                   "docker.io",
		"http://Reg.Example:5000/v2/": "reg.example:5000",
		" reg.example ":               "reg.example",
		"quay.io/team/repo":           "quay.io",
		"[::1]:5000":                  "[::1]:5000",
	} {
		if got := NormalizeHost(in); got != want {
			t.Errorf("NormalizeHost(%q) = %q, want %q", in, got, want)
		}
	}
}
