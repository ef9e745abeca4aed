//go:build race

package testutil

// raceEnabled: the race detector keeps shadow memory for every heap byte
// and more per goroutine, so peak-RSS budgets are scaled in race builds
// (see CheckPeakRSS).
const raceEnabled = true
