package errcode

import (
	"net/url"
	"strings"
)

// safeParams are query parameters of the distribution API whose values are
// never secret; every other parameter's value is redacted, since storage
// redirects and upload sessions carry signatures and tokens in the query.
var safeParams = map[string]bool{
	"n": true, "last": true, "digest": true, "mount": true, "from": true,
	"artifacttype": true, "ns": true, "service": true, "scope": true,
}

// RedactURL renders u for messages and logs: a password in the user info
// and the values of query parameters other than the distribution API's own
// (n, last, digest, mount, from, artifactType, ns, service, scope) are
// replaced by "REDACTED". Upload locations carry opaque state (_state) and
// storage redirects carry signatures (X-Amz-Signature, sig, …), so redacting
// by default keeps them out of terminals and bug reports.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := *u
	if r.User != nil {
		if _, has := r.User.Password(); has {
			r.User = url.UserPassword(r.User.Username(), "REDACTED")
		}
	}
	if r.RawQuery != "" {
		q := r.Query()
		for k, vs := range q {
			if safeParams[strings.ToLower(k)] {
				continue
			}
			for i := range vs {
				vs[i] = "REDACTED"
			}
		}
		r.RawQuery = q.Encode()
	}
	return r.String()
}
