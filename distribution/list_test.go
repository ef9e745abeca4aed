package distribution

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// listServer serves the tags of repository x with handle, and counts
// requests.
func listServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) (*Repository, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		handle(w, r)
	}))
	t.Cleanup(srv.Close)
	return mustRepo(t, client(t, strings.TrimPrefix(srv.URL, "http://")), "x"), &n
}

func tagsAfter(all []string, last string, max int) []string {
	start := 0
	if last != "" {
		start = slices.Index(all, last) + 1
	}
	return all[start:min(start+max, len(all))]
}

// A registry that cuts the list at a page size of its own, whatever n
// says, and sends no Link, is asked once more with last= after each page.
func TestTagsCutWithoutLink(t *testing.T) {
	all := []string{"a", "b", "c", "d", "e", "f", "g"}
	r, n := listServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"name":"x","tags":%s}`, mustJSON(t, tagsAfter(all, r.URL.Query().Get("last"), 3)))
	})
	for _, opts := range []ListOptions{{}, {PageSize: 100}} {
		n.Store(0)
		got, err := r.Tags(context.Background(), opts)
		if err != nil || !slices.Equal(got, all) {
			t.Fatalf("with %+v: %v %v; want all 7", opts, got, err)
		}
		if n.Load() != 4 {
			t.Fatalf("with %+v: %d requests, want 4 (3 pages and the empty one after)", opts, n.Load())
		}
	}
}

// A registry that ignores last= sends the same names again: the listing
// ends there, without duplicates.
func TestTagsLastIgnored(t *testing.T) {
	r, n := listServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"name":"x","tags":["a","b"]}`)
	})
	got, err := r.Tags(context.Background(), ListOptions{})
	if err != nil || !slices.Equal(got, []string{"a", "b"}) || n.Load() != 2 {
		t.Fatalf("%v %v after %d requests", got, err, n.Load())
	}
}

// An endless chain of distinct Link pages is stopped, with an error that
// says so, and a Link to another host is never followed.
func TestTagsPaginationBounded(t *testing.T) {
	r, n := listServer(t, func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("page"))
		w.Header().Set("Link", fmt.Sprintf(`</v2/x/tags/list?page=%d>; rel="next"`, p+1))
		fmt.Fprintf(w, `{"name":"x","tags":["t%d"]}`, p)
	})
	_, err := r.Tags(context.Background(), ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "past 10000 pages") || !strings.Contains(err.Error(), "ListOptions.Limit") {
		t.Fatalf("endless pagination: %v", err)
	}
	if n.Load() != MaxListPages {
		t.Fatalf("%d requests, want %d", n.Load(), MaxListPages)
	}

	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	r, _ = listServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `<`+other.URL+`/v2/x/tags/list?page=2>; rel="next"`)
		fmt.Fprint(w, `{"name":"x","tags":["a"]}`)
	})
	_, err = r.Tags(context.Background(), ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "another host") || elsewhere.Load() != 0 {
		t.Fatalf("Link to another host: %v (followed %d times)", err, elsewhere.Load())
	}
}

// A page whose names are not in lexical order (distribution 2.x lists
// tags in its storage's order, and ignores n and last=) is the whole
// list: no last= request follows it.
func TestTagsUnsortedIsWhole(t *testing.T) {
	r, n := listServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"name":"x","tags":["v2","latest","v1"]}`)
	})
	got, err := r.Tags(context.Background(), ListOptions{})
	if err != nil || len(got) != 3 || n.Load() != 1 {
		t.Fatalf("%v %v after %d requests, want 3 tags after 1", got, err, n.Load())
	}
}

// A registry that answers last= with its list from the start (it pages
// nothing) is asked once, and from then on its listings take one request.
func TestTagsIgnoreLastLearnt(t *testing.T) {
	r, n := listServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"name":"x","tags":["a","b"]}`)
	})
	ctx := context.Background()
	if _, err := r.Tags(ctx, ListOptions{}); err != nil || n.Load() != 2 || !r.reg.TagsIgnoreLast() {
		t.Fatalf("first listing: %v after %d requests; learnt %v", err, n.Load(), r.reg.TagsIgnoreLast())
	}
	n.Store(0)
	if got, err := r.Tags(ctx, ListOptions{}); err != nil || !slices.Equal(got, []string{"a", "b"}) || n.Load() != 1 {
		t.Fatalf("second listing: %v %v after %d requests, want 1", got, err, n.Load())
	}
}

// ProbePaging tells the three kinds of registry apart in one or two
// requests, and what it learns shapes later listings.
func TestProbePaging(t *testing.T) {
	all := []string{"a", "b", "c", "d", "e", "f", "g"}
	for _, c := range []struct {
		name         string
		handle       func(w http.ResponseWriter, r *http.Request)
		probes       int32
		link, noLast bool
		listing      int32 // requests of a whole listing after the probe
	}{
		{"pages with Link", func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			k, _ := strconv.Atoi(q.Get("n"))
			if k == 0 {
				k = 3
			}
			page := tagsAfter(all, q.Get("last"), k)
			if len(page) > 0 && page[len(page)-1] != all[len(all)-1] {
				w.Header().Set("Link", fmt.Sprintf(`</v2/x/tags/list?n=%d&last=%s>; rel="next"`, k, page[len(page)-1]))
			}
			fmt.Fprintf(w, `{"name":"x","tags":%s}`, mustJSON(t, page))
		}, 1, true, false, 3},
		{"ignores n and last", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"name":"x","tags":%s}`, mustJSON(t, all))
		}, 2, false, true, 1},
		{"lists in storage order", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("n") != "" {
				fmt.Fprint(w, `{"name":"x","tags":["g","a","c","b","e","d","f"]}`)
				return
			}
			// Sorted by chance in a later listing: still the whole list.
			fmt.Fprintf(w, `{"name":"x","tags":%s}`, mustJSON(t, all))
		}, 1, false, true, 1},
		{"cuts at 3 without Link", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"name":"x","tags":%s}`, mustJSON(t, tagsAfter(all, r.URL.Query().Get("last"), 3)))
		}, 2, false, false, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, n := listServer(t, c.handle)
			ctx := context.Background()
			if err := r.ProbePaging(ctx); err != nil {
				t.Fatal(err)
			}
			if n.Load() != c.probes || r.reg.LinkPaging() != c.link || r.reg.TagsIgnoreLast() != c.noLast {
				t.Fatalf("probe: %d requests, Link %v, ignores last %v; want %d, %v, %v", n.Load(), r.reg.LinkPaging(), r.reg.TagsIgnoreLast(), c.probes, c.link, c.noLast)
			}
			n.Store(0)
			got, err := r.Tags(ctx, ListOptions{})
			if err != nil || !slices.Equal(got, all) || n.Load() != c.listing {
				t.Fatalf("listing after the probe: %v %v in %d requests, want all in %d", got, err, n.Load(), c.listing)
			}
		})
	}
}

// A listing that starts after a name, from a registry that ignores
// last= and sends its whole sorted list, holds only the names after it.
func TestTagsLastAppliedWhenIgnored(t *testing.T) {
	r, n := listServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"name":"x","tags":["a","b","c","d"]}`)
	})
	got, err := r.Tags(context.Background(), ListOptions{Last: "b"})
	if err != nil || !slices.Equal(got, []string{"c", "d"}) || n.Load() != 1 {
		t.Fatalf("after b: %v %v in %d requests; want [c d] in 1", got, err, n.Load())
	}
	if !r.reg.TagsIgnoreLast() {
		t.Error("the registry's answer to last= started from the first name, but it is not known to ignore last=")
	}
}
