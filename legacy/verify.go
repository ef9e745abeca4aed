package legacy

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/legacy/tarsum"
)

// checksumKind says how a published v1 checksum is computed.
type checksumKind int

const (
	checksumUnknown checksumKind = iota
	checksumPayload              // "sha256:" + sha256(json + "\n" + layer)
	checksumTarSum               // "tarsum+sha256:" TarSum v0 with the JSON as extra
)

func kindOfChecksum(c string) checksumKind {
	switch {
	case strings.HasPrefix(c, "sha256:") && len(c) == len("sha256:")+64:
		return checksumPayload
	case strings.HasPrefix(c, tarsum.Label+":") && len(c) == len(tarsum.Label)+1+64:
		return checksumTarSum
	}
	return checksumUnknown
}

// verifiedLayer checks a layer against a published checksum as it is
// read. A mismatch, or for a TarSum a layer that is not a tar, is an error
// from Read in place of io.EOF, so a reader that reached EOF has verified
// the layer.
type verifiedLayer struct {
	rc      io.ReadCloser
	what    string
	imgJSON []byte
	want    string
	payload *tarsum.Payload // checksumPayload
	ts      *tarsum.Writer  // checksumTarSum
	done    error           // result at EOF, sticky
}

// verifyLayer wraps rc to check it against checksum, one of the forms
// kindOfChecksum knows; with any other checksum it returns rc as it is
// and false.
func verifyLayer(rc io.ReadCloser, what string, imgJSON []byte, checksum string) (io.ReadCloser, bool) {
	v := &verifiedLayer{rc: rc, what: what, imgJSON: imgJSON, want: checksum}
	switch kindOfChecksum(checksum) {
	case checksumPayload:
		v.payload = tarsum.NewPayload(imgJSON)
	case checksumTarSum:
		v.ts = tarsum.NewWriter()
	default:
		return rc, false
	}
	return v, true
}

func (v *verifiedLayer) Read(p []byte) (int, error) {
	if v.done != nil {
		return 0, v.done
	}
	n, err := v.rc.Read(p)
	if n > 0 {
		if v.payload != nil {
			v.payload.Write(p[:n])
		} else {
			v.ts.Write(p[:n])
		}
	}
	if err == io.EOF {
		v.done = v.check()
		if v.done != io.EOF {
			return n, v.done
		}
	}
	return n, err
}

// check computes the checksum at EOF: io.EOF when it matches.
func (v *verifiedLayer) check() error {
	var got string
	if v.payload != nil {
		got = v.payload.Sum()
	} else {
		if err := v.ts.Close(); err != nil {
			return fmt.Errorf("%s: checking its %s: %w", v.what, tarsum.Label, err)
		}
		var err error
		if got, err = v.ts.Sum(v.imgJSON); err != nil {
			return fmt.Errorf("%s: checking its %s: %w", v.what, tarsum.Label, err)
		}
	}
	if got != v.want {
		return fmt.Errorf("%s: the bytes received have checksum %s, the registry published %s: %w", v.what, got, v.want, errcode.ErrDigestMismatch)
	}
	return io.EOF
}

// Close ends the check and closes the layer.
func (v *verifiedLayer) Close() error {
	if v.ts != nil {
		v.ts.Close()
	}
	if v.done == nil {
		v.done = fmt.Errorf("%s: %w", v.what, http.ErrBodyReadAfterClose)
	}
	return v.rc.Close()
}
