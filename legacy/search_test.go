package legacy

import (
	"context"
	"net/http"
	"testing"
)

func TestSearch(t *testing.T) {
	rec := &recorder{}
	_, ts := v1Server(t, rec.wrap)
	c := newTestClient(t, hostOf(ts))
	ctx := context.Background()
	for _, name := range []string{"foo42/bar", "foo42/barn", "library/bar", "someone/bart", "someone/other"} {
		if _, err := c.Announce(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		term      string
		limit     int
		want      []string
		wantPages int // search requests sent
	}{
		// The server sorts by full name; library/bar is listed as "bar".
		{"bar", 0, []string{"foo42/bar", "foo42/barn", "bar", "someone/bart"}, 1},
		{"bar", 2, []string{"foo42/bar", "foo42/barn"}, 1},
		{"bar", 3, []string{"foo42/bar", "foo42/barn", "bar"}, 1},
		{"BAR", 10, []string{"foo42/bar", "foo42/barn", "bar", "someone/bart"}, 1},
		{"nothing", 5, nil, 1},
	}
	for _, tt := range tests {
		before := len(rec.find(http.MethodGet, "/search"))
		sp, err := c.Search(ctx, tt.term, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range sp.Results {
			names = append(names, r.Name)
		}
		if !equalStrings(names, tt.want) {
			t.Errorf("Search(%q, %d) = %v, want %v", tt.term, tt.limit, names, tt.want)
		}
		if sp.NumResults != len(tt.want) && tt.limit == 0 {
			t.Errorf("Search(%q): num_results %d", tt.term, sp.NumResults)
		}
		if n := len(rec.find(http.MethodGet, "/search")) - before; n != tt.wantPages {
			t.Errorf("Search(%q, %d) sent %d requests, want %d", tt.term, tt.limit, n, tt.wantPages)
		}
	}
	if sp, _ := c.Search(ctx, "bar", 0); !sp.Results[2].IsOfficial || sp.Results[0].IsOfficial {
		t.Errorf("library/bar should be official, foo42/bar not: %+v", sp.Results)
	}
}

// Over 100 results take several pages of 100.
func TestSearchPages(t *testing.T) {
	rec := &recorder{}
	_, ts := v1Server(t, rec.wrap)
	c := newTestClient(t, hostOf(ts))
	ctx := context.Background()
	for i := range 130 {
		if _, err := c.Announce(ctx, "many/repo"+string(rune('a'+i/26))+string(rune('a'+i%26)), nil); err != nil {
			t.Fatal(err)
		}
	}
	sp, err := c.Search(ctx, "repo", 120)
	if err != nil {
		t.Fatal(err)
	}
	if len(sp.Results) != 120 || sp.NumResults != 130 {
		t.Fatalf("%d results of %d, want 120 of 130", len(sp.Results), sp.NumResults)
	}
	seen := map[string]bool{}
	for _, r := range sp.Results {
		if seen[r.Name] {
			t.Fatalf("%s twice", r.Name)
		}
		seen[r.Name] = true
	}
	if n := len(rec.find(http.MethodGet, "/search")); n != 2 {
		t.Errorf("%d search requests, want 2 pages", n)
	}
	page, err := c.SearchPage(ctx, "repo", 2, 50)
	if err != nil {
		t.Fatal(err)
	}
	if page.Page != 2 || page.PageSize != 50 || page.NumPages != 3 || len(page.Results) != 50 || page.Results[0].Name != sp.Results[50].Name {
		t.Errorf("page 2 of 50: %+v", page)
	}
}
