package auth

import (
	"context"
	"net/http"
	"reflect"
	"testing"
)

func TestRequestScopes(t *testing.T) {
	tests := []struct {
		method, url string
		want        []string
	}{
		{"GET", "/v2/", []string{}},
		{"GET", "/v2/library/alpine/manifests/latest", []string{"repository:library/alpine:pull"}},
		{"HEAD", "/v2/a/blobs/sha256:abc", []string{"repository:a:pull"}},
		{"GET", "/v2/a/tags/list?n=10", []string{"repository:a:pull"}},
		{"GET", "/v2/a/referrers/sha256:abc", []string{"repository:a:pull"}},
		{"POST", "/v2/a/b/blobs/uploads/", []string{"repository:a/b:pull,push"}},
		{"PATCH", "/v2/a/blobs/uploads/uuid?_state=x", []string{"repository:a:pull,push"}},
		{"PUT", "/v2/a/manifests/v1", []string{"repository:a:pull,push"}},
		{"DELETE", "/v2/a/manifests/sha256:abc", []string{"repository:a:delete,pull"}},
		{"GET", "/v2/_catalog?n=100", []string{"registry:catalog:*"}},
		{"POST", "/v2/dst/blobs/uploads/?mount=sha256:abc&from=src/repo", []string{"repository:dst:pull,push", "repository:src/repo:pull"}},
		{"POST", "/v2/dst/blobs/uploads/?from=src", []string{"repository:dst:pull,push"}},
		{"GET", "/v2/my/blobs/store/manifests/latest", []string{"repository:my/blobs/store:pull"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.url, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, "https://r.example"+tt.url, nil)
			if got := requestScopes(req).strings(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("scopes = %q, want %q", got, tt.want)
			}
		})
	}
	ctx := ContextWithScopes(ContextWithScopes(context.Background(), "repository:x:pull"), "repository:a:push")
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://r.example/v2/a/manifests/latest", nil)
	if got, want := requestScopes(req).strings(), []string{"repository:a:pull,push", "repository:x:pull"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("with context scopes = %q, want %q", got, want)
	}
}

func TestScopeSetCovers(t *testing.T) {
	set := func(s ...string) scopeSet { ss := scopeSet{}; ss.add(s...); return ss }
	have := set("repository:a:pull,push registry:catalog:*", "repository:host:5000/b:pull")
	for _, tt := range []struct {
		want string
		ok   bool
	}{
		{"repository:a:pull", true},
		{"repository:a:push,pull", true},
		{"repository:a:delete", false},
		{"registry:catalog:search", true},
		{"repository:host:5000/b:pull", true},
		{"repository:b:pull", false},
	} {
		if got := have.covers(set(tt.want)); got != tt.ok {
			t.Errorf("covers(%s) = %v", tt.want, got)
		}
	}
}
