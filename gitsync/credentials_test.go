package gitsync_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftback/driftback/gitsync"
)

func TestCredentialsAuth(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secret := filepath.Join(dir, "secret")
	if err := os.MkdirAll(secret, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]string{"username": "from-dir\n", "password": "dir-token\n", "known_hosts": "x"} {
		if err := os.WriteFile(filepath.Join(secret, name), []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name               string
		creds              gitsync.Credentials
		wantUser, wantPass string
		wantKnownHosts     string
		wantErr            string
	}{
		{name: "files, trailing newline trimmed", creds: gitsync.Credentials{UsernameFile: write("u", "bot\n"), PasswordFile: write("p", "tok en\n")}, wantUser: "bot", wantPass: "tok en"},
		{name: "secret folder", creds: gitsync.Credentials{SecretDir: secret}, wantUser: "from-dir", wantPass: "dir-token", wantKnownHosts: filepath.Join(secret, "known_hosts")},
		{name: "file beats folder", creds: gitsync.Credentials{SecretDir: secret, PasswordFile: write("p2", "flag-token")}, wantUser: "from-dir", wantPass: "flag-token", wantKnownHosts: filepath.Join(secret, "known_hosts")},
		{name: "missing file names the flag", creds: gitsync.Credentials{PasswordFile: filepath.Join(dir, "nope")}, wantErr: "--git-password-file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := tc.creds.Auth()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Username != tc.wantUser || a.Password != tc.wantPass || a.KnownHostsFile != tc.wantKnownHosts {
				t.Errorf("auth = %q/%q known_hosts %q, want %q/%q %q", a.Username, a.Password, a.KnownHostsFile, tc.wantUser, tc.wantPass, tc.wantKnownHosts)
			}
		})
	}
}
