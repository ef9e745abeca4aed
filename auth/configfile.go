package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
)

// maxConfigSize caps how much of a credentials file hoist reads; docker's
// files are a few kilobytes.
const maxConfigSize = 16 << 20

// configFile is a docker config.json (or a containers auth.json, which has
// the same "auths" member) as hoist reads it. Members hoist does not own
// stay raw in obj.
type configFile struct {
	path        string
	exists      bool
	obj         *object
	auths       *object // nil when the file has no "auths" member
	credsStore  string
	credHelpers map[string]string
}

// loadConfig reads and parses path. A missing file, or the path "", is an
// empty config; a file that is not valid JSON, or whose known members have
// the wrong type, is an error that names the file.
func loadConfig(path string) (*configFile, error) {
	if path == "" {
		return &configFile{obj: &object{}}, nil
	}
	data, err := readCapped(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &configFile{path: path, obj: &object{}}, nil
	}
	if err != nil {
		return nil, err
	}
	return parseConfig(path, data)
}

func parseConfig(path string, data []byte) (*configFile, error) {
	bad := func(err error) error {
		return fmt.Errorf("%s is not a valid docker config file: %w; fix or remove it", path, err)
	}
	obj, err := parseObject(data)
	if err != nil {
		return nil, bad(err)
	}
	c := &configFile{path: path, exists: true, obj: obj}
	// docker decodes these members with encoding/json, which takes a
	// name in any letter case and applies every spelling in file order:
	// maps merge (a later entry wins), null empties a map and leaves a
	// string as it was.
	for _, m := range foldMembers(obj, "auths") {
		if isNull(m.raw) {
			c.auths = nil
			continue
		}
		a, err := parseObject(m.raw)
		if err != nil {
			return nil, bad(fmt.Errorf("%q: %w", m.key, err))
		}
		if c.auths == nil {
			c.auths = a
			continue
		}
		for _, e := range a.members {
			c.auths.set(e.key, e.raw)
		}
	}
	for _, m := range foldMembers(obj, "credsStore") {
		if err := json.Unmarshal(m.raw, &c.credsStore); err != nil {
			return nil, bad(fmt.Errorf("%q must be a string: %w", m.key, err))
		}
	}
	for _, m := range foldMembers(obj, "credHelpers") {
		if err := json.Unmarshal(m.raw, &c.credHelpers); err != nil {
			return nil, bad(fmt.Errorf("%q must map hosts to helper names: %w", m.key, err))
		}
	}
	return c, nil
}

// foldMembers returns the members of obj named name in any letter case,
// in file order, as encoding/json matches them to a field.
func foldMembers(obj *object, name string) []member {
	var out []member
	for _, m := range obj.members {
		if strings.EqualFold(m.key, name) {
			out = append(out, m)
		}
	}
	return out
}

// encode renders c as ConfigStore.update writes it: every member as it
// was, except that all spellings of "auths" become one "auths" holding
// c.auths, where the first of them stood (at the end if there was none).
// With c.auths nil the members are left as they are.
func (c *configFile) encode() []byte {
	members := c.obj.members
	if c.auths != nil {
		members = nil
		placed := false
		for _, m := range c.obj.members {
			if strings.EqualFold(m.key, "auths") {
				if !placed {
					members = append(members, member{"auths", c.auths.encode(1)})
					placed = true
				}
				continue
			}
			members = append(members, m)
		}
		if !placed {
			members = append(members, member{"auths", c.auths.encode(1)})
		}
	}
	return append((&object{members: members}).encode(0), '\n')
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("%s is larger than a credentials file can be (%d bytes)", path, maxConfigSize)
	}
	return data, nil
}

// helperFor returns the helper that config.json assigns to host, and the
// setting that chose it ("credHelpers[KEY]" or "credsStore"), or "". A
// credHelpers key spelled exactly as host's storage key wins over other
// spellings of the same registry, which are tried in sorted order.
func (c *configFile) helperFor(host string) (name, why string) {
	keys := make([]string, 0, len(c.credHelpers))
	for k := range c.credHelpers {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ei, ej := keys[i] == storageKey(host), keys[j] == storageKey(host)
		if ei != ej {
			return ei
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		if v := c.credHelpers[k]; v != "" && sameRegistry(k, host) {
			return v, fmt.Sprintf("credHelpers[%q]", k)
		}
	}
	if c.credsStore != "" {
		return c.credsStore, `"credsStore"`
	}
	return "", ""
}

// findEntry returns the key and raw value of the auths entry for host: the
// exact storage key first, else the first key (in file order) that names
// the same registry.
func findEntry(auths *object, host string) (string, json.RawMessage, bool) {
	if auths == nil {
		return "", nil, false
	}
	if raw := auths.get(storageKey(host)); raw != nil {
		return storageKey(host), raw, true
	}
	for _, m := range auths.members {
		if sameRegistry(m.key, host) {
			return m.key, m.raw, true
		}
	}
	return "", nil, false
}

// authEntry is one member of "auths".
type authEntry struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// decodeEntry turns an auths entry into a Credential. An entry with no
// secret at all (docker leaves `{}` behind when a helper holds the secret)
// is the zero Credential; an entry that names a user but carries no
// password or token, or whose "auth" is not base64 of "user:password", is
// an error naming the file and key.
func decodeEntry(path, key string, raw json.RawMessage) (Credential, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: entry %q %s; log in again to rewrite it", path, key, fmt.Sprintf(format, args...))
	}
	var e authEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return Credential{}, bad("is not a valid auth entry: %v", err)
	}
	c := Credential{Username: e.Username, Password: e.Password, IdentityToken: e.IdentityToken, RegistryToken: e.RegistryToken}
	if e.Auth != "" {
		dec, err := decodeBase64(e.Auth)
		if err != nil {
			return Credential{}, bad(`has an "auth" field that is not valid base64`)
		}
		user, pass, ok := strings.Cut(string(dec), ":")
		if !ok {
			return Credential{}, bad(`has an "auth" field that does not decode to user:password`)
		}
		c.Username, c.Password = user, pass
	}
	if c.IsZero() && c.Username != "" {
		return Credential{}, bad("has the username %q but no password or token", c.Username)
	}
	return c, nil
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

func encodeAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}
