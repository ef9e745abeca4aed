package remote

import "github.com/hoist-dev/hoist/store"

// ReferrersOnlyInTags reports whether the registry has shown it lacks the
// referrers API (store.ReferrersInTags); false until a listing or a push
// of a referrer asked it.
func (r *Repository) ReferrersOnlyInTags() bool {
	api, known := r.repo.ReferrersAPI()
	return known && !api
}

var _ store.ReferrersInTags = (*Repository)(nil)
