package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/driftback/driftback/gitsync"
)

// gitFlags are the Git credentials flags, shared by every command that
// reaches the repository. Secrets are read from files (a mounted Secret),
// never from flag values; gitsync.Credentials reads them.
type gitFlags struct {
	creds gitsync.Credentials
}

func (g *gitFlags) addFlags(f *pflag.FlagSet) {
	c := &g.creds
	f.StringVar(&c.UsernameFile, "git-username-file", "", "file holding the HTTPS username")
	f.StringVar(&c.PasswordFile, "git-password-file", "", "file holding the HTTPS password or token")
	f.StringVar(&c.BearerTokenFile, "git-bearer-token-file", "", "file holding an HTTPS bearer token (sent as Authorization: Bearer)")
	f.BoolVar(&c.AllowInsecureHTTP, "git-allow-insecure-http", false, "send credentials over plain http:// (unsafe: anyone on the path reads them); also git.allowInsecureHTTP")
	f.StringVar(&c.SSHKeyFile, "git-ssh-key-file", "", "file holding the SSH private key (ssh:// URLs)")
	f.StringVar(&c.SSHKeyPassphraseFile, "git-ssh-key-passphrase-file", "", "file holding the SSH key's passphrase")
	f.StringVar(&c.CAFile, "git-ca-file", "", "PEM certificates of a private CA the https:// Git server's certificate chains to (added to the system's; default ca.crt of --git-secret-dir)")
	f.StringVar(&c.KnownHostsFile, "git-known-hosts-file", "", "known_hosts file that pins the SSH server's key (default $SSH_KNOWN_HOSTS, ~/.ssh/known_hosts)")
	f.StringVar(&c.SecretDir, "git-secret-dir", "", "a mounted Secret folder: username, password, bearerToken, ssh-privatekey (or identity), ssh-privatekey-passphrase, known_hosts; the file flags take precedence")
	f.StringVar(&c.SignKeyFile, "git-sign-key-file", "", "private key that signs driftback's commits: armored OpenPGP, or OpenSSH (SSH signatures, as git -c gpg.format=ssh)")
	f.StringVar(&c.SignKeyPassphraseFile, "git-sign-key-passphrase-file", "", "file holding the signing key's passphrase")
	f.BoolVar(&c.InsecureIgnoreHostKey, "git-insecure-ignore-host-key", false, "do not verify the SSH server's host key (unsafe: anyone on the path can pose as the server)")
}

// openRepo opens the repository at url with the credentials of the flags;
// allowHTTP (git.allowInsecureHTTP or --git-allow-insecure-http) lets them
// go over plain http://.
func openRepo(url string, gf *gitFlags, allowHTTP bool) (*gitsync.Repo, error) {
	a, err := gf.creds.Auth()
	if err != nil {
		return nil, err
	}
	a.AllowInsecureHTTP = a.AllowInsecureHTTP || allowHTTP
	r, err := a.Open(url)
	if err != nil {
		return nil, fmt.Errorf("git credentials (--git-username-file, --git-password-file, --git-bearer-token-file, --git-ssh-key-file, --git-known-hosts-file, --git-ca-file, --git-secret-dir): %w", err)
	}
	return r, nil
}
