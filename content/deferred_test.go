package content_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errcode"
)

func TestNewCounted(t *testing.T) {
	d := content.NewDescriptor("application/octet-stream", []byte("hello"))
	for _, c := range []struct {
		in      string
		wantErr bool
		got     string
	}{
		{"hello", false, "hello"},
		{"hellp", false, "hellp"}, // the digest is the receiver's to check
		{"hell", true, "hell"},
		{"hello!", true, "hello"},
	} {
		got, err := io.ReadAll(content.NewCounted(strings.NewReader(c.in), d))
		if string(got) != c.got {
			t.Errorf("%q: read %q, want %q", c.in, got, c.got)
		}
		if c.wantErr != (err != nil) || (err != nil && !errors.Is(err, errcode.ErrSizeMismatch)) {
			t.Errorf("%q: error %v, want a size mismatch: %v", c.in, err, c.wantErr)
		}
	}
}
