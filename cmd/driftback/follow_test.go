package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
	"github.com/driftback/driftback/overlay"
)

// pushToBase commits one file on branch as a person merging to main would,
// and returns the new tip.
func pushToBase(t *testing.T, repoDir, branch, path, content string) string {
	t.Helper()
	work := t.TempDir()
	gitserver.Run(t, "", "git", "clone", "-q", "-b", branch, repoDir, work)
	full := filepath.Join(work, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	gitserver.Run(t, work, "git", "add", "-A")
	gitserver.Run(t, work, "git", "-c", "user.name=dev", "-c", "user.email=dev@localhost", "commit", "-q", "-m", "merge "+path)
	gitserver.Run(t, work, "git", "push", "-q", "origin", branch)
	return strings.TrimSpace(gitserver.Run(t, work, "git", "rev-parse", "HEAD"))
}

// followSetup is one bucket in the cluster and in the base, and the config
// of a side branch over it.
func followSetup(t testing.TB, name string) (url, repoDir, cfg string) {
	t.Helper()
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir = srv.CreateRepo(t, "fleet")
	applyBucket(t, dyn, name, name+"-ext", "arn:"+name)
	gitserver.Seed(t, repoDir, "main", map[string]string{
		"base/kustomization.yaml": "resources: [" + name + ".yaml]\n",
		"base/" + name + ".yaml":  strings.ReplaceAll(bucketBase, "%s", name),
	})
	cfg = runConfig(t, `cluster: `+name+`
git:
  branch: driftback/`+name+`
  path: clusters/`+name+`/driftback
overlay:
  resources: [../../../base]
rules:
- name: external-name
  match:
    apiGroups: ["*.aws.upbound.io"]
    kinds: ["Bucket"]
    names: ["`+name+`"]
  fields:
  - metadata.annotations["crossplane.io/external-name"]
`)
	return url, repoDir, cfg
}

// The worst defect of issue 10: a merge to main must reach the side branch
// Argo CD and Flux deploy while the cluster is quiet, and also while a
// safety rule refuses to publish (the last good overlay is carried).
func TestRunSideBranchFollowsItsBase(t *testing.T) {
	const name = "follow-quiet"
	url, repoDir, cfg := followSetup(t, name)
	branch := "driftback/" + name
	patch := "clusters/" + name + "/driftback/patches/_cluster/s3.aws.upbound.io_Bucket/" + overlay.Bucket(name) + "/" + name + ".yaml"
	run := startRun(t, "--config", cfg, "--repo", url, "--debounce", "200ms", "--base-poll", "300ms", "--max-delete-share", "0")
	waitForFiles(t, repoDir, branch, "the first commit holds the bucket", func(f map[string]string) bool {
		return strings.Contains(f[patch], name+"-ext")
	})

	// Quiet cluster: nothing changes there, main moves.
	tip1 := pushToBase(t, repoDir, "main", "apps/one.yaml", "# merged while quiet\n")
	files, _ := waitForFiles(t, repoDir, branch, "the side branch holds main's new commit", func(f map[string]string) bool {
		return f["apps/one.yaml"] != ""
	})
	if !strings.Contains(files[patch], name+"-ext") {
		t.Fatalf("the overlay was not carried onto the new base: %v", sortedKeys(files))
	}
	_, c, _ := gitserver.BranchFiles(t, repoDir, branch)
	if !strings.Contains(c.Message, gitsync.TrailerBase+": "+tip1) || c.NumParents() != 1 {
		t.Fatalf("side branch tip %s, message %q: want one parent and %s: %s", c.Hash, c.Message, gitsync.TrailerBase, tip1)
	}
	eventually(t, waitTime, "the lag metrics return to 0", func() (bool, string) {
		n, s := run.metric(t, "driftback_side_branch_behind_commits"), run.metric(t, "driftback_side_branch_behind_seconds")
		return n == 0 && s == 0, fmt.Sprintf("commits %v seconds %v", n, s)
	})

	if v := run.metric(t, fmt.Sprintf(`driftback_build_info{goversion=%q,version=%q}`, runtime.Version(), version)); v != 1 {
		t.Errorf("driftback_build_info = %v, want 1", v)
	}
	// The commit above was timed from the change to the push, each push
	// is timed, and client-go reports its requests and the publish queue.
	for _, m := range []string{"driftback_capture_to_commit_seconds_count", "driftback_git_push_duration_seconds_count", "rest_client_requests_total", "workqueue_adds_total"} {
		if v := run.metricSum(t, m); v < 1 {
			t.Errorf("%s = %v, want at least 1", m, v)
		}
	}

	// A refused publish: the bucket vanishes and --max-delete-share 0
	// forbids dropping it. Main moves again; the side branch still follows,
	// with the last good overlay (the bucket's patch).
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	if err := dyn.Resource(bucketGVR).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, waitTime, "the deletion is refused", func() (bool, string) {
		v := run.metric(t, "driftback_publish_blocked")
		return v == 1, fmt.Sprint(v)
	})
	pushToBase(t, repoDir, "main", "apps/two.yaml", "# merged while refused\n")
	files, _ = waitForFiles(t, repoDir, branch, "the side branch holds main's commit while publishing is refused", func(f map[string]string) bool {
		return f["apps/two.yaml"] != ""
	})
	if !strings.Contains(files[patch], name+"-ext") {
		t.Fatalf("the refused deletion reached Git through the base follower: %v", sortedKeys(files))
	}
	// The counter moves after the push the branch already shows.
	eventually(t, waitTime, "both re-derivations counted", func() (bool, string) {
		v := run.metric(t, "driftback_side_branch_rederived_total")
		return v >= 2, fmt.Sprintf("driftback_side_branch_rederived_total = %v", v)
	})
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func signedPush(t *testing.T, url string, secret []byte, ref string) int {
	t.Helper()
	body := `{"ref":"` + ref + `","after":"0000"}`
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(body))
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// With an hour between polls, only the push event can bring main's commit
// to the side branch in time.
func TestRunFollowsItsBaseOnAPushEvent(t *testing.T) {
	const name = "follow-hook"
	url, repoDir, cfg := followSetup(t, name)
	branch := "driftback/" + name
	secretFile := filepath.Join(t.TempDir(), "secret")
	secret := []byte("s3cr3t-hook")
	if err := os.WriteFile(secretFile, append(secret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	hook := freeAddr(t)
	startRun(t, "--config", cfg, "--repo", url, "--debounce", "200ms", "--base-poll", "1h", "--webhook-addr", hook, "--webhook-secret-file", secretFile)
	waitForFiles(t, repoDir, branch, "the first commit", func(f map[string]string) bool { return len(f) > 0 })

	pushToBase(t, repoDir, "main", "apps/hooked.yaml", "# merged\n")
	hookURL := "http://" + hook + "/hooks/push"
	if c := signedPush(t, hookURL, []byte("wrong"), "refs/heads/main"); c != http.StatusUnauthorized {
		t.Errorf("a push event signed with another secret: HTTP %d, want 401", c)
	}
	eventually(t, waitTime, "the signed push event is accepted", func() (bool, string) {
		c := signedPush(t, hookURL, secret, "refs/heads/main")
		return c == http.StatusAccepted, fmt.Sprint(c)
	})
	waitForFiles(t, repoDir, branch, "the side branch holds main's commit after the push event", func(f map[string]string) bool {
		return f["apps/hooked.yaml"] != ""
	})
}
