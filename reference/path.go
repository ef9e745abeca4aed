package reference

import (
	"fmt"
	"regexp"
	"strings"
)

// NameTotalLengthMax is the longest registry/repository name accepted,
// counted after normalisation ("ubuntu" counts as
// "docker.io/library/ubuntu"), as docker counts it.
const NameTotalLengthMax = 255

// componentRE is one repository path component of the OCI distribution
// spec.
var componentRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$`)

const componentRule = "components are lowercase letters and digits, separated by one '.', one or two '_', or any number of '-'"

// checkPath validates a repository path (without its registry).
// registry is the host the path came after, "" when none was written; it
// only sharpens the messages.
func checkPath(input, registry, path string) error {
	if path == "" {
		if registry != "" {
			return invalidRef(input, fmt.Sprintf("no repository after the registry %q; write e.g. %q", registry, registry+"/app"))
		}
		return invalidRef(input, "no repository name; write e.g. \"ubuntu\" or \"registry.example.com/app\"")
	}
	if lower := strings.ToLower(path); lower != path && checkComponents(input, lower) == nil {
		msg := fmt.Sprintf("repository name must be lowercase: %q", path)
		if input != path {
			msg += fmt.Sprintf(" in %q", input)
		}
		return &Error{Input: input, Part: "repository", Value: path, Reason: "must be lowercase", msg: msg}
	}
	return checkComponents(input, path)
}

// checkComponents checks each '/'-separated component of path.
func checkComponents(input, path string) error {
	comps := strings.Split(path, "/")
	for i, c := range comps {
		switch {
		case c != "":
		case i == 0:
			return invalid(input, "repository", path, `starts with "/"; remove it`)
		case i == len(comps)-1:
			return invalid(input, "repository", path, `ends with "/"; remove it`)
		default:
			return invalid(input, "repository", path, `empty path component; remove the extra "/"`)
		}
		if componentRE.MatchString(c) {
			continue
		}
		if strings.ContainsRune(c, ':') {
			return invalidRef(input, fmt.Sprintf(`unexpected ":" in %q; ":" may only start the tag (after the last "/") or a registry port ("host:port/repository")`, c))
		}
		return invalid(input, "repository path component", c, componentProblem(c))
	}
	return nil
}

// componentProblem explains why c does not match componentRE.
func componentProblem(c string) string {
	for i := 0; i < len(c); i++ {
		b := c[i]
		if !isLowerAlnum(b) && b != '.' && b != '_' && b != '-' {
			return fmt.Sprintf("%s is not allowed; %s", charAt(c, i), componentRule)
		}
	}
	if !isLowerAlnum(c[0]) || !isLowerAlnum(c[len(c)-1]) {
		return "it must start and end with a lowercase letter or digit; " + componentRule
	}
	// Every character is allowed and the ends are fine, so a run of
	// separators is wrong: "..", "___", "._" and the like.
	for i := 0; i < len(c); {
		j := i
		for j < len(c) && !isLowerAlnum(c[j]) {
			j++
		}
		if sep := c[i:j]; sep != "" && sep != "." && sep != "_" && sep != "__" && strings.Trim(sep, "-") != "" {
			return fmt.Sprintf("separator %q is not allowed; %s", sep, componentRule)
		}
		i = j + 1
	}
	return componentRule
}

func isLowerAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// ValidateRepository checks a repository path on its own, without a
// registry: lower-case components of letters and digits, joined inside by
// '.', '_', "__" or dashes, separated by '/', at most NameTotalLengthMax
// characters. Errors match ErrInvalid and name the bad component.
func ValidateRepository(path string) error {
	if len(path) > NameTotalLengthMax {
		return invalidRef(path, fmt.Sprintf("the repository name is %d characters long; the limit is %d", len(path), NameTotalLengthMax))
	}
	return checkPath(path, "", path)
}
