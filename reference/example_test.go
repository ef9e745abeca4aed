package reference_test

import (
	"errors"
	"fmt"

	"github.com/hoist-dev/hoist/reference"
)

func ExampleParse() {
	for _, s := range []string{
		"ubuntu",
		"ubuntu:22.04",
		"index.docker.io/user/app:v1",
		"localhost:5000/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"[::1]:5000/x",
	} {
		r, err := reference.Parse(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s -> registry %s, repository %s, identifier %.19s, dial %s\n",
			s, r.Registry, r.Repository, r.Identifier(), reference.APIHost(r.Registry))
	}
	// Output:
	// ubuntu -> registry docker.io, repository library/ubuntu, identifier latest, dial registry-1.docker.io
	// ubuntu:22.04 -> registry docker.io, repository library/ubuntu, identifier 22.04, dial registry-1.docker.io
	// index.docker.io/user/app:v1 -> registry docker.io, repository user/app, identifier v1, dial registry-1.docker.io
	// localhost:5000/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef -> registry localhost:5000, repository team/app, identifier sha256:0123456789ab, dial localhost:5000
	// [::1]:5000/x -> registry [::1]:5000, repository x, identifier latest, dial [::1]:5000
}

func ExampleParse_errors() {
	for _, s := range []string{"Foo", "ubuntu:-x", "https://ghcr.io/org/app", "localhost:99999/x"} {
		_, err := reference.Parse(s)
		fmt.Println(errors.Is(err, reference.ErrInvalid), err)
	}
	// Output:
	// true repository name must be lowercase: "Foo"
	// true invalid tag "-x" in "ubuntu:-x": tags start with a letter, digit or underscore and are at most 128 characters
	// true invalid reference "https://ghcr.io/org/app": remove the scheme "https://": write "ghcr.io/org/app"
	// true invalid port "99999" in "localhost:99999/x": ports are numbers from 1 to 65535
}

func ExampleReference_Familiar() {
	for _, s := range []string{
		"docker.io/library/ubuntu:22.04",
		"registry-1.docker.io/user/app",
		"docker.io/library/team/app",
		"localhost:5000/x",
	} {
		r, err := reference.Parse(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s -> %s\n", r.String(), r.Familiar())
	}
	// Output:
	// docker.io/library/ubuntu:22.04 -> ubuntu:22.04
	// docker.io/user/app -> user/app
	// docker.io/library/team/app -> library/team/app
	// localhost:5000/x -> localhost:5000/x
}

func ExampleParseV1() {
	for _, s := range []string{"busybox", "foo42/bar:latest", "localhost:5000/team/app", "index.docker.io/foo"} {
		n, err := reference.ParseV1(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s -> index %s, remote %s, tag %q\n", s, n.IndexHost(), n.Remote(), n.Tag)
	}
	// Output:
	// busybox -> index index.docker.io, remote library/busybox, tag ""
	// foo42/bar:latest -> index index.docker.io, remote foo42/bar, tag "latest"
	// localhost:5000/team/app -> index localhost:5000, remote team/app, tag ""
	// invalid v1 repository name "index.docker.io/foo": write "foo"; the public index is the default
}
