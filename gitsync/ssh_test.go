package gitsync_test

import (
	"context"
	"strings"
	"testing"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
)

func TestSSHWithPinnedHostKey(t *testing.T) {
	srv := gitserver.NewSSH(t)
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
	tests := []struct {
		name    string
		auth    gitsync.Auth
		wantErr string // "" = the push lands
	}{
		{name: "key and known_hosts", auth: gitsync.Auth{SSHKey: srv.ClientKey, KnownHostsFile: srv.KnownHosts}},
		{name: "host key mismatch", auth: gitsync.Auth{SSHKey: srv.ClientKey, KnownHostsFile: srv.OtherKnownHosts}, wantErr: "key mismatch"},
		{name: "explicit opt-out of host key checking", auth: gitsync.Auth{SSHKey: srv.ClientKey, KnownHostsFile: srv.OtherKnownHosts, InsecureIgnoreHostKey: true}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.auth.Method(url)
			if err != nil {
				t.Fatal(err)
			}
			r, err := gitsync.OpenMethod(url, m)
			if err != nil {
				t.Fatal(err)
			}
			tg := target("driftback/c1", "main", dir)
			tg.Attempts = 5
			content := map[string]string{"a.yaml": "a" + string(rune('1'+i))}
			_, err = r.Publish(context.Background(), tg, whole(content))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if n := metric(t, r, "driftback_git_push_failures_total"); n != 1 {
					t.Errorf("a host key mismatch was tried %v times, want once", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("publish over ssh: %v", err)
			}
			if got, _ := files(t, repoDir, "driftback/c1"); got[dir+"/a.yaml"] != content["a.yaml"] {
				t.Errorf("capture missing: %v", got)
			}
		})
	}
}
