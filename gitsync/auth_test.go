package gitsync_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
)

func TestAuthMethod(t *testing.T) {
	srv := gitserver.NewSSH(t)
	emptyKnownHosts := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(emptyKnownHosts, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		url      string
		auth     gitsync.Auth
		wantType string // "basic", "ssh", "" (none)
		wantUser string
		wantErr  string
	}{
		{name: "https token only", url: "https://git.example/x.git", auth: gitsync.Auth{Password: "t"}, wantType: "basic", wantUser: "git"},
		{name: "https user and password", url: "https://git.example/x.git", auth: gitsync.Auth{Username: "bot", Password: "p"}, wantType: "basic", wantUser: "bot"},
		{name: "https nothing", url: "https://git.example/x.git"},
		{name: "https with an ssh key", url: "https://git.example/x.git", auth: gitsync.Auth{SSHKey: srv.ClientKey}, wantErr: "SSH key is set but the Git URL uses https"},
		{name: "ssh key, user from the URL", url: "ssh://deploy@git.example/x.git", auth: gitsync.Auth{SSHKey: srv.ClientKey, KnownHostsFile: srv.KnownHosts}, wantType: "ssh", wantUser: "deploy"},
		{name: "scp-like URL defaults to git", url: "git.example:team/x.git", auth: gitsync.Auth{SSHKey: srv.ClientKey, KnownHostsFile: srv.KnownHosts}, wantType: "ssh", wantUser: "git"},
		{name: "ssh with a password", url: "ssh://git.example/x.git", auth: gitsync.Auth{Password: "p"}, wantErr: "password or token is set but the Git URL uses ssh"},
		{name: "ssh, key not a key", url: "ssh://git.example/x.git", auth: gitsync.Auth{SSHKey: []byte("nope"), KnownHostsFile: srv.KnownHosts}, wantErr: "ssh key: cannot parse it"},
		{name: "ssh, known_hosts missing", url: "ssh://git.example/x.git", auth: gitsync.Auth{SSHKey: srv.ClientKey, KnownHostsFile: filepath.Join(t.TempDir(), "nope")}, wantErr: "known_hosts"},
		{name: "local path takes no credentials", url: "/srv/git/x.git", auth: gitsync.Auth{Password: "p"}, wantErr: "takes none"},
		{name: "local path", url: "/srv/git/x.git"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.auth.Method(tc.url)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch a := m.(type) {
			case nil:
				if tc.wantType != "" {
					t.Errorf("no auth, want %s", tc.wantType)
				}
			case *githttp.BasicAuth:
				if tc.wantType != "basic" || a.Username != tc.wantUser {
					t.Errorf("basic auth for %q, want %s %q", a.Username, tc.wantType, tc.wantUser)
				}
			case *gitssh.PublicKeys:
				if tc.wantType != "ssh" || a.User != tc.wantUser || a.HostKeyCallback == nil {
					t.Errorf("ssh key for %q (host key check set: %v), want %s %q", a.User, a.HostKeyCallback != nil, tc.wantType, tc.wantUser)
				}
			default:
				t.Errorf("unexpected auth %T", m)
			}
		})
	}
}
