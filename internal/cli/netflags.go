package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/pflag"

	lib "github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/transport"
)

// netFlags are the global flags that bound waiting on registries.
type netFlags struct {
	maxWait         time.Duration
	speedLimit      int64
	speedTime       time.Duration
	responseTimeout time.Duration
	connectTimeout  time.Duration
	stallTimeout    time.Duration
}

func (n *netFlags) register(f *pflag.FlagSet) {
	f.DurationVar(&n.maxWait, "max-wait", transport.DefaultMaxWait, "most time one command waits on registries in all (Retry-After, backoff, timed-out attempts) before it fails with the registry's reason")
	f.Int64Var(&n.speedLimit, "speed-limit", transport.DefaultMinThroughput, "slowest download in bytes/s tolerated for --speed-time before hoist gives up on the connection (0: no limit)")
	f.DurationVar(&n.speedTime, "speed-time", transport.DefaultThroughputWindow, "how long a download may stay under --speed-limit")
	f.DurationVar(&n.responseTimeout, "response-timeout", transport.DefaultResponseHeaderTimeout, "longest wait for a registry's answer once a request is sent")
	f.DurationVar(&n.connectTimeout, "connect-timeout", transport.DefaultDialTimeout, "longest wait to connect to a registry")
	f.DurationVar(&n.stallTimeout, "stall-timeout", transport.DefaultStallTimeout, "longest a transfer (an upload above all) may move no byte")
}

// options turns the flags into session options. Each wait a registry
// asks for is shown on stderr unless quiet.
func (n *netFlags) options(quiet bool, stderr io.Writer) ([]lib.Option, error) {
	for name, d := range map[string]time.Duration{"--max-wait": n.maxWait, "--speed-time": n.speedTime, "--response-timeout": n.responseTimeout, "--connect-timeout": n.connectTimeout, "--stall-timeout": n.stallTimeout} {
		if d < 0 {
			return nil, usagef("%s %s: a duration cannot be negative", name, d)
		}
	}
	if n.speedLimit < 0 {
		return nil, usagef("--speed-limit %d: a rate cannot be negative; 0 turns the rule off", n.speedLimit)
	}
	topts := []transport.Option{
		transport.WithMinThroughput(n.speedLimit, n.speedTime),
		transport.WithResponseHeaderTimeout(n.responseTimeout),
		transport.WithDialTimeout(n.connectTimeout),
		transport.WithStallTimeout(n.stallTimeout),
	}
	if !quiet {
		var mu sync.Mutex
		topts = append(topts, transport.WithWaitNotice(func(w transport.Wait) {
			if !w.Asked && w.For < time.Second {
				return // a quick backoff is not worth a line
			}
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintln(stderr, "hoist: "+w.String())
		}))
	}
	return []lib.Option{lib.WithTransportOptions(topts...), lib.WithMaxWait(n.maxWait)}, nil
}
