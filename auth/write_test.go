package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// A config.json as docker and its plugins leave it, with members hoist does
// not own in unusual formatting that must survive byte for byte.
const richConfig = `{
	"auths": {
		"https://index.docker.io/v1/": {
			"auth": "aHViOm9sZA==",
			"email": "me@example.com"
		},
		"keep.example": {"auth":"a2VlcDpwdw==", "x-custom": [1, 2.50, "\u00e9"]}
	},
	"proxies": {
		"default": {
			"httpProxy": "http://proxy:3128",
			"noProxy": "*.local,169.254/16"
		}
	},
	"plugins": {"buildx": {"flag": "1e3"}},
	"currentContext": "remote",
	"detachKeys": "ctrl-e,e",
	"x-unknown": {"nested": [true, null, 0.10, "tab\there"]}
}
`

// unowned are substrings of richConfig that every rewrite must keep.
var unowned = []string{
	`"proxies": {
		"default": {
			"httpProxy": "http://proxy:3128",
			"noProxy": "*.local,169.254/16"
		}
	}`,
	`"plugins": {"buildx": {"flag": "1e3"}}`,
	`"currentContext": "remote"`,
	`"detachKeys": "ctrl-e,e"`,
	`"x-unknown": {"nested": [true, null, 0.10, "tab\there"]}`,
	`"keep.example": {"auth":"a2VlcDpwdw==", "x-custom": [1, 2.50, "\u00e9"]}`,
}

func TestPutKeepsEverythingElse(t *testing.T) {
	f := newFiles(t)
	writeFile(t, f.config, richConfig)
	if err := os.Chmod(f.config, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := f.store.Put(ctx, "new.example:5000", Credential{Username: "n", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Put(ctx, "docker.io", Credential{Username: "hub", Password: "new"}); err != nil {
		t.Fatal(err)
	}
	got := string(readFile(t, f.config))
	for _, s := range unowned {
		if !strings.Contains(got, s) {
			t.Errorf("lost or reformatted:\n%s\nin:\n%s", s, got)
		}
	}
	// The Hub entry is rewritten under docker's key, keeping its email.
	if !strings.Contains(got, `"https://index.docker.io/v1/": {
			"email": "me@example.com",
			"auth": "`+b64("hub:new")+`"
		}`) {
		t.Errorf("Hub entry not rewritten in place:\n%s", got)
	}
	for host, want := range map[string]Credential{
		"new.example:5000": {Username: "n", Password: "pw"},
		"docker.io":        {Username: "hub", Password: "new"},
		"keep.example":     {Username: "keep", Password: "pw"},
	} {
		if c, err := f.store.Get(ctx, host); err != nil || c != want {
			t.Errorf("Get(%s) = %#v, %v; want %#v", host, c, err, want)
		}
	}
	st, err := os.Stat(f.config)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("config.json mode %v, want 0600", st.Mode().Perm())
	}
	if err := f.store.Erase(ctx, "new.example:5000"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Erase(ctx, "registry-1.docker.io"); err != nil {
		t.Fatal(err)
	}
	got = string(readFile(t, f.config))
	for _, s := range unowned {
		if !strings.Contains(got, s) {
			t.Errorf("Erase lost or reformatted:\n%s", s)
		}
	}
	if strings.Contains(got, "index.docker.io") || strings.Contains(got, "new.example") {
		t.Errorf("Erase left an entry behind:\n%s", got)
	}
}

func TestPutWritesNewFile(t *testing.T) {
	f := newFiles(t)
	ctx := context.Background()
	if err := f.store.Put(ctx, "https://index.docker.io/v1/", Credential{Username: "u", IdentityToken: "idt"}); err != nil {
		t.Fatal(err)
	}
	want := "{\n\t\"auths\": {\n\t\t\"https://index.docker.io/v1/\": {\n\t\t\t\"auth\": \"" + b64("u:") + "\",\n\t\t\t\"identitytoken\": \"idt\"\n\t\t}\n\t}\n}\n"
	if got := string(readFile(t, f.config)); got != want {
		t.Fatalf("new config.json:\n%s\nwant:\n%s", got, want)
	}
	if c, err := f.store.Get(ctx, "docker.io"); err != nil || c != (Credential{Username: "u", IdentityToken: "idt"}) {
		t.Fatalf("Get = %#v, %v", c, err)
	}
}

func TestPutReplacesOtherSpellings(t *testing.T) {
	f := newFiles(t)
	writeFile(t, f.config, `{"auths":{"https://reg.example/v1/":{"auth":"`+b64("old:pw")+`"},"other":{"auth":"`+b64("o:p")+`"}}}`)
	ctx := context.Background()
	if err := f.store.Put(ctx, "reg.example", Credential{Username: "new", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	got := string(readFile(t, f.config))
	if strings.Contains(got, "https://reg.example/v1/") || !strings.Contains(got, `"reg.example"`) || !strings.Contains(got, `"other": {"auth":"`+b64("o:p")+`"}`) {
		t.Fatalf("config.json after Put:\n%s", got)
	}
}

func TestPutThroughSymlink(t *testing.T) {
	f := newFiles(t)
	real := filepath.Join(t.TempDir(), "dotfiles-config.json")
	writeFile(t, real, `{"currentContext":"x"}`)
	if err := os.MkdirAll(f.configDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, f.config); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Put(context.Background(), "reg.example", Credential{Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(f.config); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("config.json is no longer a symlink: %v %v", fi, err)
	}
	if !strings.Contains(string(readFile(t, real)), `"reg.example"`) {
		t.Fatal("the link's target was not updated")
	}
}

// A login interrupted after the new file is written to its temp file but
// before the rename leaves the old config.json as it was.
func TestPutInterruptedBeforeRename(t *testing.T) {
	f := newFiles(t)
	writeFile(t, f.config, richConfig)
	var tmpContent []byte
	f.store.beforeRename = func(tmp string) error {
		tmpContent = readFile(t, tmp)
		return errors.New("simulated crash")
	}
	err := f.store.Put(context.Background(), "new.example", Credential{Username: "u", Password: "p"})
	if err == nil || !strings.Contains(err.Error(), "simulated crash") {
		t.Fatalf("Put: %v", err)
	}
	if !bytes.Contains(tmpContent, []byte(`"new.example"`)) {
		t.Fatalf("the temp file did not hold the new config:\n%s", tmpContent)
	}
	if !bytes.Equal(readFile(t, f.config), []byte(richConfig)) {
		t.Fatal("config.json changed")
	}
	entries, _ := os.ReadDir(f.configDir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temp file %s left behind", e.Name())
		}
	}
}

func checkHosts(t *testing.T, f *files, hosts []string) {
	t.Helper()
	for _, host := range hosts {
		c, err := f.store.Get(context.Background(), host)
		if err != nil || c != credFor(host) {
			t.Errorf("Get(%s) = %#v, %v", host, c, err)
		}
	}
	if !strings.Contains(string(readFile(t, f.config)), `"currentContext": "remote"`) {
		t.Error("an unowned member was lost")
	}
}

// Twenty logins, each verified against its own registry, at once.
func TestConcurrentLoginsGoroutines(t *testing.T) {
	f := newFiles(t)
	writeFile(t, f.config, richConfig)
	hosts := make([]string, 20)
	for i := range hosts {
		hosts[i] = testutil.NewRegistry(t).Host
	}
	var wg sync.WaitGroup
	for _, host := range hosts {
		wg.Go(func() {
			// A store per goroutine, as separate commands would have.
			s := NewConfigStore(WithConfigDir(f.configDir), WithDockerCfg(""), WithAuthFiles())
			if err := Login(context.Background(), s, "http://"+host, credFor(host), NewV2Verifier(&http.Transport{})); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	checkHosts(t, f, hosts)
}

func TestConcurrentLoginsProcesses(t *testing.T) {
	f := newFiles(t)
	writeFile(t, f.config, richConfig)
	cmds := make([]*exec.Cmd, 20)
	outs := make([]bytes.Buffer, 20)
	hosts := make([]string, 20)
	for i := range cmds {
		host := fmt.Sprintf("reg%02d.example", i)
		hosts[i] = host
		cmd := exec.Command(os.Args[0], "-test.run=^TestChildLogin$", "-test.count=1")
		cmd.Env = append(os.Environ(), "HOIST_AUTH_CHILD_DIR="+f.configDir, "HOIST_AUTH_CHILD_HOST="+host)
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child %d: %v\n%s", i, err, outs[i].String())
		}
	}
	checkHosts(t, f, hosts)
}

// TestChildLogin is one login in a separate process, for
// TestConcurrentLoginsProcesses; on its own it does nothing.
func TestChildLogin(t *testing.T) {
	dir, host := os.Getenv("HOIST_AUTH_CHILD_DIR"), os.Getenv("HOIST_AUTH_CHILD_HOST")
	if dir == "" {
		t.Skip("run by TestConcurrentLoginsProcesses")
	}
	s := NewConfigStore(WithConfigDir(dir), WithDockerCfg(""), WithAuthFiles())
	if err := s.Put(context.Background(), host, credFor(host)); err != nil {
		t.Fatal(err)
	}
}

// credFor is a distinct credential per host; a username cannot hold ':'.
func credFor(host string) Credential {
	return Credential{Username: "user-" + strings.ReplaceAll(host, ":", "-"), Password: "pw:" + host}
}

// docker reads config.json's auths, credsStore and credHelpers in any
// letter case, merging repeated maps in file order (encoding/json);
// hoist reads them the same way, and writes one "auths" in place of all
// its spellings, leaving every other member as it was.
func TestConfigMembersInAnyCase(t *testing.T) {
	data := `{"Auths":{"a":{"auth":"YTpi"}},"psFormat":"x","AUTHS":{"b":{"auth":"YzpE"}},"CredsStore":"desktop","credHelpers":{"x.io":"one"},"CREDHELPERS":{"y.io":"two"}}`
	cfg, err := parseConfig("config.json", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.auths == nil || cfg.auths.get("a") == nil || cfg.auths.get("b") == nil {
		t.Fatalf("auths in two spellings read as %+v", cfg.auths)
	}
	if cfg.credsStore != "desktop" || cfg.credHelpers["x.io"] != "one" || cfg.credHelpers["y.io"] != "two" {
		t.Fatalf("credsStore %q, credHelpers %v", cfg.credsStore, cfg.credHelpers)
	}
	if name, _ := cfg.helperFor("z.io"); name != "desktop" {
		t.Fatalf("a host with no credHelpers entry goes to %q, want desktop", name)
	}
	again, err := parseConfig("config.json", cfg.encode())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range again.obj.members {
		keys = append(keys, m.key)
	}
	if want := []string{"auths", "psFormat", "CredsStore", "credHelpers", "CREDHELPERS"}; !slices.Equal(keys, want) {
		t.Fatalf("written members %q, want %q", keys, want)
	}
	if again.auths.get("a") == nil || again.auths.get("b") == nil {
		t.Fatalf("the written auths lost an entry: %s", cfg.encode())
	}
	// null empties a map, as encoding/json does.
	if cfg, err := parseConfig("config.json", []byte(`{"auths":{"a":{}},"Auths":null}`)); err != nil || cfg.auths != nil {
		t.Fatalf("auths then null: %v, %+v", err, cfg)
	}
}
