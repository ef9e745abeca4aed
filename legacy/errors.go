package legacy

import (
	"errors"
	"fmt"

	"github.com/hoist-dev/hoist/errcode"
)

var (
	// ErrImageExists is returned (wrapped) by Session.PutImageJSON when
	// the registry already has the image ({"error": "Image already
	// exists"}). Push takes it as "skip this image".
	ErrImageExists = errors.New("image already exists")

	// ErrAccountInactive is returned (wrapped, together with
	// auth.ErrBadCredentials) by Login when the account exists but has not
	// been activated yet: follow the activation link the index sent.
	ErrAccountInactive = errors.New("account is not active")

	// ErrUnsupportedLayer is returned (wrapped) when a layer cannot cross
	// between v1 and OCI: v1 layers are tar archives, plain or compressed
	// with gzip (hoist also reads bzip2); xz and zstd are not converted.
	ErrUnsupportedLayer = errors.New("unsupported layer format")
)

// errTagNotFound is wrapped for a tag a repository does not have; it
// matches errcode.ErrNotFound.
var errTagNotFound = fmt.Errorf("tag not found: %w", errcode.ErrNotFound)
