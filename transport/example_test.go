package transport_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hoist-dev/hoist/transport"
)

// A program with flags of its own names its flag where the library names
// its option.
func ExampleOptionHint() {
	err := fmt.Errorf("pull: %w", &transport.OptionHint{
		Err:    errors.New("registry.example.com: plain http is not allowed"),
		Action: "if it really has no TLS, allow plain http",
		Option: "hosts.Config.Insecure",
		Value:  "registry.example.com",
	})
	fmt.Println(err)

	msg := err.Error()
	var oh *transport.OptionHint
	if errors.As(err, &oh) && oh.Option == "hosts.Config.Insecure" {
		msg = strings.Replace(msg, oh.Hint(), oh.Action+" with --insecure-registry "+oh.Value, 1)
	}
	fmt.Println(msg)
	// Output:
	// pull: registry.example.com: plain http is not allowed (if it really has no TLS, allow plain http with hosts.Config.Insecure for registry.example.com)
	// pull: registry.example.com: plain http is not allowed (if it really has no TLS, allow plain http with --insecure-registry registry.example.com)
}
