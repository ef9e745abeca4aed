package testutil

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// ssPID matches the pid of a socket's owner in `ss -p` output.
var ssPID = regexp.MustCompile(`pid=(\d+),`)

// LoopbackListeners returns the TCP addresses process pid listens on, as
// `ss -ltnp` reports them, and an error if any is not 127.0.0.1 or [::1],
// or if there is none.
func LoopbackListeners(pid int) ([]string, error) {
	out, err := exec.Command("ss", "-Hltnp").Output()
	if err != nil {
		return nil, fmt.Errorf("ss -Hltnp: %v (iproute2 is needed to check listeners)", err)
	}
	var addrs []string
	for _, line := range strings.Split(string(out), "\n") {
		owned := false
		for _, m := range ssPID.FindAllStringSubmatch(line, -1) {
			if m[1] == strconv.Itoa(pid) {
				owned = true
			}
		}
		f := strings.Fields(line)
		if !owned || len(f) < 4 {
			continue
		}
		local := f[3]
		addrs = append(addrs, local)
		if !strings.HasPrefix(local, "127.0.0.1:") && !strings.HasPrefix(local, "[::1]:") && !strings.HasPrefix(local, "[::ffff:127.0.0.1]:") {
			return addrs, fmt.Errorf("process %d listens on %s, not on loopback only", pid, local)
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("process %d listens on no TCP port", pid)
	}
	return addrs, nil
}
