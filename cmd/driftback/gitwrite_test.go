package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/dynamic"

	"github.com/driftback/driftback/internal/gitserver"
)

// runCLIAll runs driftback in process and returns stdout and stderr (logs).
func runCLIAll(args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs(append([]string{"--kubeconfig", kubeconfig}, args...))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestSnapshotWithCredentialFilesMessageAndSummary(t *testing.T) {
	const password = "pa55-w0rd-from-a-file"
	srv := gitserver.New(t, gitserver.Options{User: "bot", Password: password})
	_, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{
		"base/kustomization.yaml": "resources: [bucket.yaml]\n",
		"base/bucket.yaml":        strings.ReplaceAll(bucketBase, "%s", "sum-logs"),
	})
	applyBucket(t, dynamic.NewForConfigOrDie(cp.Config), "sum-logs", "logs-5e1f", "arn:aws:s3:::logs-5e1f")
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	user, pass, wrong := write("user", "bot\n"), write("pass", password+"\n"), write("wrong", "not-"+password+"\n")
	cfg := snapshotConfig(t, "sum")
	url := srv.URL + "/fleet.git"
	summaryFile := filepath.Join(dir, "summary.md")

	t.Run("wrong password: clear error, nothing leaks", func(t *testing.T) {
		out, logs, err := runCLIAll("snapshot", "--config", cfg, "--repo", url, "--git-allow-insecure-http", "--git-username-file", user, "--git-password-file", wrong)
		if err == nil {
			t.Fatal("snapshot with a wrong password succeeded")
		}
		if !strings.Contains(err.Error(), "authentication") && !strings.Contains(err.Error(), "authorization") {
			t.Errorf("error does not say authentication failed: %v", err)
		}
		for _, s := range []string{err.Error(), out, logs} {
			if strings.Contains(s, password) {
				t.Errorf("the password leaked: %s", s)
			}
		}
	})

	out, logs, err := runCLIAll("snapshot", "--config", cfg, "--repo", url, "--git-allow-insecure-http", "--git-username-file", user, "--git-password-file", pass,
		"--summary-file", summaryFile, "--message-template", "{{.Subject}}\n\n{{.Body}}\nReviewed-by: nobody yet\n")
	if err != nil {
		t.Fatalf("snapshot: %v\n%s", err, logs)
	}
	if strings.Contains(out+logs, password) {
		t.Errorf("the password reached the output or logs")
	}
	msg := gitserver.Run(t, repoDir, "git", "log", "-1", "--format=%B", "driftback/sum")
	for _, want := range []string{
		"capture 1 external name, 1 status in sum\n",
		`metadata.annotations["crossplane.io/external-name"]: (none) → logs-5e1f`,
		"status.atProvider.arn: (none) → arn:aws:s3:::logs-5e1f",
		"Reviewed-by: nobody yet",
		"Driftback-Dir: clusters/sum/driftback",
		"Driftback-Base: ",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("commit message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, password) {
		t.Error("the password is in the commit message")
	}
	summary, err := os.ReadFile(summaryFile)
	if err != nil || !strings.Contains(string(summary), "`logs-5e1f`") {
		t.Errorf("summary file: %v\n%s", err, summary)
	}

	printed, _, err := runCLIAll("summary", "--config", cfg, "--repo", url, "--git-allow-insecure-http", "--git-username-file", user, "--git-password-file", pass)
	if err != nil {
		t.Fatalf("summary: %v", err)
	}
	if !strings.Contains(printed, "capture 1 external name, 1 status in sum") || !strings.Contains(printed, "`arn:aws:s3:::logs-5e1f`") {
		t.Errorf("summary printed:\n%s", printed)
	}

	// Against the base: the same objects, as the branch is new.
	printed, _, err = runCLIAll("summary", "--config", cfg, "--repo", url, "--against-base", "--git-allow-insecure-http", "--git-username-file", user, "--git-password-file", pass)
	if err != nil || !strings.Contains(printed, "`logs-5e1f`") || !strings.Contains(printed, "adds to `main`") {
		t.Errorf("summary --against-base: %v\n%s", err, printed)
	}

	// restore reads the same private repository with the same flags.
	restored, _, err := runCLIAll("restore", "--config", cfg, "--repo", url, "--wait", "0", "--dry-run", "--git-allow-insecure-http", "--git-username-file", user, "--git-password-file", pass)
	if err != nil || !strings.Contains(restored, "already equal") {
		t.Errorf("restore --dry-run with credentials: %v\n%s", err, restored)
	}
	if _, _, err := runCLIAll("restore", "--config", cfg, "--repo", url, "--wait", "0", "--dry-run"); err == nil {
		t.Error("restore without credentials read a private repository")
	}

	if _, _, err := runCLIAll("snapshot", "--config", cfg, "--repo", url, "--message-template", "{{.Nope}}"); err == nil || !strings.Contains(err.Error(), "--message-template") {
		t.Errorf("a bad template: err = %v, want one naming --message-template", err)
	}
}

func TestSnapshotOverSSH(t *testing.T) {
	srv := gitserver.NewSSH(t)
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{
		"base/kustomization.yaml": "resources: [bucket.yaml]\n",
		"base/bucket.yaml":        strings.ReplaceAll(bucketBase, "%s", "sshc-logs"),
	})
	applyBucket(t, dynamic.NewForConfigOrDie(cp.Config), "sshc-logs", "logs-55h", "arn:aws:s3:::logs-55h")
	key := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(key, srv.ClientKey, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := snapshotConfig(t, "sshc")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "host key pinned elsewhere is refused", args: []string{"--git-known-hosts-file", srv.OtherKnownHosts}, wantErr: "key mismatch"},
		{name: "key and known_hosts", args: []string{"--git-known-hosts-file", srv.KnownHosts}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"snapshot", "--config", cfg, "--repo", url, "--git-ssh-key-file", key}, tc.args...)
			out, logs, err := runCLIAll(args...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !strings.HasPrefix(out, "committed ") {
				t.Fatalf("snapshot over ssh: %v\n%s%s", err, out, logs)
			}
			if strings.Contains(out+logs, "PRIVATE KEY") {
				t.Error("the private key reached the output")
			}
			files, _ := branchFiles(t, repoDir, "driftback/sshc")
			if !strings.Contains(files["clusters/sshc/driftback/patches/_cluster/s3.aws.upbound.io_Bucket/9f/sshc-logs.yaml"], "logs-55h") {
				t.Errorf("the capture is missing: %v", keys(files))
			}
		})
	}
}
