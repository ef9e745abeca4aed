package testutil

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// V1Image is one image of a v1 test chain as the original client's
// testdata keeps it: a directory named by the image ID holding json,
// layer, checksum-payload and ancestry.
type V1Image struct {
	ID       string
	JSON     []byte
	Layer    []byte
	Payload  string   // checksum-payload, trimmed
	Ancestry []string // the image and its parents, newest first
}

// V1Chain reads the images ids from dir (dir/ID/...), in the order given;
// a missing or malformed file fails t.
func V1Chain(t testing.TB, dir string, ids ...string) []V1Image {
	t.Helper()
	var out []V1Image
	for _, id := range ids {
		read := func(name string) []byte {
			b, err := os.ReadFile(filepath.Join(dir, id, name))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		img := V1Image{ID: id, JSON: read("json"), Layer: read("layer"), Payload: strings.TrimSpace(string(read("checksum-payload")))}
		if err := json.Unmarshal(read("ancestry"), &img.Ancestry); err != nil {
			t.Fatalf("%s: ancestry: %v", filepath.Join(dir, id), err)
		}
		out = append(out, img)
	}
	return out
}
