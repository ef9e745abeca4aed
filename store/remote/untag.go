package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/store"
)

// Untag removes tag from the repository with DELETE by tag
// (store.Untagger). Registries that delete manifests only (distribution
// 2.x, most hosted registries) refuse it with an error matching
// errdef.ErrUnsupported that says so. Some registries delete the manifest
// the tag named, with every other tag of it, when asked to delete a tag:
// a caller that must keep the manifest checks for it afterwards.
func (r *Repository) Untag(ctx context.Context, tag string) error {
	err := r.repo.DeleteManifest(ctx, tag)
	var e *errcode.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errdef.ErrUnsupported):
		return fmt.Errorf("%s does not delete tags, only manifests by digest (DELETE by tag refused): %w", r.ref.Registry, err)
	case errors.As(err, &e) && e.Status == http.StatusBadRequest && e.HasCode(errcode.CodeDigestInvalid):
		// distribution 2.x reads the tag as a digest and calls it invalid.
		// Its answer is not wrapped: it is no digest mismatch.
		return fmt.Errorf("%s does not delete tags, only manifests by digest (%w: DELETE by tag answered %v)", r.ref.Registry, errdef.ErrUnsupported, err)
	}
	return notFound(err, r.ref.Name()+":"+tag)
}

var _ store.Untagger = (*Repository)(nil)
