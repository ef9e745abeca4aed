package main

import (
	"fmt"
	"strings"
	"time"
)

// profile is a network shape the registries sit behind. The zero profile
// (name "loopback") is no shaping at all: tools talk to the registries
// directly, as the benchmark always did.
type profile struct {
	name string
	// latency is added to each direction of every connection, so a round
	// trip costs twice this.
	latency time.Duration
	// rate caps each direction of every connection, in bytes per second
	// (0: no cap). toxiproxy's bandwidth toxic runs once per connection,
	// so this is a per-connection cap, not a shared one.
	rate int64
	// runs is the default of -runs under this profile: a capped transfer
	// is set by the cap, so its spread is small and one run costs a
	// minute per tool on the slow profile.
	runs int
	what string
}

// shaped says whether the profile puts toxiproxy in front of the
// registries.
func (p profile) shaped() bool { return p.name != loopbackProfile }

// rtt is the round trip the profile adds.
func (p profile) rtt() time.Duration { return 2 * p.latency }

const loopbackProfile = "loopback"

// profiles are the named network shapes, in the order a report lists them.
var profiles = []profile{
	{name: loopbackProfile, runs: 5, what: "no shaping: tools reach the registries on loopback directly"},
	{name: "lan", latency: time.Millisecond, runs: 3, what: "1 ms each way (2 ms round trip), no bandwidth cap"},
	{name: "far", latency: 40 * time.Millisecond, runs: 3, what: "40 ms each way (80 ms round trip), no bandwidth cap"},
	{name: "throttled", latency: 20 * time.Millisecond, rate: 10_000_000, runs: 1, what: "20 ms each way (40 ms round trip), 10 MB/s per connection each way"},
	{name: "slow", latency: 50 * time.Millisecond, rate: 2_000_000, runs: 1, what: "50 ms each way (100 ms round trip), 2 MB/s per connection each way"},
}

func profileNames() []string {
	var n []string
	for _, p := range profiles {
		n = append(n, p.name)
	}
	return n
}

// parseProfiles reads -profile: a comma-separated list of profile names.
func parseProfiles(s string) ([]profile, error) {
	var out []profile
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		name := strings.TrimSpace(part)
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		found := false
		for _, p := range profiles {
			if p.name == name {
				out = append(out, p)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("-profile: unknown profile %q (have %s)", name, strings.Join(profileNames(), ", "))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-profile: name at least one profile (%s)", strings.Join(profileNames(), ", "))
	}
	return out, nil
}

// rateText renders a per-connection cap for humans (MB = 10^6 bytes, as
// toxiproxy counts).
func rateText(rate int64) string {
	if rate <= 0 {
		return "uncapped"
	}
	return fmt.Sprintf("%g MB/s", float64(rate)/1e6)
}
