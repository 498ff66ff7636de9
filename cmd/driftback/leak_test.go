package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/dynamic"

	"github.com/driftback/driftback/internal/gitserver"
)

// TestNoCredentialLeaks tries every way a credential reaches driftback (a
// token in the URL's user-name position, a password in the URL, a URL whose
// bad %-escape makes url.Parse quote it whole, a password file, a bearer
// token file, an SSH key passphrase) against real Git servers, working and
// failing (wrong credentials, server down: the retry log lines), and looks
// for each secret in errors, output, logs, /metrics and `git log -p --all`.
func TestNoCredentialLeaks(t *testing.T) {
	const (
		userToken  = "ghp_USERTOKEN0leak7A9x"
		urlPass    = "URLPASS0leak4k2"
		badEscape  = "pa%zzBADESC0leak"
		filePass   = "FILEPASS0leak88q"
		bearer     = "BEARER0leak-51zz"
		passphrase = "PHRASE0leak-k3y"
	)
	// What must appear nowhere: each secret's distinctive part, so that a
	// re-encoded form (%25zz...) is caught too.
	needles := []string{"USERTOKEN0leak", "URLPASS0leak", "BADESC0leak", "FILEPASS0leak", "BEARER0leak", "PHRASE0leak"}

	applyBucket(t, dynamic.NewForConfigOrDie(cp.Config), "leak-logs", "logs-1eak", "arn:aws:s3:::logs-1eak")
	cfg := snapshotConfig(t, "leak")
	seed := func(dir string) {
		gitserver.Seed(t, dir, "main", map[string]string{
			"base/kustomization.yaml": "resources: [bucket.yaml]\n",
			"base/bucket.yaml":        strings.ReplaceAll(bucketBase, "%s", "leak-logs"),
		})
	}
	files := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(files, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	withUser := func(srvURL, userinfo string) string {
		return strings.Replace(srvURL, "http://", "http://"+userinfo+"@", 1) + "/fleet.git"
	}

	tokenSrv := gitserver.New(t, gitserver.Options{User: userToken})
	urlPassSrv := gitserver.New(t, gitserver.Options{User: "bot", Password: urlPass})
	fileSrv := gitserver.New(t, gitserver.Options{User: "bot", Password: filePass})
	bearerSrv := gitserver.New(t, gitserver.Options{Token: bearer})
	sshSrv := gitserver.NewSSH(t)
	var repoDirs []string
	for _, s := range []*gitserver.Server{tokenSrv, urlPassSrv, fileSrv, bearerSrv} {
		_, dir := s.CreateRepo(t, "fleet")
		seed(dir)
		repoDirs = append(repoDirs, dir)
	}
	sshURL, sshDir := sshSrv.CreateRepo(t, "fleet")
	seed(sshDir)
	repoDirs = append(repoDirs, sshDir)
	key := write("id_ed25519", string(sshSrv.ClientKeyWithPassphrase(t, passphrase)))

	insecure := []string{"--git-allow-insecure-http"}
	cases := []struct {
		name    string
		args    []string
		down    *gitserver.Server // stopped during the case: retries are logged
		wantErr bool
	}{
		{name: "token as URL user name", args: append([]string{"--repo", withUser(tokenSrv.URL, userToken)}, insecure...)},
		{name: "token as URL user name, wrong", args: append([]string{"--repo", withUser(tokenSrv.URL, userToken+"x")}, insecure...), wantErr: true},
		{name: "token as URL user name, server down", args: append([]string{"--repo", withUser(tokenSrv.URL, userToken)}, insecure...), down: tokenSrv, wantErr: true},
		{name: "password in the URL", args: append([]string{"--repo", withUser(urlPassSrv.URL, "bot:"+urlPass)}, insecure...)},
		{name: "password in the URL, server down", args: append([]string{"--repo", withUser(urlPassSrv.URL, "bot:"+urlPass)}, insecure...), down: urlPassSrv, wantErr: true},
		{name: "bad escape in the URL's password", args: append([]string{"--repo", withUser(urlPassSrv.URL, "bot:"+badEscape)}, insecure...), wantErr: true},
		{name: "password file", args: append([]string{"--repo", fileSrv.URL + "/fleet.git", "--git-username-file", write("u", "bot"), "--git-password-file", write("p", filePass)}, insecure...)},
		{name: "password file, wrong", args: append([]string{"--repo", fileSrv.URL + "/fleet.git", "--git-username-file", write("u", "bot"), "--git-password-file", write("p2", filePass+"x")}, insecure...), wantErr: true},
		{name: "password file over http without consent", args: []string{"--repo", fileSrv.URL + "/fleet.git", "--git-password-file", write("p", filePass)}, wantErr: true},
		{name: "bearer token", args: append([]string{"--repo", bearerSrv.URL + "/fleet.git", "--git-bearer-token-file", write("b", bearer)}, insecure...)},
		{name: "bearer token, wrong", args: append([]string{"--repo", bearerSrv.URL + "/fleet.git", "--git-bearer-token-file", write("b2", bearer+"x")}, insecure...), wantErr: true},
		{name: "bearer token, server down", args: append([]string{"--repo", bearerSrv.URL + "/fleet.git", "--git-bearer-token-file", write("b", bearer)}, insecure...), down: bearerSrv, wantErr: true},
		{name: "ssh key passphrase", args: []string{"--repo", sshURL, "--git-ssh-key-file", key, "--git-ssh-key-passphrase-file", write("k", passphrase), "--git-known-hosts-file", sshSrv.KnownHosts}},
		{name: "ssh key passphrase, wrong", args: []string{"--repo", sshURL, "--git-ssh-key-file", key, "--git-ssh-key-passphrase-file", write("k2", passphrase+"x"), "--git-known-hosts-file", sshSrv.KnownHosts}, wantErr: true},
	}
	var seen strings.Builder
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.down != nil {
				tc.down.Stop()
				defer tc.down.Start(t)
			}
			out, logs, err := runCLIAll(append([]string{"--log-level", "debug", "snapshot", "--config", cfg}, tc.args...)...)
			if tc.wantErr != (err != nil) {
				t.Fatalf("snapshot: err = %v, want an error: %v\n%s%s", err, tc.wantErr, out, logs)
			}
			if tc.down != nil && !strings.Contains(logs, "trying again") {
				t.Errorf("no retry was logged while the server was down:\n%s", logs)
			}
			seen.WriteString(out + logs)
			if err != nil {
				seen.WriteString(err.Error())
				t.Logf("error (scrubbed): %v", err)
			}
		})
	}

	// A running watcher with a token in the URL: its logs and /metrics.
	p := startRun(t, "--config", cfg, "--repo", withUser(tokenSrv.URL, userToken), "--git-allow-insecure-http")
	eventually(t, waitTime, "the run published (ready)", func() (bool, string) {
		c := httpStatus(t, p.url+"/readyz")
		return c == http.StatusOK, fmt.Sprint(c)
	})
	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	seen.Write(metrics)
	p.stop(t)
	seen.WriteString(p.logs.String())

	for _, dir := range repoDirs {
		seen.WriteString(gitserver.Run(t, dir, "git", "log", "-p", "--all"))
	}
	all := seen.String()
	for _, n := range needles {
		if i := strings.Index(all, n); i >= 0 {
			t.Errorf("secret %q leaked: ...%s...", n, all[max(0, i-120):min(len(all), i+60)])
		}
	}
	if !strings.Contains(all, "***@") {
		t.Error("no scrubbed URL seen: the test did not exercise the URL forms")
	}
}
