package gitsync

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Credentials say where driftback's Git secrets are: files (a mounted
// Secret), never values, so they stay out of process listings and logs.
// Errors name the command-line flag that sets each field (the CLI and the
// Deployment's arguments are the only way to set them), never a secret.
type Credentials struct {
	UsernameFile         string // --git-username-file
	PasswordFile         string // --git-password-file
	BearerTokenFile      string // --git-bearer-token-file
	SSHKeyFile           string // --git-ssh-key-file
	SSHKeyPassphraseFile string // --git-ssh-key-passphrase-file
	KnownHostsFile       string // --git-known-hosts-file
	CAFile               string // --git-ca-file
	// SecretDir is a mounted Secret folder read for what the files above
	// leave out (see secretDirKeys); the files take precedence.
	SecretDir             string // --git-secret-dir
	InsecureIgnoreHostKey bool   // --git-insecure-ignore-host-key
	// AllowInsecureHTTP lets credentials go over plain http:// (Auth).
	AllowInsecureHTTP     bool   // --git-allow-insecure-http
	SignKeyFile           string // --git-sign-key-file
	SignKeyPassphraseFile string // --git-sign-key-passphrase-file
}

// secretDirKeys are the file names read from SecretDir, in the conventions
// of kubernetes.io/basic-auth and kubernetes.io/ssh-auth Secrets (and Flux's
// "identity").
var secretDirKeys = map[string][]string{
	"username": {"username"},
	"password": {"password"},
	"bearer":   {"bearerToken"},
	"sshKey":   {"ssh-privatekey", "identity"},
	// The passphrase of the key, when it has one.
	"sshKeyPassphrase": {"ssh-privatekey-passphrase", "passphrase"},
	"knownHosts":       {"known_hosts"},
	// PEM certificates of a private CA the https:// server's certificate
	// chains to (Flux's key; "caFile" is its older name).
	"ca": {"ca.crt", "caFile"},
}

// Auth reads the credentials the files point at.
func (c Credentials) Auth() (Auth, error) {
	var a Auth
	user, err := c.read("--git-username-file", c.UsernameFile, "username")
	if err != nil {
		return a, err
	}
	pass, err := c.read("--git-password-file", c.PasswordFile, "password")
	if err != nil {
		return a, err
	}
	bearer, err := c.read("--git-bearer-token-file", c.BearerTokenFile, "bearer")
	if err != nil {
		return a, err
	}
	key, err := c.read("--git-ssh-key-file", c.SSHKeyFile, "sshKey")
	if err != nil {
		return a, err
	}
	phrase, err := c.read("--git-ssh-key-passphrase-file", c.SSHKeyPassphraseFile, "sshKeyPassphrase")
	if err != nil {
		return a, err
	}
	ca, err := c.read("--git-ca-file", c.CAFile, "ca")
	if err != nil {
		return a, err
	}
	a.CABundle = []byte(ca)
	a.Username = strings.TrimSpace(user)
	// A trailing newline is an artefact of `echo > file`, not part of the secret.
	a.Password = strings.TrimRight(pass, "\r\n")
	a.BearerToken = strings.TrimSpace(bearer)
	a.SSHKey = []byte(key)
	a.SSHKeyPassphrase = strings.TrimRight(phrase, "\r\n")
	a.InsecureIgnoreHostKey = c.InsecureIgnoreHostKey
	a.AllowInsecureHTTP = c.AllowInsecureHTTP
	a.KnownHostsFile = c.KnownHostsFile
	if a.KnownHostsFile == "" && c.SecretDir != "" {
		for _, name := range secretDirKeys["knownHosts"] {
			if p := filepath.Join(c.SecretDir, name); exists(p) {
				a.KnownHostsFile = p
			}
		}
	}
	return a, nil
}

// Signer returns the commit signer, nil when no signing key is given: an
// armored OpenPGP private key, or an OpenSSH private key (SSH signatures).
func (c Credentials) Signer() (Signer, error) {
	if c.SignKeyFile == "" {
		return nil, nil
	}
	key, err := os.ReadFile(c.SignKeyFile)
	if err != nil {
		return nil, fmt.Errorf("--git-sign-key-file: %w", err)
	}
	phrase, err := c.read("--git-sign-key-passphrase-file", c.SignKeyPassphraseFile, "")
	if err != nil {
		return nil, err
	}
	var s Signer
	if bytes.Contains(key, []byte("-----BEGIN PGP ")) {
		s, err = OpenPGPSigner(key, strings.TrimRight(phrase, "\r\n"))
	} else {
		s, err = SSHSigner(key, strings.TrimRight(phrase, "\r\n"))
	}
	if err != nil {
		return nil, fmt.Errorf("--git-sign-key-file: %w", err)
	}
	return s, nil
}

// read returns the content of file, else of the secret folder's file for
// key; "" when neither is set.
func (c Credentials) read(flag, file, key string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			// The path is named, never the content.
			return "", fmt.Errorf("%s: %w", flag, err)
		}
		return string(b), nil
	}
	if c.SecretDir == "" || key == "" {
		return "", nil
	}
	for _, name := range secretDirKeys[key] {
		b, err := os.ReadFile(filepath.Join(c.SecretDir, name))
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
