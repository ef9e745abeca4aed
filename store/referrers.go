package store

// ReferrersInTags is a ReferrerLister that can say it keeps the referrers
// of a subject only under the subject's referrers tag
// (content.ReferrersTag, "sha256-HEX"), as a registry without the
// referrers API does. A caller that holds the store's tag list then knows
// that a subject whose referrers tag is not in it has no referrers, and
// need not ask.
type ReferrersInTags interface {
	// ReferrersOnlyInTags reports it, from what the store has learnt so
	// far: false while it does not know (it asks no one to find out).
	ReferrersOnlyInTags() bool
}
