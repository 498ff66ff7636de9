package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/driftback/driftback/internal/giteaserver"
	"github.com/driftback/driftback/pullrequest"
)

// prPulls lists the repository's pull requests as a person sees them.
func prPulls(t *testing.T, g *giteaserver.Server, repo string) []struct {
	Number int64  `json:"number"`
	Title  string `json:"title"`
	Body   string `json:"body"`
	State  string `json:"state"`
} {
	t.Helper()
	var prs []struct {
		Number int64  `json:"number"`
		Title  string `json:"title"`
		Body   string `json:"body"`
		State  string `json:"state"`
	}
	if err := g.API(context.Background(), "GET", "repos/"+repo+"/pulls?state=all&limit=50", nil, &prs); err != nil {
		t.Fatal(err)
	}
	return prs
}

// remoteTip is the branch's commit on the server, "" when it has none.
func remoteTip(t *testing.T, gitURL, branch string) string {
	t.Helper()
	out, err := exec.Command("git", "ls-remote", gitURL, "refs/heads/"+branch).Output()
	if err != nil {
		t.Fatalf("git ls-remote: %v", err)
	}
	tip, _, _ := strings.Cut(string(out), "\t")
	return tip
}

// seedGitea creates a repository on g whose main holds a base with the
// bucket <cluster>-logs, pushed with the git CLI; it returns the clone URL
// and the same URL with the administrator's credentials.
func seedGitea(t *testing.T, g *giteaserver.Server, name, cluster string) (clone, authed string) {
	t.Helper()
	clone = g.CreateRepo(t, name)
	authed = strings.Replace(clone, "http://", "http://"+g.User+":"+g.Token+"@", 1)
	seed := t.TempDir()
	for name, content := range map[string]string{
		"base/kustomization.yaml": "resources: [bucket.yaml]\n",
		"base/bucket.yaml":        strings.ReplaceAll(bucketBase, "%s", cluster+"-logs"),
	} {
		p := filepath.Join(seed, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-q", "-m", "base"},
		{"push", "-q", authed, "main"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = seed
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", args[0], err, pullrequest.Redact(string(out), g.Token))
		}
	}
	return clone, authed
}

// switchable is an API in front of Gitea that can be taken down (503) while
// Git over HTTP stays up: an API outage.
type switchable struct {
	down atomic.Bool
	srv  *httptest.Server
}

func newSwitchable(t *testing.T, g *giteaserver.Server) *switchable {
	target, _ := url.Parse(g.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	s := &switchable{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// TestRunOpensThePullRequestInTheBackground: run pushes each capture at
// once; with the API down the push still happens and the failures are
// counted; once the API is back the pull request appears, and the next
// capture updates it.
func TestRunOpensThePullRequestInTheBackground(t *testing.T) {
	g := giteaserver.Start(t)
	clone, authed := seedGitea(t, g, "fleet-run", "prr")
	repo := g.User + "/fleet-run"
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	applyBucket(t, dyn, "prr-logs", "logs-aaaa", "arn:aws:s3:::logs-aaaa")
	api := newSwitchable(t, g)
	api.down.Store(true)
	run := startRun(t, "--config", snapshotConfig(t, "prr"), "--repo", clone, "--debounce", "300ms", "--git-allow-insecure-http",
		"--git-username-file", write("user", g.User), "--git-password-file", write("pass", g.Token),
		"--pull-request-provider", "gitea", "--pull-request-api-url", api.srv.URL+"/", "--pull-request-token-file", write("token", g.Token))
	const unavailable = `driftback_pull_request_errors_total{provider="gitea",reason="unavailable"}`
	eventually(t, 2*time.Minute, "the side branch pushed and the API failures counted while the API is down", func() (bool, string) {
		tip, errs := remoteTip(t, authed, "driftback/prr"), run.metric(t, unavailable)
		return tip != "" && errs >= 1, fmt.Sprintf("tip %q, %s = %v", tip, unavailable, errs)
	})
	if prs := prPulls(t, g, repo); len(prs) != 0 {
		t.Fatalf("pull requests while the API is down: %+v", prs)
	}
	api.down.Store(false)
	eventually(t, 2*time.Minute, "the pull request once the API is back", func() (bool, string) {
		prs := prPulls(t, g, repo)
		return len(prs) == 1 && strings.Contains(prs[0].Body, "`logs-aaaa`"), fmt.Sprintf("%+v", prs)
	})
	setExternalName(t, dyn, "prr-logs", "logs-bbbb", "arn:aws:s3:::logs-bbbb")
	eventually(t, time.Minute, "the same pull request updated", func() (bool, string) {
		prs := prPulls(t, g, repo)
		return len(prs) == 1 && strings.Contains(prs[0].Body, "`logs-bbbb`"), fmt.Sprintf("%+v", prs)
	})
	if v := run.metric(t, `driftback_pull_requests_total{outcome="opened",provider="gitea"}`); v != 1 {
		t.Errorf("opened = %v, want 1", v)
	}
	if strings.Contains(run.logs.String(), g.Token) {
		t.Error("the token reached run's logs")
	}
}

// setExternalName plays the provider again: a new external name and ARN.
func setExternalName(t *testing.T, dyn dynamic.Interface, name, externalName, arn string) {
	t.Helper()
	u, err := dyn.Resource(bucketGVR).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u.SetAnnotations(map[string]string{"crossplane.io/external-name": externalName})
	u, err = dyn.Resource(bucketGVR).Update(context.Background(), u, metav1.UpdateOptions{FieldManager: "provider-aws"})
	if err != nil {
		t.Fatalf("write external name: %v", err)
	}
	setBucketStatus(t, dyn, u, arn)
}

// TestSnapshotKeepsOnePullRequestOnGitea is the capture-level proof on a
// real Gitea: the side branch is pushed over Gitea's Git HTTP, the pull
// request is opened, then updated; a bad token and an API outage never
// stop the push, and the pull request appears once the API is back.
func TestSnapshotKeepsOnePullRequestOnGitea(t *testing.T) {
	g := giteaserver.Start(t)
	clone, authed := seedGitea(t, g, "fleet", "prg")
	repo := g.User + "/fleet"
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	user, pass := write("user", g.User+"\n"), write("pass", g.Token+"\n")
	token, badToken := write("token", g.Token+"\n"), write("bad-token", "0123456789abcdef0123456789abcdef01234567\n")
	cfg := snapshotConfig(t, "prg")
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	snapshot := func(apiURL, tokenFile string, extra ...string) (string, string) {
		t.Helper()
		args := append([]string{"snapshot", "--config", cfg, "--repo", clone, "--git-allow-insecure-http",
			"--git-username-file", user, "--git-password-file", pass,
			"--pull-request-provider", "gitea", "--pull-request-api-url", apiURL, "--pull-request-token-file", tokenFile,
			"--pull-request-label", "driftback"}, extra...)
		out, logs, err := runCLIAll(args...)
		if err != nil {
			t.Fatalf("snapshot failed (a pull request problem must never fail the capture): %v\n%s\n%s", err, out, logs)
		}
		if strings.Contains(out+logs, g.Token) {
			t.Fatalf("the token reached the output or logs:\n%s\n%s", out, logs)
		}
		return out, logs
	}

	// A bad token: the capture is pushed, the error says what to fix.
	applyBucket(t, dyn, "prg-logs", "logs-1111", "arn:aws:s3:::logs-1111")
	out, logs := snapshot(g.URL, badToken)
	if remoteTip(t, authed, "driftback/prg") == "" {
		t.Fatal("the side branch was not pushed")
	}
	if !strings.Contains(out+logs, "pull request NOT opened or updated") || !strings.Contains(out+logs, "unauthorized") || !strings.Contains(out+logs, "tokenFile is wrong, revoked or expired") {
		t.Errorf("no clear error for the bad token:\n%s\n%s", out, logs)
	}
	if strings.Contains(out+logs, "0123456789abcdef0123456789abcdef01234567") {
		t.Error("the bad token reached the output")
	}
	if prs := prPulls(t, g, repo); len(prs) != 0 {
		t.Fatalf("pull requests with a bad token: %+v", prs)
	}

	// First capture with a good token: one pull request, with the body
	// describe writes.
	out, _ = snapshot(g.URL, token)
	if !strings.Contains(out, "pull request #1 opened") {
		t.Fatalf("snapshot output: %s", out)
	}
	prs := prPulls(t, g, repo)
	if len(prs) != 1 || !strings.Contains(prs[0].Body, "<!-- driftback:pull-request cluster=prg path=clusters/prg/driftback -->") ||
		!strings.Contains(prs[0].Body, "`logs-1111`") {
		t.Fatalf("pull requests: %+v", prs)
	}

	// Second capture: the same pull request, body changed.
	setExternalName(t, dyn, "prg-logs", "logs-2222", "arn:aws:s3:::logs-2222")
	out, _ = snapshot(g.URL, token)
	prs = prPulls(t, g, repo)
	if !strings.Contains(out, "pull request #1 updated") || len(prs) != 1 || !strings.Contains(prs[0].Body, "`logs-2222`") {
		t.Fatalf("after the second capture: %s\n%+v", out, prs)
	}

	// The API is down for a while (a proxy in front of it answers 503 to
	// the first requests; Git over HTTP is up): the capture is pushed
	// first, the pull request is updated once the API answers again.
	var refused atomic.Int32
	target, _ := url.Parse(g.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refused.Add(1) <= 2 {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer api.Close()
	setExternalName(t, dyn, "prg-logs", "logs-3333", "arn:aws:s3:::logs-3333")
	before := remoteTip(t, authed, "driftback/prg")
	out, logs = snapshot(api.URL+"/", token)
	if remoteTip(t, authed, "driftback/prg") == before {
		t.Fatal("the side branch was not pushed during the API outage")
	}
	if !strings.Contains(logs, "reason=unavailable") {
		t.Errorf("the outage was not logged with its reason:\n%s", logs)
	}
	prs = prPulls(t, g, repo)
	if !strings.Contains(out, "pull request #1 updated") || len(prs) != 1 || !strings.Contains(prs[0].Body, "`logs-3333`") {
		t.Fatalf("after the outage: %s\n%+v", out, prs)
	}

	// A person merges it; the next capture opens a new one.
	g.Merge(t, repo, 1)
	setExternalName(t, dyn, "prg-logs", "logs-4444", "arn:aws:s3:::logs-4444")
	out, _ = snapshot(g.URL, token)
	prs = prPulls(t, g, repo)
	if !strings.Contains(out, "pull request #2 opened") || len(prs) != 2 {
		t.Fatalf("after a person merged: %s\n%+v", out, prs)
	}

	// summary --pull-request prints what the pull request says.
	sum, _, err := runCLIAll("summary", "--config", cfg, "--repo", clone, "--git-allow-insecure-http", "--git-username-file", user, "--git-password-file", pass, "--pull-request")
	if err != nil || !strings.Contains(sum, "`logs-4444`") || !strings.Contains(sum, "<!-- driftback:pull-request cluster=prg") {
		t.Errorf("summary --pull-request: %v\n%s", err, sum)
	}
}
