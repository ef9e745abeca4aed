package testutil

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// A schedule strikes the same requests with the same kinds from the same
// seed, whatever else differs between runs (here: the upload session ids),
// and other requests from another seed.
func TestScheduleReplays(t *testing.T) {
	run := func(seed uint64, session string) []string {
		reg := NewRegistry(t)
		p := NewFaultProxy(t, reg.URL, Schedule(seed, 0.3, "", Fault500, Fault503, Fault429))
		var out []string // as the client saw them: the proxy logs as handlers end
		for i := range 20 {
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v2/app/blobs/uploads/%s-%d", p.URL, session, i%5), nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			out = append(out, fmt.Sprint(resp.StatusCode))
		}
		return out
	}
	a, b, c := run(7, "one"), run(7, "two"), run(8, "one")
	if !slices.Equal(a, b) {
		t.Fatalf("seed 7 struck differently in two runs:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Fatalf("seeds 7 and 8 struck the same requests: %v", a)
	}
	struck := 0
	for _, s := range a {
		if s != "404" {
			struck++
		}
	}
	if struck == 0 || struck == len(a) {
		t.Fatalf("rate 0.3 struck %d of %d requests", struck, len(a))
	}
}
