package gitsync

import (
	"regexp"
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

// minUserToken is the shortest URL user name treated as a token when the
// URL holds no password (https://TOKEN@host/...): shorter names ("git",
// "bot") are user names, and scrubbing them would garble every message.
const minUserToken = 6

// scrub removes every credential the Repo knows (the URL's user-name token
// and password in every escaping, the auth's password, bearer token and key
// passphrase) and any URL's user information from err's text.
func (r *Repo) scrub(err error) error {
	if err == nil {
		return nil
	}
	text := Scrub(err.Error(), r.secrets...)
	if text == err.Error() {
		return err
	}
	return redactedError{err: err, text: text}
}

// userInfoInURL matches the user information of any URL quoted in a text:
// scheme://user[:password]@.
var userInfoInURL = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\s"'<>]*@`)

// Scrub replaces each secret, and the user information of every URL, in
// text with ***. It is the one place credentials are taken out of text
// (errors, log lines); callers pass what they know (Auth.Secrets).
func Scrub(text string, secrets ...string) string {
	// Secrets first: a password holding an unescaped @ would otherwise be
	// cut in two by the URL rule and half of it left.
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, "***")
		}
	}
	return userInfoInURL.ReplaceAllString(text, "${1}***@")
}

// secretsOf lists the credentials in a URL and an auth method, each in the
// forms an error may quote it (as written, decoded, re-encoded).
func secretsOf(rawURL string, auth transport.AuthMethod) []string {
	var out []string
	out = append(out, urlSecrets(rawURL)...)
	switch a := auth.(type) {
	case *githttp.BasicAuth:
		out = append(out, variants(a.Password)...)
	case *githttp.TokenAuth:
		out = append(out, variants(a.Token)...)
	}
	return out
}

// urlSecrets reads the user information of rawURL by hand, not with
// url.Parse: a URL with a bad %-escape is refused by url.Parse, whose error
// quotes it whole, and its password must still be known to be scrubbed.
func urlSecrets(rawURL string) []string {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil
	}
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return nil
	}
	user, pass, hasPass := strings.Cut(rest[:at], ":")
	var out []string
	if hasPass {
		out = append(out, variants(pass)...)
	}
	// A token in the user-name position (GitHub, Azure DevOps, Bitbucket
	// write https://TOKEN@host/...): no password, and over HTTP(S), where
	// the name is sent as the credential. ssh://git@ names a user.
	web := strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https")
	if web && (!hasPass || pass == "") && len(user) >= minUserToken {
		out = append(out, variants(user)...)
	}
	return out
}

// variants are the forms a secret takes in text: as is, %-decoded (when it
// was written encoded) and %-encoded (as net/url re-encodes it).
func variants(s string) []string {
	if s == "" {
		return nil
	}
	out := []string{s}
	if d, ok := unescape(s); ok && d != s && d != "" {
		out = append(out, d)
	}
	if e := escapeUserInfo(s); e != s {
		out = append(out, e)
	}
	// Longest first: a secret that contains another is replaced whole.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j]) > len(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// unescape decodes %XX sequences; ok is false for a bad escape.
func unescape(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", false
		}
		b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		i += 2
	}
	return b.String(), true
}

// escapeUserInfo %-encodes what net/url encodes in a URL's user information.
func escapeUserInfo(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~!$&'()*+,;=", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// Secrets are the credentials an Auth holds, for Scrub: the password or
// token, the bearer token and the SSH key's passphrase.
func (a Auth) Secrets() []string {
	var out []string
	for _, s := range []string{a.Password, a.BearerToken, a.SSHKeyPassphrase} {
		out = append(out, variants(s)...)
	}
	return out
}

// redact removes credentials from a URL before it reaches a log or an error.
func redact(url string) string {
	return Scrub(url)
}
