package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestGitFlagsAuth(t *testing.T) {
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
		args               []string
		wantUser, wantPass string
		wantKnownHosts     string
		wantErr            string
	}{
		{name: "files, trailing newline trimmed", args: []string{"--git-username-file", write("u", "bot\n"), "--git-password-file", write("p", "tok en\n")}, wantUser: "bot", wantPass: "tok en"},
		{name: "secret folder", args: []string{"--git-secret-dir", secret}, wantUser: "from-dir", wantPass: "dir-token", wantKnownHosts: filepath.Join(secret, "known_hosts")},
		{name: "flag beats folder", args: []string{"--git-secret-dir", secret, "--git-password-file", write("p2", "flag-token")}, wantUser: "from-dir", wantPass: "flag-token", wantKnownHosts: filepath.Join(secret, "known_hosts")},
		{name: "missing file names the flag", args: []string{"--git-password-file", filepath.Join(dir, "nope")}, wantErr: "--git-password-file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var g gitFlags
			fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
			g.addFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			a, err := g.auth()
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
