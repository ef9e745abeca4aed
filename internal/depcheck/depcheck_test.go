package depcheck

import (
	"bufio"
	"errors"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// layers is DESIGN.md's layer order, top first: a package may import the
// packages of the layers after its own, never those of its own layer or
// above. A pattern is a package path in the module ("" is the root
// package, hoist) or, ending in "/...", every package below a path.
var layers = [][]string{
	{"cmd/hoist", "cmd/hoist-serve", "bench", "integration", "scripts/...", "tools/..."},
	{"internal/cli/servecli"},
	{"internal/cli"},
	{"registrytest"},
	{"server/serve"},
	{"server/registry"},
	{"server/mirror"},
	{"server/storage", "server"},
	{""},
	{"syncer"},
	{"probe"},
	{"copy"},
	{"internal/testutil/s3test"},
	{"internal/testutil", "store/storetest"},
	{"store/remote"},
	{"store/ocilayout", "store/archive", "store/memory"},
	{"store"},
	{"distribution"},
	{"legacy"},
	{"legacy/tarsum"},
	{"auth"},
	{"transport"},
	{"hosts"},
	{"reference"},
	{"internal/blobio"},
	{"content"},
	{"errcode"},
	{"errdef", "internal/atomicfile", "internal/version", "internal/fuzzcheck", "internal/depcheck"},
}

// registryServers are module paths the client library (the root package
// and everything below it) must not import: the reference registry is a
// peer to test against, not a foundation (DESIGN.md, Dependencies).
var registryServers = []string{"github.com/distribution/distribution/"}

// clientExceptions are packages below the root that may import a
// registry server: test support only.
var clientExceptions = []string{"internal/testutil"}

// rank returns the index of pkg's layer, -1 for none.
func rank(pkg string) int {
	for i, layer := range layers {
		for _, p := range layer {
			if matches(p, pkg) {
				return i
			}
		}
	}
	return -1
}

func matches(pattern, pkg string) bool {
	dir, tree := strings.CutSuffix(pattern, "/...")
	if !tree {
		return pattern == pkg
	}
	return pkg == dir || strings.HasPrefix(pkg, dir+"/")
}

// modulePackages returns the module path and, for each package of the
// module (relative to it), its non-test imports.
func modulePackages(t *testing.T) (string, map[string][]string) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	module := modulePath(t, filepath.Join(root, "go.mod"))
	pkgs := map[string][]string{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
			return filepath.SkipDir
		}
		if rel, _ := filepath.Rel(root, path); rel == filepath.Join("bench", "work") {
			return filepath.SkipDir
		}
		p, err := build.Default.ImportDir(path, 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			rel = ""
		}
		pkgs[rel] = p.Imports
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return module, pkgs
}

func modulePath(t *testing.T, gomod string) string {
	t.Helper()
	f, err := os.Open(gomod)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "module "); ok {
			return strings.TrimSpace(m)
		}
	}
	t.Fatal("go.mod names no module")
	return ""
}

func name(pkg string) string {
	if pkg == "" {
		return "hoist (the root package)"
	}
	return pkg
}

// TestLayers fails when a package imports one of its own layer or of a
// layer above, or when a package is in no layer.
func TestLayers(t *testing.T) {
	module, pkgs := modulePackages(t)
	if len(pkgs) < 20 {
		t.Fatalf("found only %d packages: the walk of the module went wrong", len(pkgs))
	}
	for _, v := range violations(module, pkgs) {
		t.Error(v)
	}
}

// violations lists what breaks the layer order in pkgs, sorted.
func violations(module string, pkgs map[string][]string) []string {
	var names, out []string
	for p := range pkgs {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, p := range names {
		r := rank(p)
		if r < 0 {
			out = append(out, name(p)+" is in no layer: give it its line in DESIGN.md's Layers and in depcheck's layers")
			continue
		}
		for _, imp := range pkgs[p] {
			rel, ok := strings.CutPrefix(imp, module)
			if !ok || rel != "" && rel[0] != '/' {
				continue
			}
			rel = strings.TrimPrefix(rel, "/")
			if q := rank(rel); q >= 0 && q <= r {
				out = append(out, name(p)+" imports "+name(rel)+", which DESIGN.md's layer order puts at or above it")
			}
		}
	}
	return out
}

// TestClientImportsNoRegistry fails when the client library imports a
// registry server's packages.
func TestClientImportsNoRegistry(t *testing.T) {
	_, pkgs := modulePackages(t)
	root := rank("")
	for p, imps := range pkgs {
		if rank(p) < root || slices.Contains(clientExceptions, p) {
			continue
		}
		for _, imp := range imps {
			for _, srv := range registryServers {
				if strings.HasPrefix(imp, srv) {
					t.Errorf("%s imports %s: the client library does not build on a registry", name(p), imp)
				}
			}
		}
	}
}

// leanProgram is the client program, which must not link the registry
// server: the server's storage drivers bring package initialisation
// (OpenTelemetry, gRPC, Prometheus, the AWS SDK) that more than doubles
// every client command's resident memory. hoist serve is the hoist-serve
// program instead.
const leanProgram = "cmd/hoist"

// heavyImports are what leanProgram must not reach, in the module or
// outside it.
var heavyImports = []string{"server", "github.com/distribution/distribution/", "github.com/aws/", "github.com/prometheus/", "go.opentelemetry.io/", "google.golang.org/grpc"}

// TestClientProgramIsLean fails when the client program reaches the
// registry server's packages or their heavy dependencies through any
// package of the module.
func TestClientProgramIsLean(t *testing.T) {
	module, pkgs := modulePackages(t)
	if v := heavyReached(module, pkgs, leanProgram); len(v) > 0 {
		t.Errorf("%s links what only hoist-serve may link:\n%s", leanProgram, strings.Join(v, "\n"))
	}
}

// heavyReached walks from start through the module's packages and lists
// each heavy import reached, with the package that imports it.
func heavyReached(module string, pkgs map[string][]string, start string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(p string)
	walk = func(p string) {
		if seen[p] {
			return
		}
		seen[p] = true
		for _, imp := range pkgs[p] {
			rel, inModule := strings.CutPrefix(imp, module)
			if inModule && (rel == "" || rel[0] == '/') {
				rel = strings.TrimPrefix(rel, "/")
				if matches("server/...", rel) {
					out = append(out, name(p)+" imports "+rel)
					continue
				}
				walk(rel)
				continue
			}
			for _, h := range heavyImports {
				if strings.HasPrefix(imp, h) {
					out = append(out, name(p)+" imports "+imp)
				}
			}
		}
	}
	walk(start)
	slices.Sort(out)
	return out
}

// The rules themselves: an upward or sideways import, and a package in
// no layer, are caught; imports down the order are not.
func TestViolations(t *testing.T) {
	const m = "example.com/hoist"
	got := violations(m, map[string][]string{
		"":                {m + "/store", "fmt"},
		"store":           {m + "/content", m},                  // up: the root
		"store/ocilayout": {m + "/store", m + "/store/archive"}, // sideways
		"content":         {m + "/errcode", m + "x/other"},
		"newpkg":          nil,
	})
	want := []string{
		"newpkg is in no layer: give it its line in DESIGN.md's Layers and in depcheck's layers",
		"store imports hoist (the root package), which DESIGN.md's layer order puts at or above it",
		"store/ocilayout imports store/archive, which DESIGN.md's layer order puts at or above it",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	lean := heavyReached(m, map[string][]string{
		"cmd/hoist":    {m + "/internal/cli"},
		"internal/cli": {m, m + "/server/serve"},
		"":             {m + "/store", "github.com/prometheus/client_golang/prometheus"},
		"store":        {"fmt"},
	}, "cmd/hoist")
	if want := []string{"hoist (the root package) imports github.com/prometheus/client_golang/prometheus", "internal/cli imports server/serve"}; !slices.Equal(lean, want) {
		t.Fatalf("heavyReached: %q, want %q", lean, want)
	}
	if rank("scripts/demo") != rank("cmd/hoist") || rank("storefoo") != -1 || rank("store/x") != -1 {
		t.Fatal("patterns match wrongly")
	}
}
