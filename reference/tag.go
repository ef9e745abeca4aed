package reference

import (
	"fmt"
	"regexp"
)

// DefaultTag is the tag a reference without tag or digest stands for.
const DefaultTag = "latest"

// tagRE is docker's tag grammar.
var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

const tagRule = "tags start with a letter, digit or underscore and are at most 128 characters"

// ValidateTag checks tag against docker's grammar: a letter, digit or '_',
// then up to 127 letters, digits, '_', '.' or '-'. The error is an *Error
// matching ErrInvalid.
func ValidateTag(tag string) error {
	return checkTag(tag, tag)
}

// checkTag validates tag as part of input.
func checkTag(input, tag string) error {
	if tagRE.MatchString(tag) {
		return nil
	}
	return invalid(input, "tag", tag, tagProblem(tag, input != tag))
}

// tagProblem explains why tag does not match tagRE. afterColon says the
// tag was written after a ':' in a reference.
func tagProblem(tag string, afterColon bool) string {
	switch {
	case tag == "" && afterColon:
		return `empty; write a tag after the ":" or remove the ":"`
	case tag == "":
		return "empty; " + tagRule
	case !isWord(tag[0]):
		return tagRule
	case len(tag) > 128:
		return fmt.Sprintf("%s; this one has %d", tagRule, len(tag))
	}
	for i := 0; i < len(tag); i++ {
		if c := tag[i]; !isWord(c) && c != '.' && c != '-' {
			return fmt.Sprintf("%s is not allowed; tags hold only letters, digits, '_', '.' and '-'", charAt(tag, i))
		}
	}
	return tagRule
}

func isWord(c byte) bool { return isAlnum(c) || c == '_' }
