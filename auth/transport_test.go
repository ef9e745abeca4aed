package auth

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/testutil"
)

var alice = map[string]string{"alice": "secret"}

func newClient(rt http.RoundTripper) *http.Client { return &http.Client{Transport: rt} }

func TestBasicAgainstRegistry(t *testing.T) {
	rec := &recorder{}
	reg := testutil.NewRegistry(t, testutil.WithHtpasswd(alice), testutil.WithMiddleware(rec.wrap))
	f := newFiles(t)
	writeFile(t, f.config, `{"auths":{"`+reg.Host+`":{"auth":"`+b64("alice:secret")+`"}}}`)
	c := newClient(NewTransport(&http.Transport{}, reg.Host, f.store))

	expect(t, do(t, c, http.MethodGet, reg.URL+"/v2/", nil), http.StatusOK)
	data := []byte("basic blob")
	d := pushBlob(t, c, reg.URL, "team/app", data)
	if got := expect(t, do(t, c, http.MethodGet, reg.URL+"/v2/team/app/blobs/"+d, nil), http.StatusOK); !bytes.Equal(got, data) {
		t.Fatalf("blob = %q", got)
	}
	if n := rec.count(http.StatusUnauthorized); n != 1 {
		t.Errorf("the registry answered 401 %d times; once the challenge is known Basic goes up front", n)
	}

	for name, cred := range map[string]Credential{"wrong password": {Username: "alice", Password: "nope"}, "anonymous": {}} {
		t.Run(name, func(t *testing.T) {
			c := newClient(NewTransport(&http.Transport{}, reg.Host, Static(cred)))
			expect(t, do(t, c, http.MethodGet, reg.URL+"/v2/", nil), http.StatusUnauthorized)
		})
	}
}

func TestBearerAgainstRegistry(t *testing.T) {
	ts := testutil.NewTokenServer(t, alice, time.Hour, false)
	rec := &recorder{}
	reg := testutil.NewRegistry(t, testutil.WithTokenAuth(ts), testutil.WithMiddleware(rec.wrap))
	clock := newFakeClock()
	c := newClient(NewTransport(&http.Transport{}, reg.Host, Static(Credential{Username: "alice", Password: "secret"}), WithClock(clock)))

	scopes := func() [][]string {
		var out [][]string
		for _, r := range ts.Requests() {
			if r.Method != http.MethodGet || r.User != "alice" || r.Status != http.StatusOK {
				t.Errorf("token request %+v, want a GET as alice that succeeded", r)
			}
			out = append(out, r.Scopes)
		}
		return out
	}
	want := [][]string{}
	check := func(step string, add ...[]string) {
		t.Helper()
		want = append(want, add...)
		if got := scopes(); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: token requests asked for %q, want %q", step, got, want)
		}
	}

	// A pull on a new repository gets a pull token after one 401.
	expect(t, do(t, c, http.MethodGet, reg.URL+"/v2/team/app/manifests/latest", nil), http.StatusNotFound)
	check("pull", []string{"repository:team/app:pull"})

	// A push to it needs more: a new token, asked for up front.
	data := []byte("bearer blob")
	d := pushBlob(t, c, reg.URL, "team/app", data)
	check("push", []string{"repository:team/app:pull,push"})

	// Mounting asks for pull on the source and pull,push on the target.
	resp := do(t, c, http.MethodPost, reg.URL+"/v2/team/copy/blobs/uploads/?mount="+d+"&from=team/app", nil)
	expect(t, resp, http.StatusCreated)
	check("mount", []string{"repository:team/app:pull", "repository:team/copy:pull,push"})

	// A pull the push token covers needs no new token.
	if got := expect(t, do(t, c, http.MethodGet, reg.URL+"/v2/team/app/blobs/"+d, nil), http.StatusOK); !bytes.Equal(got, data) {
		t.Fatalf("blob = %q", got)
	}
	check("cached")
	if n := rec.count(http.StatusUnauthorized); n != 1 {
		t.Errorf("the registry answered 401 %d times, want 1: known challenges get tokens up front", n)
	}

	// Once the token server's expires_in has passed, a new token.
	clock.Advance(time.Hour + time.Second)
	expect(t, do(t, c, http.MethodGet, reg.URL+"/v2/team/app/blobs/"+d, nil), http.StatusOK)
	check("expired", []string{"repository:team/app:pull"})

	// The catalog and scopes from the context.
	ctx := ContextWithScopes(context.Background(), "repository:other/repo:pull")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, reg.URL+"/v2/_catalog", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	check("catalog", []string{"registry:catalog:*", "repository:other/repo:pull"})
}

func TestIdentityTokenAgainstRegistry(t *testing.T) {
	ts := testutil.NewTokenServer(t, alice, time.Hour, false)
	reg := testutil.NewRegistry(t, testutil.WithTokenAuth(ts))
	f := newFiles(t)
	writeFile(t, f.config, `{"auths":{"`+reg.Host+`":{"auth":"`+b64("alice:")+`","identitytoken":"`+ts.RefreshTokenFor("alice")+`"}}}`)
	c := newClient(NewTransport(&http.Transport{}, reg.Host, f.store))
	pushBlob(t, c, reg.URL, "team/app", []byte("via refresh token"))
	reqs := ts.Requests()
	if len(reqs) == 0 {
		t.Fatal("no token requests")
	}
	for _, r := range reqs {
		if r.Method != http.MethodPost || r.GrantType != "refresh_token" || r.User != "alice" || r.Status != http.StatusOK {
			t.Errorf("token request %+v, want a POST refresh_token grant for alice", r)
		}
	}
}

func TestAnonymousStopsAfterOneRetry(t *testing.T) {
	ts := testutil.NewTokenServer(t, alice, time.Hour, false)
	rec := &recorder{}
	reg := testutil.NewRegistry(t, testutil.WithTokenAuth(ts), testutil.WithMiddleware(rec.wrap))
	c := newClient(NewTransport(&http.Transport{}, reg.Host, nil))
	for range 2 {
		expect(t, do(t, c, http.MethodGet, reg.URL+"/v2/team/app/manifests/latest", nil), http.StatusUnauthorized)
	}
	// The first pull is sent bare, then once with the anonymous token; the
	// second carries that token up front and is not retried with the same.
	if n := len(rec.all()); n != 3 {
		t.Errorf("registry saw %d requests for 2 refused pulls, want 3", n)
	}
	if n := len(ts.Requests()); n != 1 {
		t.Errorf("%d token requests, want 1 (the anonymous token is cached)", n)
	}
}

func TestBadCredentialsFromTokenServer(t *testing.T) {
	ts := testutil.NewTokenServer(t, alice, time.Hour, false)
	reg := testutil.NewRegistry(t, testutil.WithTokenAuth(ts))
	c := newClient(NewTransport(&http.Transport{}, reg.Host, Static(Credential{Username: "alice", Password: "wrong"})))
	_, err := c.Get(reg.URL + "/v2/")
	if !errors.Is(err, ErrBadCredentials) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("err = %v, want ErrBadCredentials without the password", err)
	}
}

// revokeOnce answers the first PUT that carries a token with the 401 a
// registry gives a revoked token.
func revokeOnce(realm, service string) func(http.Handler) http.Handler {
	var once sync.Once
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			revoke := false
			if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") && r.Method == http.MethodPut {
				once.Do(func() { revoke = true })
			}
			if revoke {
				io.Copy(io.Discard, r.Body)
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`",service="`+service+`",error="invalid_token"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestBodyReplay(t *testing.T) {
	data := []byte("monolithic upload")
	for _, tt := range []struct {
		name       string
		replayable bool
	}{{"GetBody set: re-sent with a new token", true}, {"no GetBody: a clear error", false}} {
		t.Run(tt.name, func(t *testing.T) {
			ts := testutil.NewTokenServer(t, alice, time.Hour, false)
			reg := testutil.NewRegistry(t, testutil.WithTokenAuth(ts), testutil.WithMiddleware(revokeOnce(ts.URL+"/token", ts.Service)))
			c := newClient(NewTransport(&http.Transport{}, reg.Host, Static(Credential{Username: "alice", Password: "secret"})))
			req := uploadRequest(t, c, reg.URL, data, bytes.NewReader(data))
			if !tt.replayable {
				req.Body, req.GetBody = io.NopCloser(bytes.NewReader(data)), nil
			}
			resp, err := c.Do(req)
			if tt.replayable {
				if err != nil {
					t.Fatal(err)
				}
				expect(t, resp, http.StatusCreated)
				return
			}
			if !errors.Is(err, ErrBodyNotReplayable) || !strings.Contains(err.Error(), "GetBody") {
				t.Fatalf("err = %v, want ErrBodyNotReplayable", err)
			}
		})
	}
}

// A request with a body that cannot be replayed, sent first: the transport
// learns the challenge with GET /v2/ before it spends the body.
func TestUnreplayableBodyFirst(t *testing.T) {
	ts := testutil.NewTokenServer(t, alice, time.Hour, false)
	reg := testutil.NewRegistry(t, testutil.WithTokenAuth(ts))
	cred := Static(Credential{Username: "alice", Password: "secret"})
	data := []byte("streamed")
	req := uploadRequest(t, newClient(NewTransport(&http.Transport{}, reg.Host, cred)), reg.URL, data, io.NopCloser(bytes.NewReader(data)))
	// A fresh transport, which has not met the registry's challenge yet.
	resp, err := newClient(NewTransport(&http.Transport{}, reg.Host, cred)).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, resp, http.StatusCreated)
}

func TestConcurrentRequestsShareOneToken(t *testing.T) {
	ts := testutil.NewTokenServer(t, alice, time.Hour, false)
	reg := testutil.NewRegistry(t, testutil.WithTokenAuth(ts))
	c := newClient(NewTransport(&http.Transport{}, reg.Host, Static(Credential{Username: "alice", Password: "secret"})))
	expect(t, do(t, c, http.MethodGet, reg.URL+"/v2/", nil), http.StatusOK)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			resp, err := c.Get(reg.URL + "/v2/team/app/tags/list")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	if n := len(ts.Requests()); n != 2 {
		t.Errorf("%d token requests, want 2 (one for /v2/, one shared by 8 concurrent pulls)", n)
	}
}

// uploadRequest starts an upload to team/app with c and returns the PUT
// that completes it with body.
func uploadRequest(t *testing.T, c *http.Client, base string, data []byte, body io.Reader) *http.Request {
	t.Helper()
	resp := do(t, c, http.MethodPost, base+"/v2/team/app/blobs/uploads/", nil)
	expect(t, resp, http.StatusAccepted)
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	q.Set("digest", digestOf(data))
	loc.RawQuery = q.Encode()
	req, err := http.NewRequest(http.MethodPut, loc.String(), body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(data))
	return req
}

// A token realm that refuses anonymous requests (distribution's
// contrib/token-server) means what the registry's 401 means: credentials
// are needed. The caller gets that 401, not a token error.
func TestAnonymousRefusedByTokenRealm(t *testing.T) {
	ts := testutil.NewTokenServer(t, alice, time.Hour, false)
	ts.RefuseAnonymous()
	reg := testutil.NewRegistry(t, testutil.WithTokenAuth(ts))
	c := newClient(NewTransport(&http.Transport{}, reg.Host, nil))
	body := expect(t, do(t, c, http.MethodGet, reg.URL+"/v2/team/app/manifests/latest", nil), http.StatusUnauthorized)
	if !strings.Contains(string(body), "UNAUTHORIZED") {
		t.Fatalf("body %q is not the registry's 401", body)
	}

	// Wrong credentials are still an error that says so.
	c = newClient(NewTransport(&http.Transport{}, reg.Host, Static(Credential{Username: "alice", Password: "wrong"})))
	if _, err := c.Get(reg.URL + "/v2/team/app/manifests/latest"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password: %v, want ErrBadCredentials", err)
	}
}

// ContextWithoutCredentials sends the request bare, even with stale
// credentials stored, and the challenge it meets is learnt: the next
// request authenticates up front.
func TestContextWithoutCredentials(t *testing.T) {
	ts := testutil.NewTokenServer(t, alice, time.Hour, false)
	ts.RefuseAnonymous()
	rec := &recorder{}
	reg := testutil.NewRegistry(t, testutil.WithTokenAuth(ts), testutil.WithMiddleware(rec.wrap))
	for _, cred := range []Credential{{Username: "alice", Password: "stale"}, {Username: "alice", Password: "secret"}} {
		c := newClient(NewTransport(&http.Transport{}, reg.Host, Static(cred)))
		req, _ := http.NewRequestWithContext(ContextWithoutCredentials(context.Background()), http.MethodGet, reg.URL+"/v2/", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("probe with %s: %v", cred, err)
		}
		expect(t, resp, http.StatusUnauthorized)
	}
	if n := len(ts.Requests()); n != 0 {
		t.Fatalf("%d token requests for two probes, want none", n)
	}
	// The last client (good credentials) learnt the challenge: a pull now
	// gets its token first and is not refused.
	c := newClient(NewTransport(&http.Transport{}, reg.Host, Static(Credential{Username: "alice", Password: "secret"})))
	req, _ := http.NewRequestWithContext(ContextWithoutCredentials(context.Background()), http.MethodGet, reg.URL+"/v2/", nil)
	resp, _ := c.Do(req)
	expect(t, resp, http.StatusUnauthorized)
	before := rec.count(http.StatusUnauthorized)
	expect(t, do(t, c, http.MethodGet, reg.URL+"/v2/team/app/tags/list", nil), http.StatusNotFound)
	if rec.count(http.StatusUnauthorized) != before {
		t.Fatal("the request after the probe met a 401: the challenge was not learnt")
	}
}

// A registry that answered a request of its API without asking for
// credentials (a new repository's tags listing: 404) has taught what a
// GET /v2/ would: a write with a body that follows is sent at once, with
// no GET /v2/ before it.
func TestBareAnswerTeachesNoAuth(t *testing.T) {
	rec := &recorder{}
	reg := testutil.NewRegistry(t, testutil.WithMiddleware(rec.wrap))
	c := newClient(NewTransport(&http.Transport{}, reg.Host, Static(Credential{Username: "alice", Password: "secret"})))
	expect(t, do(t, c, http.MethodGet, reg.URL+"/v2/team/new/tags/list?n=1", nil), http.StatusNotFound)
	data := []byte("streamed")
	req := uploadRequest(t, c, reg.URL, data, io.NopCloser(bytes.NewReader(data)))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, resp, http.StatusCreated)
	for _, h := range rec.all() {
		if h.path == "/v2/" {
			t.Fatalf("a GET /v2/ was sent after the registry answered without asking for credentials: %v", rec.all())
		}
		if h.authz != "" {
			t.Fatalf("%s %s carried credentials the registry never asked for", h.method, h.path)
		}
	}
}
