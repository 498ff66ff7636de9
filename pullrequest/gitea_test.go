package pullrequest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/driftback/driftback/internal/giteaserver"
	"github.com/driftback/driftback/pullrequest"
)

// These tests run against a real Gitea (hack/build-gitea.sh), pushing the
// side branch with the git CLI as driftback's gitsync would, and syncing
// the pull request through the provider and the background Opener.

const marker = "<!-- driftback:pull-request cluster=c1 path=clusters/c1/driftback -->"

type forge struct {
	g       *giteaserver.Server
	gitURL  string // with the admin's credentials, for git push
	work    string
	repo    string
	version int
}

func newForge(t *testing.T) *forge {
	g := giteaserver.Start(t)
	clone := g.CreateRepo(t, "fleet")
	f := &forge{g: g, gitURL: strings.Replace(clone, "http://", "http://"+g.User+":"+g.Token+"@", 1), work: t.TempDir(), repo: g.User + "/fleet"}
	f.git(t, "init", "-q", "-b", "main")
	f.commit(t, "base/kustomization.yaml", "resources: []\n", "base")
	f.git(t, "push", "-q", f.gitURL, "main")
	return f
}

// git runs git in the work tree; its output never shows the credentials.
func (f *forge) git(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@localhost"}, args...)...)
	cmd.Dir = f.work
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", args[0], err, pullrequest.Redact(string(out), f.g.Token))
	}
}

func (f *forge) commit(t *testing.T, path, content, msg string) {
	t.Helper()
	p := filepath.Join(f.work, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	f.git(t, "add", "-A")
	f.git(t, "commit", "-q", "-m", msg)
}

// capture pushes a new state of the side branch, as a driftback publish
// does, and returns the spec the pull request should show.
func (f *forge) capture(t *testing.T) pullrequest.Spec {
	f.version++
	f.git(t, "checkout", "-q", "-B", "driftback/c1", "main")
	f.commit(t, "clusters/c1/driftback/patches/_cluster/g_K/1b/n.yaml", fmt.Sprintf("kind: K\nmetadata:\n  name: n\nspec:\n  version: %d\n", f.version), "capture")
	f.git(t, "push", "-q", "--force", f.gitURL, "driftback/c1")
	f.git(t, "checkout", "-q", "main")
	return pullrequest.Spec{
		Head: "driftback/c1", Base: "main", Title: "driftback: capture 1 patch in c1",
		Body:   fmt.Sprintf("State version %d.\n%s", f.version, marker),
		Marker: marker, Labels: []string{"driftback"}, Reviewers: nil, Assignees: []string{giteaserver.Admin},
	}
}

type giteaPR struct {
	Number int64  `json:"number"`
	Body   string `json:"body"`
	State  string `json:"state"`
	Merged bool   `json:"merged"`
	Labels []struct {
		Name string `json:"name"`
	} `json:"labels"`
}

// pulls lists every pull request of the repository, as a person sees them.
func (f *forge) pulls(t *testing.T) []giteaPR {
	var all []giteaPR
	for page := 1; ; page++ {
		var prs []giteaPR
		if err := f.g.API(context.Background(), "GET", fmt.Sprintf("repos/%s/pulls?state=all&page=%d&limit=50", f.repo, page), nil, &prs); err != nil {
			t.Fatal(err)
		}
		all = append(all, prs...)
		if len(prs) < 50 {
			return all
		}
	}
}

func (f *forge) provider(t *testing.T, token string) pullrequest.Provider {
	p, err := pullrequest.New(pullrequest.Options{Provider: "gitea", APIURL: f.g.URL, Repository: f.repo, Token: token, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGiteaRollingPullRequest(t *testing.T) {
	f := newForge(t)
	m := pullrequest.NewMetrics("gitea")
	o := pullrequest.NewOpener(f.provider(t, f.g.Token), m)
	o.MinBackoff, o.MaxBackoff = 100*time.Millisecond, time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go o.Run(ctx)
	synced := func(outcome pullrequest.Outcome) float64 {
		return testutil.ToFloat64(m.Synced.WithLabelValues("gitea", string(outcome)))
	}

	// First capture: a pull request is opened.
	s1 := f.capture(t)
	o.Submit(s1)
	waitFor(t, "the first pull request", func() bool { return synced(pullrequest.Opened) == 1 })
	prs := f.pulls(t)
	if len(prs) != 1 || prs[0].State != "open" || !strings.Contains(prs[0].Body, "State version 1.") || len(prs[0].Labels) != 1 || prs[0].Labels[0].Name != "driftback" {
		t.Fatalf("after the first capture: %+v, want one open pull request with label driftback", prs)
	}
	first := prs[0].Number

	// Second capture: the same pull request is updated.
	s2 := f.capture(t)
	o.Submit(s2)
	waitFor(t, "the update", func() bool { return synced(pullrequest.Updated) == 1 })
	prs = f.pulls(t)
	if len(prs) != 1 || prs[0].Number != first || !strings.Contains(prs[0].Body, "State version 2.") {
		t.Fatalf("after the second capture: %+v, want pull request #%d with the new body", prs, first)
	}

	// Nothing differs: left alone.
	o.Submit(s2)
	waitFor(t, "the unchanged sync", func() bool { return synced(pullrequest.Unchanged) == 1 })

	// A person merges it; the next capture opens a new one.
	f.g.Merge(t, f.repo, first)
	f.git(t, "pull", "-q", f.gitURL, "main")
	o.Submit(f.capture(t))
	waitFor(t, "a new pull request after the merge", func() bool { return synced(pullrequest.Opened) == 2 })
	prs = f.pulls(t)
	open := 0
	for _, p := range prs {
		if p.State == "open" {
			open++
			if p.Number == first {
				t.Errorf("the merged pull request #%d was reopened", first)
			}
		}
	}
	if len(prs) != 2 || open != 1 {
		t.Fatalf("after the merge and a new capture: %+v, want the merged one and one open", prs)
	}

	// The API is down for a while: the opener retries; the pull request
	// shows the capture once the server is back.
	f.g.Stop()
	before := testutil.ToFloat64(m.Errors.WithLabelValues("gitea", pullrequest.ReasonUnavailable))
	s4 := pullrequest.Spec{Head: "driftback/c1", Base: "main", Title: "driftback: capture 1 patch in c1",
		Body: "State version 99 (during the outage).\n" + marker, Marker: marker, Labels: []string{"driftback"}}
	o.Submit(s4)
	waitFor(t, "failed tries while the server is down", func() bool {
		return testutil.ToFloat64(m.Errors.WithLabelValues("gitea", pullrequest.ReasonUnavailable)) >= before+2
	})
	if testutil.ToFloat64(m.Pending) != 1 {
		t.Error("driftback_pull_request_pending should be 1 during the outage")
	}
	f.g.Restart(t)
	waitFor(t, "the pull request once the server is back", func() bool { return testutil.ToFloat64(m.Pending) == 0 })
	found := false
	for _, p := range f.pulls(t) {
		if p.State == "open" && strings.Contains(p.Body, "during the outage") {
			found = true
		}
	}
	if !found {
		t.Error("the pull request does not show the capture made during the outage")
	}
}

func TestGiteaBadToken(t *testing.T) {
	f := newForge(t)
	s := f.capture(t)
	const bad = "0123456789abcdef0123456789abcdef01234567"
	_, _, err := pullrequest.Sync(context.Background(), f.provider(t, bad), s)
	if pullrequest.ReasonOf(err) != pullrequest.ReasonUnauthorized {
		t.Fatalf("err = %v, want unauthorized", err)
	}
	if strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "tokenFile is wrong, revoked or expired") {
		t.Errorf("the error should say what to fix, without the token: %v", err)
	}
	if prs := f.pulls(t); len(prs) != 0 {
		t.Errorf("a pull request was opened with a bad token: %+v", prs)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	// Generous: make test runs packages in parallel on 2 cores, and the
	// image test's -trimpath build can starve Gitea for minutes (seen: 90 s
	// was not enough). The deadline only matters when the test fails.
	deadline := time.Now().Add(5 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
