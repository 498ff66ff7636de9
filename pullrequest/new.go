package pullrequest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// userAgent names driftback to the hosts (their logs, their rate limits).
const userAgent = "driftback"

// Providers are the names New accepts.
var Providers = []string{"github", "gitlab", "gitea", "forgejo"}

// Options choose and reach a host.
type Options struct {
	// Provider: github, gitlab, gitea or forgejo (served by the gitea SDK).
	Provider string
	// APIURL: GitHub's https://api.github.com/ and GitLab's
	// https://gitlab.com/api/v4 by default; a Gitea or Forgejo server's root
	// URL (required). For GitHub Enterprise Server: https://HOST/api/v3/.
	APIURL string
	// Repository is owner/name (GitLab: the project's full path, groups included).
	Repository string
	// Token is the API token. It is never logged or put in an error.
	Token string
	// HTTPClient, when set, makes the requests (tests); else one with Timeout.
	HTTPClient *http.Client
	// Timeout bounds one request; 30s when zero.
	Timeout time.Duration
}

func (o Options) httpClient() *http.Client {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	t := o.Timeout
	if t == 0 {
		t = 30 * time.Second
	}
	return &http.Client{Timeout: t}
}

// New returns the provider that o names.
func New(o Options) (Provider, error) {
	if strings.TrimSpace(o.Token) == "" {
		return nil, fmt.Errorf("pull request: the API token is empty")
	}
	switch o.Provider {
	case "github":
		return newGitHub(o)
	case "gitlab":
		return newGitLab(o)
	case "gitea", "forgejo":
		if o.APIURL == "" {
			return nil, fmt.Errorf("pull request: %s needs the server's URL (apiURL)", o.Provider)
		}
		return newGitea(o)
	}
	return nil, fmt.Errorf("pull request: provider %q is not allowed: %s", o.Provider, strings.Join(Providers, ", "))
}

// splitRepo reads owner/name.
func splitRepo(s string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(strings.Trim(s, "/"), "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("pull request: repository %q is not allowed: owner/name, e.g. acme/fleet", s)
	}
	return owner, name, nil
}
