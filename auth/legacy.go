package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// loadDockerCfg reads the legacy ~/.dockercfg into an auths object. It has
// two forms: a JSON map from server address to {"auth", "email"}, and an
// older two-line form ("auth = BASE64", "email = EMAIL") that holds Docker
// Hub's entry only. A missing file is nil, nil.
func loadDockerCfg(path string) (*object, error) {
	if path == "" {
		return nil, nil
	}
	data, err := readCapped(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseDockerCfg(path, data)
}

// parseDockerCfg parses the contents of the .dockercfg at path, in either
// form; an error names path.
func parseDockerCfg(path string, data []byte) (*object, error) {
	if obj, jsonErr := parseObject(data); jsonErr == nil {
		return obj, nil
	} else if entry, ok := parseTwoLine(string(data)); ok {
		return &object{members: []member{{hubKey, entry}}}, nil
	} else {
		return nil, fmt.Errorf("%s is neither a JSON map of credentials (%v) nor the two-line \"auth = ...\" / \"email = ...\" form; fix or remove it", path, jsonErr)
	}
}

// parseTwoLine parses "auth = BASE64\nemail = EMAIL" into an auths entry.
func parseTwoLine(s string) (json.RawMessage, bool) {
	entry := &object{}
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, false
		}
		switch k = strings.TrimSpace(k); k {
		case "auth", "email":
			entry.setString(k, strings.TrimSpace(v))
		default:
			return nil, false
		}
	}
	if entry.get("auth") == nil {
		return nil, false
	}
	return entry.encode(0), true
}
