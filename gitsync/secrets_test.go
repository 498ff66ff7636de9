package gitsync

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestScrubEveryForm(t *testing.T) {
	tests := []struct {
		name   string
		url    string
		auth   Auth
		text   string // what an error might say
		secret string // must be gone
	}{
		{name: "token as user name", url: "https://ghp_0123456789abcdef@git.example/x.git",
			text: `Get "https://ghp_0123456789abcdef@git.example/x.git/info/refs": dial tcp: refused`, secret: "ghp_0123456789abcdef"},
		{name: "token as user name quoted alone", url: "https://ghp_0123456789abcdef@git.example/x.git",
			text: `user ghp_0123456789abcdef denied`, secret: "ghp_0123456789abcdef"},
		{name: "password in the URL", url: "https://bot:s3cr3t-pw@git.example/x.git",
			text: `Get "https://bot:s3cr3t-pw@git.example/x.git": EOF; password s3cr3t-pw`, secret: "s3cr3t-pw"},
		{name: "escaped password, decoded in text", url: "https://bot:p%40ss-word@git.example/x.git",
			text: `password p@ss-word refused`, secret: "p@ss-word"},
		{name: "unescaped @ in the password", url: "https://bot:p@ss-word@git.example/x.git",
			text: `Get "https://bot:p@ss-word@git.example/x.git": EOF`, secret: "ss-word"},
		{name: "bad escape", url: "https://bot:pa%zzsecretpart@git.example/x.git",
			text: `parse "https://bot:pa%zzsecretpart@git.example/x.git": invalid URL escape "%zz"`, secret: "secretpart"},
		{name: "bearer token", url: "https://git.example/x.git", auth: Auth{BearerToken: "bearer-XYZ-123"},
			text: `Authorization: Bearer bearer-XYZ-123`, secret: "bearer-XYZ-123"},
		{name: "ssh passphrase", url: "ssh://git@git.example/x.git", auth: Auth{SSHKeyPassphrase: "phrase 9!"},
			text: `cannot decrypt with phrase 9!`, secret: "phrase 9!"},
		{name: "password, re-encoded by net/url", url: "https://git.example/x.git", auth: Auth{Password: "a b/c"},
			text: `https://u:` + url.UserPassword("u", "a b/c").String() + `@h`, secret: "b%2Fc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Repo{url: tc.url, secrets: append(secretsOf(tc.url, nil), tc.auth.Secrets()...)}
			got := r.scrub(errors.New(tc.text)).Error()
			if strings.Contains(got, tc.secret) {
				t.Errorf("scrub(%q) = %q: %q remains", tc.text, got, tc.secret)
			}
		})
	}
}

func TestScrubLeavesShortUserNames(t *testing.T) {
	r := &Repo{secrets: secretsOf("https://git@git.example/x.git", nil)}
	if got := r.scrub(errors.New("git server said no")).Error(); got != "git server said no" {
		t.Errorf("a short user name was scrubbed from plain text: %q", got)
	}
}

func TestParseURLDoesNotQuoteIt(t *testing.T) {
	_, err := ParseURL("https://bot:pa%zzsecretpart@git.example/x.git")
	if err == nil {
		t.Fatal("a bad escape was accepted")
	}
	if strings.Contains(err.Error(), "secretpart") || strings.Contains(err.Error(), "%zz") {
		t.Errorf("the error quotes the password: %v", err)
	}
	if _, err := (Auth{}).Open("https://bot:pa%zzsecretpart@git.example/x.git"); err == nil || strings.Contains(err.Error(), "secretpart") {
		t.Errorf("Open: %v", err)
	}
}

func TestPlainHTTPWithCredentialsRefused(t *testing.T) {
	for _, tc := range []struct {
		url  string
		auth Auth
		ok   bool
	}{
		{url: "http://git.example/x.git", auth: Auth{Password: "p"}},
		{url: "http://tok123456@git.example/x.git"},
		{url: "http://git.example/x.git", auth: Auth{BearerToken: "b"}},
		{url: "http://git.example/x.git", auth: Auth{Password: "p", AllowInsecureHTTP: true}, ok: true},
		{url: "http://git.example/x.git", ok: true},
		{url: "https://git.example/x.git", auth: Auth{Password: "p"}, ok: true},
	} {
		_, err := tc.auth.Method(tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("Method(%s, %+v) = %v, want ok=%v", tc.url, tc.auth, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "allowInsecureHTTP") {
			t.Errorf("the refusal does not say how to allow it: %v", err)
		}
	}
}
