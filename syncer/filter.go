package syncer

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/reference"
)

// filter is a TagFilter compiled.
type filter struct {
	names      []string
	allow      []*regexp.Regexp
	deny       []*regexp.Regexp
	constraint *semver.Constraints
	latest     int
	pins       []pin
}

// pin is one entry of TagFilter.Digests.
type pin struct {
	tag    string // "" for a digest mirrored untagged
	digest digest.Digest
}

// key is how a pin is known in the state and the plan: its tag, or
// "@DIGEST".
func (p pin) key() string {
	if p.tag != "" {
		return p.tag
	}
	return "@" + p.digest.String()
}

// compileFilter checks f; nil is every tag.
func compileFilter(f *TagFilter) (*filter, error) {
	out := &filter{}
	if f == nil {
		return out, nil
	}
	for _, n := range f.Names {
		if err := reference.ValidateTag(n); err != nil {
			return nil, fmt.Errorf("names: %w", err)
		}
	}
	out.names = f.Names
	for _, p := range f.Allow {
		re, err := anchored(p)
		if err != nil {
			return nil, fmt.Errorf("allow %q: %w", p, err)
		}
		out.allow = append(out.allow, re)
	}
	for _, p := range f.Deny {
		re, err := anchored(p)
		if err != nil {
			return nil, fmt.Errorf("deny %q: %w", p, err)
		}
		out.deny = append(out.deny, re)
	}
	if f.Semver != "" {
		c, err := semver.NewConstraint(f.Semver)
		if err != nil {
			return nil, fmt.Errorf("semver %q: %w (write a range such as \">=1.2, <2\", \"~1.4\" or \"^3\")", f.Semver, err)
		}
		out.constraint = c
	}
	if f.Latest < 0 {
		return nil, fmt.Errorf("latest: %d: give how many of the highest versions to keep, or 0 for all", f.Latest)
	}
	out.latest = f.Latest
	if len(f.Names) > 0 && (len(f.Allow) > 0 || len(f.Deny) > 0 || f.Semver != "" || f.Latest > 0) {
		return nil, fmt.Errorf("names lists tags exactly; it does not combine with allow, deny, semver or latest")
	}
	for _, d := range f.Digests {
		tag, dg, ok := strings.Cut(d, "@")
		if !ok {
			tag, dg = "", d
		}
		p := pin{tag: tag, digest: digest.Digest(dg)}
		if err := p.digest.Validate(); err != nil {
			return nil, fmt.Errorf("digests: %q: want sha256:HEX or TAG@sha256:HEX: %w", d, err)
		}
		if tag != "" {
			if err := reference.ValidateTag(tag); err != nil {
				return nil, fmt.Errorf("digests: %q: %w", d, err)
			}
		}
		out.pins = append(out.pins, p)
	}
	return out, nil
}

// needsListing reports whether the source's tags must be listed.
func (f *filter) needsListing() bool {
	return len(f.names) == 0 && (len(f.pins) == 0 || f.hasPatterns())
}

// hasPatterns reports whether f selects listed tags by pattern or
// version (or takes them all).
func (f *filter) hasPatterns() bool {
	return len(f.allow) > 0 || len(f.deny) > 0 || f.constraint != nil || f.latest > 0
}

// selects reports whether tag passes the patterns (allow, deny, semver),
// not counting Latest: it says whether a tag is one this filter mirrors
// the like of, for pruning.
func (f *filter) selects(tag string) bool {
	if len(f.names) > 0 {
		for _, n := range f.names {
			if n == tag {
				return true
			}
		}
		return false
	}
	if len(f.pins) > 0 && !f.hasPatterns() {
		return false
	}
	if len(f.allow) > 0 {
		ok := false
		for _, re := range f.allow {
			if re.MatchString(tag) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, re := range f.deny {
		if re.MatchString(tag) {
			return false
		}
	}
	if f.constraint != nil || f.latest > 0 {
		v, err := semver.NewVersion(tag)
		if err != nil {
			return false
		}
		if f.constraint != nil && !f.constraint.Check(v) {
			return false
		}
	}
	return true
}

// apply returns the tags of listed that f mirrors, in listed's order,
// pinned tags left out (they are mirrored from their pins); without a
// listing (nil), f's names.
func (f *filter) apply(listed []string) []string {
	pinned := map[string]bool{}
	for _, p := range f.pins {
		if p.tag != "" {
			pinned[p.tag] = true
		}
	}
	if len(f.names) > 0 {
		var out []string
		for _, n := range f.names {
			if !pinned[n] {
				out = append(out, n)
			}
		}
		return out
	}
	var out []string
	for _, t := range listed {
		if !pinned[t] && f.selects(t) {
			out = append(out, t)
		}
	}
	if f.latest > 0 && len(out) > f.latest {
		type tv struct {
			tag string
			v   *semver.Version
		}
		vs := make([]tv, 0, len(out))
		for _, t := range out {
			v, _ := semver.NewVersion(t) // selects checked
			vs = append(vs, tv{t, v})
		}
		sort.SliceStable(vs, func(i, j int) bool {
			if c := vs[i].v.Compare(vs[j].v); c != 0 {
				return c > 0
			}
			return vs[i].tag < vs[j].tag // 1.2 and v1.2: both kept, in a fixed order
		})
		keep := map[string]bool{}
		for _, x := range vs[:f.latest] {
			keep[x.tag] = true
		}
		var kept []string
		for _, t := range out {
			if keep[t] {
				kept = append(kept, t)
			}
		}
		out = kept
	}
	return out
}

func parsePlatforms(ps []string) ([]ocispec.Platform, error) {
	var out []ocispec.Platform
	for _, p := range ps {
		pl, err := content.ParsePlatform(p)
		if err != nil {
			return nil, err
		}
		out = append(out, pl)
	}
	return out, nil
}
