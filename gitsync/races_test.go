package gitsync_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
)

func TestConcurrentWritersBothSurvive(t *testing.T) {
	for _, mode := range []gitsync.Mode{gitsync.ModeDirect, gitsync.ModeSide} {
		t.Run(string(mode), func(t *testing.T) {
			srv := gitserver.New(t, gitserver.Options{})
			url, repoDir := srv.CreateRepo(t, "fleet")
			gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
			branch := "driftback/shared"
			if mode == gitsync.ModeDirect {
				branch = "main"
			}
			const rounds = 4
			var wg sync.WaitGroup
			errs := make(chan error, 2*rounds)
			for w := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := open(t, url)
					tg := target(branch, "main", fmt.Sprintf("clusters/w%d", w))
					tg.Mode, tg.Attempts = mode, 50
					for i := range rounds {
						_, err := r.Publish(context.Background(), tg, whole(map[string]string{"state.yaml": fmt.Sprintf("w%d round %d", w, i)}))
						if err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("writer: %v", err)
			}
			got, _ := files(t, repoDir, branch)
			for w := range 2 {
				if want := fmt.Sprintf("w%d round %d", w, rounds-1); got[fmt.Sprintf("clusters/w%d/state.yaml", w)] != want {
					t.Errorf("writer %d's last capture is missing: %v", w, got)
				}
			}
			if mode == gitsync.ModeDirect {
				// Every commit of both writers is in the history.
				if n := len(history(t, repoDir, branch)); n != 1+2*rounds {
					t.Errorf("history has %d commits, want %d (seed + every capture)", n, 1+2*rounds)
				}
			}
			gitserver.Run(t, repoDir, "git", "fsck", "--strict", "--no-progress")
		})
	}
}

func TestServerDownThenBack(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{User: "bot", Password: "hunter2-outage"})
	_, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
	logs := captureLogs(t)
	r, err := gitsync.OpenMethod(srv.URL+"/fleet.git", &http.BasicAuth{Username: "bot", Password: "hunter2-outage"})
	if err != nil {
		t.Fatal(err)
	}
	tg := target("driftback/c1", "main", dir)
	publish(t, r, tg, whole(map[string]string{"a.yaml": "a1"}))

	srv.Stop()
	tg.Attempts = 1000
	done := make(chan error, 1)
	go func() {
		_, err := r.Publish(context.Background(), tg, whole(map[string]string{"a.yaml": "a2"}))
		done <- err
	}()
	eventually(t, 30*time.Second, "failed pushes counted while the server is down", func() bool {
		return metric(t, r, "driftback_git_push_failures_total") >= 3 && metric(t, r, "driftback_git_pending_seconds") > 0
	})
	srv.Start(t)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("publish after the server came back: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the capture did not arrive within 60s of the server coming back")
	}
	if got, _ := files(t, repoDir, "driftback/c1"); got[dir+"/a.yaml"] != "a2" {
		t.Errorf("the capture made while the server was down is missing: %v", got)
	}
	if v := metric(t, r, "driftback_git_pending_seconds"); v != 0 {
		t.Errorf("pending seconds after the push = %v, want 0", v)
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Errorf("the password reached the logs:\n%s", logs.String())
	}
}

func TestHookRejectionIsPermanentAndLosesNothing(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
	gitserver.Hook(t, repoDir, "pre-receive", `echo "policy: no pushes today" >&2; exit 1`)
	r := open(t, url)
	tg := target("driftback/c1", "main", dir)
	tg.Attempts = 50
	_, err := r.Publish(context.Background(), tg, whole(map[string]string{"a.yaml": "a1"}))
	if !errors.Is(err, gitsync.ErrDeclined) {
		t.Fatalf("err = %v, want ErrDeclined", err)
	}
	if n := metric(t, r, "driftback_git_push_failures_total"); n != 1 {
		t.Errorf("a hook's refusal was tried %v times, want once", n)
	}
	if r.PendingSince().IsZero() {
		t.Error("the refused change is not reported as pending")
	}
	// Once the policy allows it, the same change goes through.
	gitserver.Hook(t, repoDir, "pre-receive", "")
	publish(t, r, tg, whole(map[string]string{"a.yaml": "a1"}))
	if got, _ := files(t, repoDir, "driftback/c1"); got[dir+"/a.yaml"] != "a1" {
		t.Errorf("capture missing after the hook was lifted: %v", got)
	}
}

func TestCredentialsNeverLeak(t *testing.T) {
	const secret = "s3cr3t-Pa55word"
	srv := gitserver.New(t, gitserver.Options{User: "bot", Password: "the-right-one"})
	srv.CreateRepo(t, "fleet")
	tests := []struct {
		name string
		url  string
		auth *http.BasicAuth
		down bool
	}{
		{name: "wrong password in the URL", url: strings.Replace(srv.URL, "http://", "http://bot:"+secret+"@", 1) + "/fleet.git"},
		{name: "wrong password as basic auth", url: srv.URL + "/fleet.git", auth: &http.BasicAuth{Username: "bot", Password: secret}},
		{name: "server down, password in the URL", url: strings.Replace(srv.URL, "http://", "http://bot:"+secret+"@", 1) + "/fleet.git", down: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logs := captureLogs(t)
			if tc.down {
				srv.Stop()
				defer srv.Start(t)
			}
			var r *gitsync.Repo
			var err error
			if tc.auth != nil {
				r, err = gitsync.OpenMethod(tc.url, tc.auth)
			} else {
				r, err = gitsync.OpenMethod(tc.url, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			tg := target("driftback/c1", "main", dir)
			tg.Attempts = 2
			_, err = r.Publish(context.Background(), tg, whole(map[string]string{"a.yaml": "a1"}))
			if err == nil {
				t.Fatal("publish with bad credentials succeeded")
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
				t.Errorf("the password leaked:\nerror: %v\nlogs: %s", err, logs.String())
			}
		})
	}
}

// Two writers share a side branch while a person keeps moving the base:
// re-derivations are forced with a lease, so neither writer's capture is
// lost, and the branch ends on a base the person wrote.
func TestSideBranchRacesWhileBaseMoves(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x0"})
	person := t.TempDir()
	gitserver.Run(t, "", "git", "clone", "-q", repoDir, person)
	const rounds = 4
	var wg sync.WaitGroup
	errs := make(chan error, 3*rounds)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range rounds {
			cmd := fmt.Sprintf(`set -e; echo x%d > apps/x.yaml; git -c user.name=p -c user.email=p@x commit -qam "person %d"; git push -q origin main`, i+1, i+1)
			if out, err := exec.Command("bash", "-c", "cd "+person+" && "+cmd).CombinedOutput(); err != nil {
				errs <- fmt.Errorf("person: %v: %s", err, out)
			}
		}
	}()
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := open(t, url)
			tg := target("driftback/shared", "main", fmt.Sprintf("clusters/w%d", w))
			tg.Attempts = 50
			for i := range rounds {
				if _, err := r.Publish(context.Background(), tg, whole(map[string]string{"state.yaml": fmt.Sprintf("w%d round %d", w, i)})); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// One more publish after the person is done: the branch follows main.
	r := open(t, url)
	publish(t, r, target("driftback/shared", "main", "clusters/w0"), whole(map[string]string{"state.yaml": fmt.Sprintf("w0 round %d", rounds-1)}))
	got, _ := files(t, repoDir, "driftback/shared")
	for w := range 2 {
		if want := fmt.Sprintf("w%d round %d", w, rounds-1); got[fmt.Sprintf("clusters/w%d/state.yaml", w)] != want {
			t.Errorf("writer %d's last capture is missing: %v", w, got)
		}
	}
	if got["apps/x.yaml"] != fmt.Sprintf("x%d\n", rounds) {
		t.Errorf("side branch does not follow the last base: apps/x.yaml = %q", got["apps/x.yaml"])
	}
	gitserver.Run(t, repoDir, "git", "fsck", "--strict", "--no-progress")
}

// A server that accepts the connection and never answers (a black hole at
// the network level, as a stuck load balancer is) cannot stall the writer:
// each attempt times out, and the error says so.
func TestHungServerTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	r := open(t, "http://"+l.Addr().String()+"/fleet.git")
	tg := target("driftback/c1", "main", dir)
	tg.Attempts, tg.AttemptTimeout = 2, 300*time.Millisecond
	start := time.Now()
	_, err = r.Publish(context.Background(), tg, whole(map[string]string{"a.yaml": "a1"}))
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("two attempts of 300ms took %s", took)
	}
	if n := metric(t, r, "driftback_git_push_failures_total"); n != 2 {
		t.Errorf("failures = %v, want 2", n)
	}
}
