package distribution

import "strings"

// refName is how messages name ref, a tag or a digest, in repository
// name: "name:TAG" or "name@DIGEST", never "name:sha256:...".
func refName(name, ref string) string {
	if strings.Contains(ref, ":") {
		return name + "@" + ref
	}
	return name + ":" + ref
}
