package blobio

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/content"
)

func TestContextReaderStopsAndForwards(t *testing.T) {
	data := []byte("layer bytes")
	d := content.NewDescriptor(content.MediaTypeOCILayerGzip, data)
	v, err := content.NewVerifier(bytes.NewReader(data), d)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := ContextReader(ctx, v)
	if got, ok := r.(content.Verifying).VerifiedAgainst(); !ok || got.Digest != d.Digest {
		t.Fatalf("VerifiedAgainst = %v, %v; want the verifier's descriptor", got, ok)
	}
	if _, ok := ContextReader(ctx, strings.NewReader("x")).(content.Verifying).VerifiedAgainst(); ok {
		t.Fatal("a plain reader claims verification")
	}
	cancel()
	if _, err := r.Read(make([]byte, 4)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read after cancel: %v", err)
	}
}

func TestCopy(t *testing.T) {
	src := strings.Repeat("0123456789", 100_000)
	var dst bytes.Buffer
	n, err := Copy(&dst, strings.NewReader(src))
	if err != nil || n != int64(len(src)) || dst.String() != src {
		t.Fatalf("Copy = %d, %v", n, err)
	}
}
