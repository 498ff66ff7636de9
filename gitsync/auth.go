package gitsync

import (
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
}

// Method returns the go-git auth method for url; nil when none is
// configured (local paths, file://, credentials in the URL).
func (a Auth) Method(url string) (transport.AuthMethod, error) {
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		return nil, fmt.Errorf("git URL: %w", err)
	}
	switch ep.Protocol {
	case "http", "https":
		if len(a.SSHKey) > 0 {
			return nil, fmt.Errorf("an SSH key is set but the Git URL uses %s: use an ssh:// URL or a username and password (token)", ep.Protocol)
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
		if a.Password != "" {
			return nil, fmt.Errorf("a password is set but the Git URL uses ssh: use an SSH key, or an https:// URL")
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
		if len(a.SSHKey) > 0 || a.Password != "" {
			return nil, fmt.Errorf("credentials are set but the Git URL uses %s, which takes none", ep.Protocol)
		}
		return nil, nil
	}
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
