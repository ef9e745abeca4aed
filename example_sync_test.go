package hoist_test

import (
	"context"
	"fmt"
	"log"

	"github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/syncer"
)

// Mirror the v* tags of team/app into another registry under synced/,
// then run again: nothing has moved, so nothing is copied, and the
// target is not asked anything.
func ExampleSession_Sync() {
	ctx := context.Background()
	cfg, err := syncer.Parse([]byte(fmt.Sprintf(`
sync:
  - source: %s/team
    repositories: [app]
    target: %s/synced
    tags: {allow: ["v.*"]}
`, source.Host(), target.Host())))
	if err != nil {
		log.Fatal(err)
	}
	s, err := hoist.NewSession()
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	st, _ := syncer.OpenState("") // a file keeps it across processes
	for range 2 {
		res, err := s.Sync(ctx, cfg, syncer.WithState(st))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d copied, %d skipped, %d failed\n", res.Copied, res.Skipped, res.Failed)
	}
	// Output:
	// 2 copied, 0 skipped, 0 failed
	// 0 copied, 2 skipped, 0 failed
}
