package gitsync_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
)

const dir = "clusters/c1/driftback"

func TestPublishWritesOnlyDir(t *testing.T) {
	tests := []struct {
		name    string
		branch  string
		steps   []gitsync.Prepare
		want    map[string]string // files of dir after the last step; "" = absent
		commits int               // commits driftback made
	}{
		{
			name:    "whole map on the base branch",
			branch:  "main",
			steps:   []gitsync.Prepare{whole(map[string]string{"a.yaml": "a1", "sub/b.yaml": "b1"})},
			want:    map[string]string{"a.yaml": "a1", "sub/b.yaml": "b1"},
			commits: 1,
		},
		{
			name:   "same content again makes no commit",
			branch: "driftback/c1",
			steps: []gitsync.Prepare{
				whole(map[string]string{"a.yaml": "a1"}),
				whole(map[string]string{"a.yaml": "a1"}),
			},
			want:    map[string]string{"a.yaml": "a1"},
			commits: 1,
		},
		{
			name:   "whole map modifies and removes",
			branch: "driftback/c1",
			steps: []gitsync.Prepare{
				whole(map[string]string{"a.yaml": "a1", "sub/b.yaml": "b1", "sub/c.yaml": "c1"}),
				whole(map[string]string{"a.yaml": "a2", "sub/c.yaml": "c1"}),
			},
			want:    map[string]string{"a.yaml": "a2", "sub/b.yaml": "", "sub/c.yaml": "c1"},
			commits: 2,
		},
		{
			name:   "delta changes and removes, unchanged delta makes no commit",
			branch: "driftback/c1",
			steps: []gitsync.Prepare{
				whole(map[string]string{"a.yaml": "a1", "sub/b.yaml": "b1"}),
				delta(map[string]string{"a.yaml": "a2", "new/d.yaml": "d1"}, "sub/b.yaml"),
				delta(map[string]string{"a.yaml": "a2"}),
			},
			want:    map[string]string{"a.yaml": "a2", "new/d.yaml": "d1", "sub/b.yaml": ""},
			commits: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := gitserver.New(t, gitserver.Options{})
			url, repoDir := srv.CreateRepo(t, "fleet")
			gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x", "clusters/c1/other.yaml": "keep"})
			r := open(t, url)
			made := 0
			for _, step := range tc.steps {
				res := publish(t, r, target(tc.branch, "main", dir), step)
				// Every round fetches and builds over HTTP; a pushed one
				// says how long its push took.
				if res.Took.Fetch <= 0 || res.Took.Build <= 0 {
					t.Errorf("timings %+v: want the fetch and the build timed", res.Took)
				}
				if !res.Commit.IsZero() {
					made++
					if res.Took.Push <= 0 {
						t.Errorf("timings %+v of a pushed commit: want the push timed", res.Took)
					}
				}
			}
			if made != tc.commits {
				t.Errorf("made %d commits, want %d", made, tc.commits)
			}
			got, _ := files(t, repoDir, tc.branch)
			for p, want := range tc.want {
				if got[dir+"/"+p] != want {
					t.Errorf("%s = %q, want %q", p, got[dir+"/"+p], want)
				}
			}
			if got["apps/x.yaml"] != "x" || got["clusters/c1/other.yaml"] != "keep" {
				t.Errorf("files outside %s changed: %v", dir, got)
			}
			// A fresh process (empty cache) sees the same state: no commit.
			last := map[string]string{}
			for p, c := range tc.want {
				if c != "" {
					last[p] = c
				}
			}
			if res := publish(t, open(t, url), target(tc.branch, "main", dir), whole(last)); !res.Commit.IsZero() {
				t.Errorf("a restarted writer committed again: %v", res.Changes)
			}
		})
	}
}

func TestSideBranchFollowsBase(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x1"})
	r := open(t, url)
	tg := target("driftback/c1", "main", dir)
	publish(t, r, tg, whole(map[string]string{"a.yaml": "a1"}))
	publish(t, r, tg, whole(map[string]string{"a.yaml": "a2"}))

	// A person changes the base; the next publish re-derives the side
	// branch on the new tip, carrying driftback's directory over.
	gitserver.Run(t, "", "bash", "-c", `set -e; w=$(mktemp -d); git clone -q "$0" "$w"; cd "$w"; echo x2 > apps/x.yaml;
		git -c user.name=p -c user.email=p@x commit -qam "person"; git push -q origin main`, repoDir)
	res := publish(t, r, tg, whole(map[string]string{"a.yaml": "a3"}))
	if !res.Rederived {
		t.Fatalf("publish after the base moved did not re-derive the side branch")
	}
	got, tip := files(t, repoDir, "driftback/c1")
	_, mainTip := files(t, repoDir, "main")
	if tip.ParentHashes[0] != mainTip.Hash {
		t.Errorf("side branch parent = %s, want the base tip %s", tip.ParentHashes[0], mainTip.Hash)
	}
	if got["apps/x.yaml"] != "x2\n" || got[dir+"/a.yaml"] != "a3" {
		t.Errorf("side branch = %v, want the new base plus a3", got)
	}
	if !strings.Contains(tip.Message, "Driftback-Base: "+mainTip.Hash.String()) {
		t.Errorf("commit lacks the base trailer:\n%s", tip.Message)
	}
	// What the branch adds to the base: the directory, whatever the history.
	ch, err := r.BranchChanges(t.Context(), "driftback/c1", "main", dir)
	if err != nil || len(ch) != 1 || ch[0].Path != "a.yaml" || ch[0].Op != gitsync.Added || string(ch[0].New) != "a3" {
		t.Errorf("BranchChanges = %+v, %v; want a.yaml added as a3", ch, err)
	}
	if c, ch, err := r.LastChange(t.Context(), "driftback/c1", dir); err != nil || string(c) != tip.Hash.String() || len(ch) != 1 {
		t.Errorf("LastChange = %s %+v %v; want the tip with one change", c, ch, err)
	}
	// The base moves again with no change in the cluster: still re-derived.
	gitserver.Run(t, "", "bash", "-c", `set -e; w=$(mktemp -d); git clone -q "$0" "$w"; cd "$w"; echo y > apps/y.yaml; git add -A;
		git -c user.name=p -c user.email=p@x commit -qm "person 2"; git push -q origin main`, repoDir)
	if res := publish(t, r, tg, whole(map[string]string{"a.yaml": "a3"})); !res.Rederived || len(res.Changes) != 0 {
		t.Errorf("base moved, no change: rederived=%v changes=%v", res.Rederived, res.Changes)
	}
	if got, _ := files(t, repoDir, "driftback/c1"); got["apps/y.yaml"] != "y\n" || got[dir+"/a.yaml"] != "a3" {
		t.Errorf("side branch did not follow the base: %v", got)
	}
}

func TestSideBranchWithForeignCommitIsNeverForced(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x1"})
	r := open(t, url)
	tg := target("driftback/c1", "main", dir)
	publish(t, r, tg, whole(map[string]string{"a.yaml": "a1"}))
	// A person commits on driftback's branch, then the base moves.
	gitserver.Run(t, "", "bash", "-c", `set -e; w=$(mktemp -d); git clone -q -b driftback/c1 "$0" "$w"; cd "$w"; echo n > note.txt; git add -A;
		git -c user.name=p -c user.email=p@x commit -qm "person on side"; git push -q origin driftback/c1;
		git checkout -q main; echo x2 > apps/x.yaml; git -c user.name=p -c user.email=p@x commit -qam "base"; git push -q origin main`, repoDir)
	res := publish(t, r, tg, whole(map[string]string{"a.yaml": "a2"}))
	if res.Rederived {
		t.Fatalf("re-derived a side branch holding a person's commit")
	}
	got, _ := files(t, repoDir, "driftback/c1")
	if got["note.txt"] != "n\n" || got[dir+"/a.yaml"] != "a2" {
		t.Errorf("the person's commit or the capture is missing: %v", got)
	}
	subjects := history(t, repoDir, "driftback/c1")
	if !strings.Contains(strings.Join(subjects, "|"), "person on side") {
		t.Errorf("history lost the person's commit: %v", subjects)
	}
}

func TestBaseBranchIsNeverSide(t *testing.T) {
	r := open(t, "file:///nonexistent")
	tg := target("main", "main", dir)
	tg.Mode = gitsync.ModeSide
	if _, err := r.Publish(t.Context(), tg, whole(nil)); err == nil || !strings.Contains(err.Error(), "never forces the base branch") {
		t.Fatalf("side mode on the base branch: err = %v", err)
	}
}

func TestPrepareErrorStopsAtOnceAndIsNotAGitFailure(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
	r := open(t, url)
	guard := errors.New("refused by a safety rule")
	calls := 0
	tg := target("driftback/c1", "main", dir)
	tg.Attempts = 10
	_, err := r.Publish(t.Context(), tg, func(fs.FS) (gitsync.Content, error) { calls++; return gitsync.Content{}, guard })
	if !errors.Is(err, guard) || calls != 1 {
		t.Errorf("err = %v after %d calls; want the guard's error after one", err, calls)
	}
	if n := metric(t, r, "driftback_git_push_failures_total"); n != 0 {
		t.Errorf("a refusal by the caller counted %v push failures", n)
	}
	for _, bad := range []string{"../x.yaml", "a//b.yaml", "/abs.yaml", "a/./b.yaml"} {
		if _, err := r.Publish(t.Context(), tg, whole(map[string]string{bad: "x"})); err == nil || !strings.Contains(err.Error(), "invalid path") {
			t.Errorf("path %q: err = %v, want invalid path", bad, err)
		}
	}
}

func TestPublishIntoEmptyRepository(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "empty")
	r := open(t, url)
	res := publish(t, r, target("driftback/c1", "main", dir), whole(map[string]string{"a.yaml": "a1"}))
	if res.Commit.IsZero() || !res.Parent.IsZero() {
		t.Fatalf("first commit %s with parent %s; want a root commit", res.Commit, res.Parent)
	}
	got, c := files(t, repoDir, "driftback/c1")
	if len(got) != 1 || got[dir+"/a.yaml"] != "a1" || c.NumParents() != 0 {
		t.Errorf("branch = %v (parents %d)", got, c.NumParents())
	}
	// A second writer, for another directory, appends to it.
	publish(t, open(t, url), target("driftback/c1", "main", "clusters/c2"), whole(map[string]string{"b.yaml": "b1"}))
	if got, _ := files(t, repoDir, "driftback/c1"); got[dir+"/a.yaml"] != "a1" || got["clusters/c2/b.yaml"] != "b1" {
		t.Errorf("branch = %v, want both writers' files", got)
	}
}
