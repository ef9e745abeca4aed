package hosts

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ValidateInsecure checks one Config.Insecure entry: a CIDR
// ("10.0.0.0/8"), or a host ("registry.local", "10.1.2.3", "[::1]")
// with an optional port (1-65535). The error says what is wrong with it.
func ValidateInsecure(entry string) error {
	e := strings.TrimSpace(entry)
	if e == "" {
		return fmt.Errorf("empty host: give host[:port] or a CIDR such as 10.0.0.0/8")
	}
	if strings.Contains(e, "/") {
		if _, err := netip.ParsePrefix(e); err != nil {
			return fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8, nor a host[:port] (a host has no '/'; give it without a scheme or path)", entry)
		}
		return nil
	}
	name, port := SplitHost(e)
	if port != "" || strings.HasSuffix(e, ":") {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port %q is not a number from 1 to 65535", entry, port)
		}
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return nil
	}
	if len(name) > 253 {
		return fmt.Errorf("%q: a host name has at most 253 characters", entry)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%q is not a host name: its dot-separated parts must be 1 to 63 characters", entry)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0 && i < len(label)-1
			if !ok {
				return fmt.Errorf("%q is not a host name: %q is not allowed there (host names hold letters, digits, '.' and inner '-')", entry, string(c))
			}
		}
	}
	return nil
}
