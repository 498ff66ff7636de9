package gitsync

import (
	neturl "net/url"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// redactedError hides the URL's credentials in an error's text while keeping
// it for errors.Is: go-git and net/http quote the URL they failed on.
type redactedError struct {
	err  error
	text string
}

func (e redactedError) Error() string { return e.text }
func (e redactedError) Unwrap() error { return e.err }

// scrub removes every credential the Repo knows (the URL's password, the
// auth's password or token) from err's text.
func (r *Repo) scrub(err error) error {
	text := err.Error()
	for _, s := range r.secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, "***")
		}
	}
	if text == err.Error() {
		return err
	}
	return redactedError{err: err, text: text}
}

// secretsOf lists the credentials in a URL and an auth method.
func secretsOf(rawURL string, auth transport.AuthMethod) []string {
	var out []string
	if u, err := neturl.Parse(rawURL); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			out = append(out, p, neturl.QueryEscape(p), neturl.PathEscape(p))
		}
	}
	if b, ok := auth.(*githttp.BasicAuth); ok && b.Password != "" {
		out = append(out, b.Password)
	}
	if t, ok := auth.(*githttp.TokenAuth); ok && t.Token != "" {
		out = append(out, t.Token)
	}
	return out
}

// redact removes credentials from a URL before it reaches a log or an error.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if slash := strings.Index(rest, "/"); slash < 0 || at < slash {
			return scheme + "://" + "***@" + rest[at+1:]
		}
	}
	return url
}
