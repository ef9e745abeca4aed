package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// object is a JSON object that keeps its members' order and the exact bytes
// of every value, so that hoist can change one member of a file it shares
// with docker and leave the rest byte for byte as it found them.
type object struct {
	members []member
}

type member struct {
	key string
	raw json.RawMessage
}

// parseObject parses data, which must hold one JSON object. Empty input
// (only white space) is an empty object, as docker treats an empty
// config.json. A later duplicate key replaces the earlier value in place.
func parseObject(data []byte) (*object, error) {
	o := &object{}
	if len(bytes.TrimSpace(data)) == 0 {
		return o, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("want a JSON object, found %s", describeToken(tok))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("want an object key, found %s", describeToken(tok))
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		o.set(key, raw)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the JSON object")
	}
	return o, nil
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", v.String())
	case string:
		return "a string"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// get returns the raw value of key, or nil.
func (o *object) get(key string) json.RawMessage {
	for _, m := range o.members {
		if m.key == key {
			return m.raw
		}
	}
	return nil
}

// set replaces the value of key, or appends key at the end.
func (o *object) set(key string, raw json.RawMessage) {
	for i := range o.members {
		if o.members[i].key == key {
			o.members[i].raw = raw
			return
		}
	}
	o.members = append(o.members, member{key, raw})
}

// setString sets key to the JSON string s.
func (o *object) setString(key, s string) {
	o.set(key, jsonString(s))
}

// del removes key and reports whether it was there.
func (o *object) del(key string) bool {
	for i := range o.members {
		if o.members[i].key == key {
			o.members = append(o.members[:i], o.members[i+1:]...)
			return true
		}
	}
	return false
}

// encode renders o the way docker writes config.json (tab indentation), as
// it would appear at the given nesting depth. Values are written exactly as
// they were parsed or set.
func (o *object) encode(depth int) json.RawMessage {
	if len(o.members) == 0 {
		return json.RawMessage("{}")
	}
	var b bytes.Buffer
	inner := strings.Repeat("\t", depth+1)
	b.WriteString("{\n")
	for i, m := range o.members {
		b.WriteString(inner)
		b.Write(jsonString(m.key))
		b.WriteString(": ")
		b.Write(m.raw)
		if i < len(o.members)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(strings.Repeat("\t", depth))
	b.WriteByte('}')
	return b.Bytes()
}

// jsonString encodes s as a JSON string without HTML escaping, the way it
// most likely appeared in a hand-written or docker-written file.
func jsonString(s string) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
