package config

import (
	"fmt"
	"strings"
)

// checkURL refuses credentials written into a plain http:// URL unless the
// config accepts the risk (git.allowInsecureHTTP). The URL is never quoted:
// it holds the credentials.
func checkURL(g Git) error {
	scheme, rest, ok := strings.Cut(g.URL, "://")
	if !ok || !strings.EqualFold(scheme, "http") || g.AllowInsecureHTTP {
		return nil
	}
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	if strings.Contains(rest, "@") {
		return fmt.Errorf("git.url: credentials in a plain http:// URL are not allowed (anyone on the path can read them): use https://, or set git.allowInsecureHTTP: true to accept the risk")
	}
	return nil
}
