package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/driftback/driftback/gitsync"
)

// gitFlags are the Git credentials flags, shared by every command that
// pushes (snapshot, run). Secrets are read from files (a mounted Secret),
// never from flag values, so they stay out of process listings and logs.
type gitFlags struct {
	usernameFile         string
	passwordFile         string
	bearerTokenFile      string
	allowInsecureHTTP    bool
	sshKeyFile           string
	sshKeyPassphraseFile string
	knownHostsFile       string
	secretDir            string
	insecureIgnoreHost   bool
	signKeyFile          string
	signPassphraseFile   string
}

func (g *gitFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&g.usernameFile, "git-username-file", "", "file holding the HTTPS username")
	f.StringVar(&g.passwordFile, "git-password-file", "", "file holding the HTTPS password or token")
	f.StringVar(&g.bearerTokenFile, "git-bearer-token-file", "", "file holding an HTTPS bearer token (sent as Authorization: Bearer)")
	f.BoolVar(&g.allowInsecureHTTP, "git-allow-insecure-http", false, "send credentials over plain http:// (unsafe: anyone on the path reads them); also git.allowInsecureHTTP")
	f.StringVar(&g.sshKeyFile, "git-ssh-key-file", "", "file holding the SSH private key (ssh:// URLs)")
	f.StringVar(&g.sshKeyPassphraseFile, "git-ssh-key-passphrase-file", "", "file holding the SSH key's passphrase")
	f.StringVar(&g.knownHostsFile, "git-known-hosts-file", "", "known_hosts file that pins the SSH server's key (default $SSH_KNOWN_HOSTS, ~/.ssh/known_hosts)")
	f.StringVar(&g.secretDir, "git-secret-dir", "", "a mounted Secret folder: username, password, bearerToken, ssh-privatekey (or identity), ssh-privatekey-passphrase, known_hosts; the file flags take precedence")
	f.StringVar(&g.signKeyFile, "git-sign-key-file", "", "armored OpenPGP private key that signs driftback's commits")
	f.StringVar(&g.signPassphraseFile, "git-sign-key-passphrase-file", "", "file holding the signing key's passphrase")
	f.BoolVar(&g.insecureIgnoreHost, "git-insecure-ignore-host-key", false, "do not verify the SSH server's host key (unsafe: anyone on the path can pose as the server)")
}

// secretDirKeys are the file names read from --git-secret-dir, in the
// conventions of kubernetes.io/basic-auth and kubernetes.io/ssh-auth Secrets
// (and Flux's "identity").
var secretDirKeys = map[string][]string{
	"username": {"username"},
	"password": {"password"},
	"bearer":   {"bearerToken"},
	"sshKey":   {"ssh-privatekey", "identity"},
	// The passphrase of the key, when it has one.
	"sshKeyPassphrase": {"ssh-privatekey-passphrase", "passphrase"},
	"knownHosts":       {"known_hosts"},
}

// auth reads the credentials the flags point at.
func (g *gitFlags) auth() (gitsync.Auth, error) {
	var a gitsync.Auth
	user, err := g.read("--git-username-file", g.usernameFile, "username")
	if err != nil {
		return a, err
	}
	pass, err := g.read("--git-password-file", g.passwordFile, "password")
	if err != nil {
		return a, err
	}
	bearer, err := g.read("--git-bearer-token-file", g.bearerTokenFile, "bearer")
	if err != nil {
		return a, err
	}
	key, err := g.read("--git-ssh-key-file", g.sshKeyFile, "sshKey")
	if err != nil {
		return a, err
	}
	phrase, err := g.read("--git-ssh-key-passphrase-file", g.sshKeyPassphraseFile, "sshKeyPassphrase")
	if err != nil {
		return a, err
	}
	a.Username = strings.TrimSpace(user)
	// A trailing newline is an artefact of `echo > file`, not part of the secret.
	a.Password = strings.TrimRight(pass, "\r\n")
	a.BearerToken = strings.TrimSpace(bearer)
	a.SSHKey = []byte(key)
	a.SSHKeyPassphrase = strings.TrimRight(phrase, "\r\n")
	a.InsecureIgnoreHostKey = g.insecureIgnoreHost
	a.KnownHostsFile = g.knownHostsFile
	if a.KnownHostsFile == "" && g.secretDir != "" {
		if p := filepath.Join(g.secretDir, "known_hosts"); exists(p) {
			a.KnownHostsFile = p
		}
	}
	return a, nil
}

// read returns the content of the flag's file, else of the secret folder's
// file for key; "" when neither is set.
func (g *gitFlags) read(flag, file, key string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			// The path is named, never the content.
			return "", fmt.Errorf("%s: %w", flag, err)
		}
		return string(b), nil
	}
	if g.secretDir == "" || key == "" {
		return "", nil
	}
	for _, name := range secretDirKeys[key] {
		b, err := os.ReadFile(filepath.Join(g.secretDir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("--git-secret-dir: %w", err)
		}
		return string(b), nil
	}
	return "", nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// signer returns the commit signer, nil when no signing key is given.
func (g *gitFlags) signer() (gitsync.Signer, error) {
	if g.signKeyFile == "" {
		return nil, nil
	}
	key, err := os.ReadFile(g.signKeyFile)
	if err != nil {
		return nil, fmt.Errorf("--git-sign-key-file: %w", err)
	}
	phrase, err := g.read("--git-sign-key-passphrase-file", g.signPassphraseFile, "")
	if err != nil {
		return nil, err
	}
	s, err := gitsync.OpenPGPSigner(key, strings.TrimRight(phrase, "\r\n"))
	if err != nil {
		return nil, fmt.Errorf("--git-sign-key-file: %w", err)
	}
	return s, nil
}
