package transport

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/errcode"
)

// countingBody counts what is read of it and whether it was closed.
type countingBody struct {
	r      io.Reader
	n      int
	closed bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += n
	return n, err
}

func (b *countingBody) Close() error { b.closed = true; return nil }

func TestDrainReadsAtMostItsLimit(t *testing.T) {
	body := &countingBody{r: strings.NewReader(strings.Repeat("x", 1<<20))}
	Drain(&http.Response{Body: body})
	if body.n != drainLimit || !body.closed {
		t.Fatalf("Drain read %d bytes (closed %v); want %d and closed", body.n, body.closed, drainLimit)
	}
}

func TestExpect(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "https://registry.example/v2/app/manifests/v1", nil)
	resp := func(status int) *http.Response {
		return &http.Response{StatusCode: status, Header: http.Header{}, Request: req,
			Body: io.NopCloser(strings.NewReader(`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`))}
	}
	if err := Expect(resp(http.StatusOK), http.StatusOK, http.StatusNoContent); err != nil {
		t.Fatalf("Expect(200) = %v", err)
	}
	err := Expect(resp(http.StatusNotFound), http.StatusOK)
	var ee *errcode.Error
	if !errors.As(err, &ee) || !errors.Is(err, errcode.ErrNotFound) || !ee.HasCode(errcode.CodeManifestUnknown) {
		t.Fatalf("Expect(404) = %v, want the registry's answer as an *errcode.Error", err)
	}
}
