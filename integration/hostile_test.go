//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// The bounds every hostile case must keep (issue 16): the hoist process
// peaks below maxRSS and ends within maxWall, with an error that says
// what happened.
const (
	maxRSS  = 100 << 20
	maxWall = 60 * time.Second
)

// hostileServer is a registry that serves img under app:v1 honestly,
// except for the paths a case overrides: a route's pattern is matched
// against "METHOD PATH" (regexp), the first match answers.
type hostileServer struct {
	img    *testutil.Image
	mu     sync.Mutex
	routes []hostileRoute
	hits   map[string]int
	srv    *httptest.Server
}

type hostileRoute struct {
	re *regexp.Regexp
	h  http.HandlerFunc
}

func newHostile(t *testing.T, img *testutil.Image) *hostileServer {
	h := &hostileServer{img: img, hits: map[string]int{}}
	h.srv = httptest.NewServer(h)
	t.Cleanup(h.srv.CloseClientConnections)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hostileServer) host() string { return strings.TrimPrefix(h.srv.URL, "http://") }

// on adds a route for "METHOD PATH" matching pattern.
func (h *hostileServer) on(pattern string, f http.HandlerFunc) {
	h.routes = append(h.routes, hostileRoute{regexp.MustCompile(pattern), f})
}

func (h *hostileServer) count(pattern string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	re := regexp.MustCompile(pattern)
	for k, v := range h.hits {
		if re.MatchString(k) {
			n += v
		}
	}
	return n
}

func (h *hostileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + r.URL.Path
	h.mu.Lock()
	h.hits[key]++
	h.mu.Unlock()
	for _, rt := range h.routes {
		if rt.re.MatchString(key) {
			rt.h(w, r)
			return
		}
	}
	h.honest(w, r)
}

// honest serves /v2/, app's manifests by tag v1 or digest, and its blobs.
func (h *hostileServer) honest(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/v2/" || p == "/v2":
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		io.WriteString(w, "{}")
		return
	case strings.HasPrefix(p, "/v2/app/manifests/"):
		ref := strings.TrimPrefix(p, "/v2/app/manifests/")
		d := h.img.Root
		if ref != "v1" {
			dg, err := digest.Parse(ref)
			if err != nil || h.img.Blobs[dg] == nil {
				http.Error(w, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`, 404)
				return
			}
			d = h.descOf(dg)
		}
		w.Header().Set("Content-Type", d.MediaType)
		w.Header().Set("Docker-Content-Digest", d.Digest.String())
		w.Header().Set("Content-Length", strconv.Itoa(len(h.img.Blobs[d.Digest])))
		if r.Method != http.MethodHead {
			w.Write(h.img.Blobs[d.Digest])
		}
		return
	case strings.HasPrefix(p, "/v2/app/blobs/"):
		dg, err := digest.Parse(strings.TrimPrefix(p, "/v2/app/blobs/"))
		if err == nil && h.img.Blobs[dg] != nil {
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.img.Blobs[dg]))
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(404)
	io.WriteString(w, `{"errors":[{"code":"NAME_UNKNOWN","message":"not here"}]}`)
}

func (h *hostileServer) descOf(d digest.Digest) ocispec.Descriptor {
	for _, m := range append([]ocispec.Descriptor{h.img.Root}, h.img.Manifests...) {
		if m.Digest == d {
			return m
		}
	}
	return ocispec.Descriptor{MediaType: "application/octet-stream", Digest: d, Size: int64(len(h.img.Blobs[d]))}
}

// bounded runs hoist with args, checks the process kept maxRSS and
// maxWall, that it failed, and that its stderr holds every one of want.
// It returns stderr.
func bounded(t *testing.T, env []string, want []string, args ...string) string {
	t.Helper()
	// GNU time fork()s hoist from a small process and reports hoist's own
	// peak RSS; ProcessState.SysUsage would fold this test binary's into it
	// (Go starts children with CLONE_VM|CLONE_VFORK).
	timeBin := testutil.NeedBinary(t, "time", "apt-get install time")
	if p, err := exec.LookPath("/usr/bin/time"); err == nil {
		timeBin = p
	}
	stat := filepath.Join(t.TempDir(), "rss")
	cmd := exec.Command(timeBin, append([]string{"-f", "%M", "-o", stat, hoistBin}, args...)...)
	cmd.Env = append(os.Environ(), append([]string{"XDG_CACHE_HOME=" + t.TempDir(), "DOCKER_CONFIG=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir()}, env...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(2*maxWall, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	wall := time.Since(start)
	rss := int64(0)
	if b, rerr := os.ReadFile(stat); rerr == nil {
		lines := strings.Fields(string(b))
		if len(lines) > 0 {
			kib, _ := strconv.ParseInt(lines[len(lines)-1], 10, 64)
			rss = kib << 10
		}
	}
	tail := strings.TrimSpace(errb.String())
	if len(tail) > 1500 {
		tail = "…" + tail[len(tail)-1500:]
	}
	t.Logf("hoist %s: %s, peak RSS %d MiB; stderr: %s", strings.Join(args, " "), wall.Round(time.Millisecond), rss>>20, tail)
	if err == nil {
		t.Errorf("hoist %s succeeded against a hostile server", strings.Join(args, " "))
	}
	if wall > maxWall {
		t.Errorf("took %s, the bound is %s", wall, maxWall)
	}
	if rss == 0 || rss > maxRSS {
		t.Errorf("peak RSS %d MiB, the bound is %d MiB", rss>>20, maxRSS>>20)
	}
	for _, w := range want {
		if !strings.Contains(errb.String(), w) {
			t.Errorf("stderr lacks %q", w)
		}
	}
	return errb.String()
}

func hostileImage(t *testing.T) *testutil.Image {
	return testutil.NewImage(t, testutil.ImageSpec{Seed: "hostile", Layers: 1, LayerBytes: 200_000})
}

func jsonBody(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// endless writes prefix, then repeat over and over until the client
// leaves or max bytes are sent.
func endless(w http.ResponseWriter, r *http.Request, prefix, repeat string, max int64) {
	io.WriteString(w, prefix)
	chunk := []byte(strings.Repeat(repeat, 64<<10/len(repeat)+1))
	for sent := int64(0); sent < max && r.Context().Err() == nil; sent += int64(len(chunk)) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// TestHostileListings: endless distinct Link pages are capped and say so;
// a Link to another host is an error, never followed.
func TestHostileListings(t *testing.T) {
	t.Parallel()
	for name, pad := range map[string]int{"endless distinct pages of long names": 100, "endless distinct pages of short names": 0} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHostile(t, hostileImage(t))
			h.on(`^GET /v2/app/tags/list$`, func(w http.ResponseWriter, r *http.Request) {
				page, _ := strconv.Atoi(r.URL.Query().Get("page"))
				tags := make([]string, 1000)
				for i := range tags {
					tags[i] = fmt.Sprintf("p%d-%d%s", page, i, strings.Repeat("x", pad))
				}
				w.Header().Set("Link", fmt.Sprintf(`</v2/app/tags/list?page=%d>; rel="next"`, page+1))
				jsonBody(w, 200, map[string]any{"name": "app", "tags": tags})
			})
			bounded(t, nil, []string{"listing /v2/app/tags/list: the registry lists more names than hoist holds in memory", "(take only the first names with --limit N)"}, "tags", h.host()+"/app")
		})
	}
	t.Run("link to another host", func(t *testing.T) {
		t.Parallel()
		other := newHostile(t, hostileImage(t))
		h := newHostile(t, hostileImage(t))
		h.on(`^GET /v2/app/tags/list$`, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", fmt.Sprintf(`<%s/v2/app/tags/list?last=a>; rel="next"`, other.srv.URL))
			jsonBody(w, 200, map[string]any{"name": "app", "tags": []string{"a"}})
		})
		bounded(t, nil, []string{"the registry's next page is on another host (" + other.srv.URL}, "tags", h.host()+"/app")
		if n := other.count("."); n != 0 {
			t.Errorf("the other host got %d requests", n)
		}
	})
}

// pullArgs pulls app:v1 from h into a fresh layout, with extra flags.
func pullArgs(t *testing.T, h *hostileServer, flags ...string) []string {
	return append(append([]string{"pull"}, flags...), h.host()+"/app:v1", "oci:"+filepath.Join(t.TempDir(), "out"))
}

// TestHostileBodies: bodies without end, or that drip, or stop.
func TestHostileBodies(t *testing.T) {
	t.Parallel()
	img := hostileImage(t)
	layer := img.Layers[0][0]
	cases := []struct {
		name  string
		route string
		h     func(h *hostileServer) http.HandlerFunc
		flags []string
		want  []string
	}{
		{"1 GiB manifest", `^GET /v2/app/manifests/`, func(*hostileServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
				w.Header().Set("Content-Length", strconv.Itoa(1<<30))
				endless(w, r, `{"layers":[`, `{"mediaType":"x"},`, 1<<30)
			}
		}, nil, []string{"manifest", "larger than"}},
		{"endless JSON error body", `^GET /v2/app/manifests/`, func(*hostileServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(404)
				endless(w, r, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"`, "a", 4<<30)
			}
		}, nil, []string{"404", "MANIFEST_UNKNOWN"}},
		{"blob that drips", `^GET /v2/app/blobs/` + layer.Digest.String() + `$`, func(*hostileServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", strconv.FormatInt(layer.Size, 10))
				w.WriteHeader(200)
				for r.Context().Err() == nil {
					w.Write([]byte{0})
					http.NewResponseController(w).Flush()
					time.Sleep(10 * time.Millisecond)
				}
			}
		}, []string{"--speed-time", "2s"}, []string{"below the minimum of 1.0 KiB/s", "(lower the minimum with --speed-limit BYTES)"}},
		{"blob that stops after the headers", `^GET /v2/app/blobs/` + layer.Digest.String() + `$`, func(*hostileServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", strconv.FormatInt(layer.Size, 10))
				w.WriteHeader(200)
				http.NewResponseController(w).Flush()
				<-r.Context().Done()
			}
		}, []string{"--speed-time", "2s"}, []string{"sent 0 B/s over 2s, below the minimum"}},
		{"Retry-After on every answer", `^GET /v2/app/manifests/`, func(*hostileServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "2")
				jsonBody(w, 429, map[string]any{"errors": []any{map[string]string{"code": "TOOMANYREQUESTS", "message": "pull rate exceeded"}}})
			}
		}, []string{"--max-wait", "5s"}, []string{"registry asks to wait 2s (429 Too Many Requests)", "the most hoist waits is 5s", "pull rate exceeded", "(wait longer with --max-wait DURATION)"}},
		{"Retry-After beyond the cap", `^GET /v2/app/manifests/`, func(*hostileServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3600")
				jsonBody(w, 429, map[string]any{"errors": []any{map[string]string{"code": "TOOMANYREQUESTS", "message": "come back in an hour"}}})
			}
		}, nil, []string{"asks for a wait of 1h0m0s, more than the 1m0s hoist waits", "come back in an hour"}},
		{"endless token body", `^GET /(v2/|token)`, func(h *hostileServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/token" {
					w.Header().Set("Content-Type", "application/json")
					endless(w, r, `{"token":"`, "t", 4<<30)
					return
				}
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="hostile"`, h.srv.URL))
				jsonBody(w, 401, map[string]any{"errors": []any{map[string]string{"code": "UNAUTHORIZED", "message": "auth"}}})
			}
		}, nil, []string{"token"}},
		{"1 MiB WWW-Authenticate", `^GET /v2/`, func(h *hostileServer) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="hostile",scope="%s"`, h.srv.URL, strings.Repeat("s", 1<<20)))
				jsonBody(w, 401, map[string]any{"errors": []any{map[string]string{"code": "UNAUTHORIZED", "message": "auth"}}})
			}
		}, nil, []string{"getting a token"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHostile(t, img)
			h.on(tc.route, tc.h(h))
			stderr := bounded(t, nil, tc.want, pullArgs(t, h, tc.flags...)...)
			if len(stderr) > 4096 {
				t.Errorf("stderr is %d bytes long", len(stderr))
			}
		})
	}
}

// indexOf is an OCI index of children, and its descriptor.
// nestIndexes wraps img's root n times in an index that names the level
// below it k times; the outermost index becomes the root.
func nestIndexes(img *testutil.Image, n, k int) {
	d := img.Root
	for range n {
		var raw []byte
		raw, d = indexOf(slices.Repeat([]ocispec.Descriptor{d}, k)...)
		img.Blobs[d.Digest] = raw
		img.Manifests = append(img.Manifests, d)
	}
	img.Root = d
}

func indexOf(children ...ocispec.Descriptor) ([]byte, ocispec.Descriptor) {
	b, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: children})
	return b, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: digest.FromBytes(b), Size: int64(len(b))}
}

// TestHostileGraphs: graphs no honest registry serves.
func TestHostileGraphs(t *testing.T) {
	t.Parallel()
	t.Run("index that references itself", func(t *testing.T) {
		t.Parallel()
		img := hostileImage(t)
		h := newHostile(t, img)
		// The index names a child at a digest; asked for it, the server
		// answers the index itself.
		raw, desc := indexOf(ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: digest.FromString("child"), Size: 1000})
		h.on(`^(GET|HEAD) /v2/app/manifests/`, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
			w.Header().Set("Docker-Content-Digest", desc.Digest.String())
			w.Write(raw)
		})
		bounded(t, nil, []string{"sha256:" + digest.FromString("child").Encoded()[:12]}, pullArgs(t, h)...)
		if n := h.count("manifests"); n > 10 {
			t.Errorf("%d manifest requests", n)
		}
	})
	t.Run("1000-deep index chain", func(t *testing.T) {
		t.Parallel()
		img := hostileImage(t)
		nestIndexes(img, 1000, 1)
		h := newHostile(t, img)
		bounded(t, nil, []string{"indexes are nested more than 32 deep"}, pullArgs(t, h)...)
	})
	t.Run("index naming its child twice, 30 levels", func(t *testing.T) {
		t.Parallel()
		img := hostileImage(t)
		nestIndexes(img, 30, 2)
		h := newHostile(t, img)
		bounded(t, nil, []string{"the image graph holds more than 10000 manifests"}, pullArgs(t, h)...)
	})
	for _, bad := range []string{"sha256:../../../../etc/passwd", "md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:" + strings.Repeat("A", 64)} {
		t.Run("child digest "+bad, func(t *testing.T) {
			t.Parallel()
			img := hostileImage(t)
			raw, desc := indexOf(ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.Digest(bad), Size: 100})
			img.Blobs[desc.Digest] = raw
			img.Root = desc
			h := newHostile(t, img)
			bounded(t, nil, []string{"digest"}, pullArgs(t, h)...)
			if n := h.count(`\.\.|md5|AAAA`); n != 0 {
				t.Errorf("%d requests for the bad digest's path", n)
			}
		})
	}
}
