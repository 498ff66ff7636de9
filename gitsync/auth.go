package gitsync

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
)

// Auth is how driftback proves who it is to the Git server. The caller reads
// the secrets from files; they never appear in logs, errors or commits.
type Auth struct {
	// Username and Password (or a token as the password) for https://.
	Username string
	Password string
	// BearerToken is sent as "Authorization: Bearer" over https:// (Bitbucket
	// and Azure DevOps access tokens, GitLab OAuth tokens).
	BearerToken string
	// AllowInsecureHTTP lets credentials go over plain http://, where
	// anyone on the path reads them. Off, http:// with credentials is
	// refused.
	AllowInsecureHTTP bool
	// SSHKey is a private key in PEM or OpenSSH format for ssh://.
	SSHKey           []byte
	SSHKeyPassphrase string
	// SSHUser defaults to the URL's user, then "git".
	SSHUser string
	// KnownHostsFile verifies the server's host key; empty uses
	// $SSH_KNOWN_HOSTS or ~/.ssh/known_hosts. Verification is always on
	// unless InsecureIgnoreHostKey says otherwise.
	KnownHostsFile        string
	InsecureIgnoreHostKey bool
	// CABundle is PEM certificates trusted for https:// besides the
	// system's: a Git server behind a private CA (Flux's "ca.crt").
	CABundle []byte
}

// method returns the go-git auth method for url; nil when none is
// configured (local paths, file://, credentials in the URL).
func (a Auth) method(url string) (transport.AuthMethod, error) {
	ep, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	switch ep.Protocol {
	case "http", "https":
		if len(a.SSHKey) > 0 {
			return nil, fmt.Errorf("an SSH key is set but the Git URL uses %s: use an ssh:// URL or a username and password (token)", ep.Protocol)
		}
		if a.BearerToken != "" && (a.Username != "" || a.Password != "") {
			return nil, fmt.Errorf("both a bearer token and a username/password are set: give one")
		}
		withCreds := a.Username != "" || a.Password != "" || a.BearerToken != "" || ep.User != "" || ep.Password != ""
		if ep.Protocol == "http" && withCreds && !a.AllowInsecureHTTP {
			return nil, fmt.Errorf("git URL %s: credentials over plain http:// are refused (anyone on the path can read them): use https://, or set git.allowInsecureHTTP: true to accept the risk", redact(url))
		}
		if a.BearerToken != "" {
			return &githttp.TokenAuth{Token: a.BearerToken}, nil
		}
		if a.Username == "" && a.Password == "" {
			return nil, nil
		}
		user := a.Username
		if user == "" {
			// Token-only: hosts accept any non-empty user with a token.
			user = "git"
		}
		return &githttp.BasicAuth{Username: user, Password: a.Password}, nil
	case "ssh":
		if a.Password != "" || a.BearerToken != "" {
			return nil, fmt.Errorf("a password or token is set but the Git URL uses ssh: use an SSH key, or an https:// URL")
		}
		user := a.SSHUser
		if user == "" {
			user = ep.User
		}
		if user == "" {
			user = "git"
		}
		hostKey, algos, err := a.hostKeyCheck(net.JoinHostPort(ep.Host, fmt.Sprint(portOr22(ep.Port))))
		if err != nil {
			return nil, err
		}
		if len(a.SSHKey) == 0 {
			// The SSH agent, as git would.
			m, err := gitssh.NewSSHAgentAuth(user)
			if err != nil {
				return nil, fmt.Errorf("ssh: no key file given and no SSH agent: %w", err)
			}
			m.HostKeyCallback, m.HostKeyAlgorithms = hostKey, algos
			return m, nil
		}
		m, err := gitssh.NewPublicKeys(user, a.SSHKey, a.SSHKeyPassphrase)
		if err != nil {
			// The key's bytes are not quoted: only what is wrong with them.
			return nil, fmt.Errorf("ssh key: cannot parse it (want an unencrypted or passphrase-protected PEM/OpenSSH private key): %w", err)
		}
		m.HostKeyCallback, m.HostKeyAlgorithms = hostKey, algos
		return m, nil
	default:
		if len(a.SSHKey) > 0 || a.Password != "" || a.BearerToken != "" {
			return nil, fmt.Errorf("credentials are set but the Git URL uses %s, which takes none", ep.Protocol)
		}
		return nil, nil
	}
}

// httpAuth is what the push's own HTTP request (httppush.go) carries to
// prove who driftback is, decided as go-git's transport decides for the
// requests it sends (transport/http newSession, basicAuthFromEndpoint): the
// method Open chose, else the user and password written in the URL; nil for
// none.
func httpAuth(m transport.AuthMethod, ep *transport.Endpoint) (githttp.AuthMethod, error) {
	if m == nil {
		if ep.User == "" {
			return nil, nil
		}
		return &githttp.BasicAuth{Username: ep.User, Password: ep.Password}, nil
	}
	a, ok := m.(githttp.AuthMethod)
	if !ok {
		return nil, transport.ErrInvalidAuthMethod
	}
	return a, nil
}

// ParseURL reads a Git URL. Its error never quotes the URL: url.Parse's
// does, whole, and a URL with a bad %-escape in its password would put the
// password in every log line.
func ParseURL(url string) (*transport.Endpoint, error) {
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		return nil, fmt.Errorf("git URL %s: cannot parse it (a bad %%-escape or a character not allowed in a URL; a password or token in the URL must be %%-encoded); the URL is not quoted as it may hold credentials", redact(url))
	}
	return ep, nil
}

// Open opens url with a's credentials; every credential a holds or the URL
// carries is scrubbed from the Repo's errors.
func (a Auth) Open(url string) (*Repo, error) {
	m, err := a.method(url)
	if err != nil {
		return nil, err
	}
	r, err := openMethod(url, m)
	if err != nil {
		return nil, err
	}
	// As in Flux, the CA applies to https:// only; a Secret shared with
	// ssh:// may carry one.
	if ep, _ := ParseURL(url); len(a.CABundle) > 0 && ep != nil && ep.Protocol == "https" {
		if ok := x509.NewCertPool().AppendCertsFromPEM(a.CABundle); !ok {
			return nil, errors.New("the Git CA certificate (--git-ca-file or ca.crt in --git-secret-dir) holds no PEM certificate")
		}
		r.caBundle = a.CABundle
	}
	r.secrets = append(r.secrets, a.Secrets()...)
	return r, nil
}

func portOr22(p int) int {
	if p == 0 {
		return 22
	}
	return p
}

// hostKeyCheck verifies the server's key against known_hosts, asking the
// server for the key types known_hosts holds for it.
func (a Auth) hostKeyCheck(hostPort string) (ssh.HostKeyCallback, []string, error) {
	if a.InsecureIgnoreHostKey {
		return ssh.InsecureIgnoreHostKey(), nil, nil
	}
	var files []string
	if a.KnownHostsFile != "" {
		files = append(files, a.KnownHostsFile)
	}
	db, err := gitssh.NewKnownHostsDb(files...)
	if err != nil {
		return nil, nil, fmt.Errorf("known_hosts: %w (give --git-known-hosts-file, or --git-insecure-ignore-host-key to skip verification)", err)
	}
	return db.HostKeyCallback(), db.HostKeyAlgorithms(hostPort), nil
}
