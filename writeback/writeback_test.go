package writeback_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/render"
	"github.com/driftback/driftback/writeback"
)

const dir = "clusters/c1/driftback"

func meta(uid string) string {
	return fmt.Sprintf("apiVersion: driftback.dev/v1alpha1\nkind: Overlay\nformatVersion: 1\ncluster: c1\nclusterUID: %s\n", uid)
}

// statusCaps are n captures of status only: an overlay of them builds with
// no base.
func statusCaps(n int) []capture.Capture {
	out := make([]capture.Capture, n)
	for i := range out {
		name := fmt.Sprintf("b%02d", i)
		out[i] = capture.Capture{
			Ref:    capture.ObjectRef{Group: "s3.aws.upbound.io", Version: "v1beta1", Kind: "Bucket", Name: name},
			Mode:   capture.ModePatch,
			Object: map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket", "metadata": map[string]any{"name": name}},
			Status: map[string]any{"atProvider": map[string]any{"arn": "arn:aws:s3:::" + name}},
		}
	}
	return out
}

// branchOf is the repository tree holding the overlay of caps, written by
// cluster uid.
func branchOf(t *testing.T, uid string, caps []capture.Capture) fstest.MapFS {
	t.Helper()
	tree, err := render.Render(caps, render.Layout{Cluster: "c1", ClusterUID: uid})
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for p, b := range tree {
		fsys[dir+"/"+p] = &fstest.MapFile{Data: b}
	}
	return fsys
}

func TestCheckIdentity(t *testing.T) {
	tests := []struct {
		name      string
		fsys      fstest.MapFS
		adopt     bool
		wantGuard bool
		wantErr   bool
	}{
		{name: "no overlay yet", fsys: fstest.MapFS{}},
		{name: "this cluster's overlay", fsys: fstest.MapFS{dir + "/.driftback.yaml": {Data: []byte(meta("uid-a"))}}},
		{name: "another cluster's overlay", fsys: fstest.MapFS{dir + "/.driftback.yaml": {Data: []byte(meta("uid-b"))}}, wantGuard: true, wantErr: true},
		{name: "another cluster's overlay, adopted", fsys: fstest.MapFS{dir + "/.driftback.yaml": {Data: []byte(meta("uid-b"))}}, adopt: true},
		{name: "a record that is not one", fsys: fstest.MapFS{dir + "/.driftback.yaml": {Data: []byte("kind: Other\n")}}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := writeback.CheckIdentity(tc.fsys, dir, "uid-a", tc.adopt)
			if (err != nil) != tc.wantErr || errors.Is(err, writeback.ErrGuard) != tc.wantGuard {
				t.Fatalf("err = %v, want error %v, guard %v", err, tc.wantErr, tc.wantGuard)
			}
		})
	}
}

func TestCheckShrink(t *testing.T) {
	render10 := func(n int) render.Tree {
		tree, err := render.Render(statusCaps(n), render.Layout{Cluster: "c1", ClusterUID: "uid-a"})
		if err != nil {
			t.Fatal(err)
		}
		return tree
	}
	tests := []struct {
		name     string
		recorded int
		now      int
		maxShare float64
		want     string // "" = allowed
	}{
		{name: "nothing recorded", recorded: 0, now: 0, maxShare: 0.2},
		{name: "growth", recorded: 5, now: 10, maxShare: 0},
		{name: "2 of 10 at 20%", recorded: 10, now: 8, maxShare: 0.2},
		{name: "3 of 10 at 20%", recorded: 10, now: 7, maxShare: 0.2, want: "drop 3 of the 10 objects"},
		{name: "all of them, whatever the share", recorded: 10, now: 0, maxShare: 1, want: "drop 10 of the 10 objects"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := fstest.MapFS{}
			if tc.recorded > 0 {
				parent = branchOf(t, "uid-a", statusCaps(tc.recorded))
			}
			err := writeback.CheckShrink(parent, dir, render10(tc.now), tc.maxShare)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, writeback.ErrGuard) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--allow-deletions") {
				t.Fatalf("err = %v, want the guard saying %q", err, tc.want)
			}
		})
	}
}

// fakeRepo runs the prepare callback on an in-memory branch, as gitsync
// does on the fetched tip; a successful prepare becomes the new tip.
type fakeRepo struct {
	mu      sync.Mutex
	branch  fstest.MapFS // nil: the branch does not exist
	reads   int
	commits int
	// unverified fails ReadBranchVerified.
	unverified error
	// keyed hands prepare a parent that names its content outside a
	// directory, as gitsync's parents do; hashed also names the
	// directory's content (DirHash) and the result's Dir, and takes
	// Updates.
	keyed, hashed bool
	// updates counts the publishes handed as an Update.
	updates int
}

func (r *fakeRepo) Publish(_ context.Context, t gitsync.Target, prepare gitsync.Prepare) (gitsync.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	parent := r.branch
	if parent == nil {
		parent = fstest.MapFS{}
	}
	var prep fs.FS = parent
	switch {
	case r.hashed:
		prep = hashedFS{keyedFS{parent}}
	case r.keyed:
		prep = keyedFS{parent}
	}
	c, err := prepare(prep)
	if err != nil {
		return gitsync.Result{}, err
	}
	next := fstest.MapFS{}
	for p, f := range parent {
		if !strings.HasPrefix(p, t.Dir+"/") || c.Update != nil {
			next[p] = f
		}
	}
	if c.Update != nil {
		r.updates++
		for _, p := range c.Update.Removed {
			if _, both := c.Update.Changed[p]; both {
				return gitsync.Result{}, fmt.Errorf("update: %q is both changed and removed", p)
			}
			delete(next, t.Dir+"/"+p)
		}
		for p, b := range c.Update.Changed {
			next[t.Dir+"/"+p] = &fstest.MapFile{Data: b}
		}
	}
	for p, b := range c.Files {
		next[t.Dir+"/"+p] = &fstest.MapFile{Data: b}
	}
	res := gitsync.Result{}
	if r.hashed {
		res.Dir = dirHash(next, t.Dir)
		if res.Dir == dirHash(parent, t.Dir) {
			return res, nil // nothing changed: no commit, as gitsync
		}
	}
	r.branch = next
	r.commits++
	res.Commit = gitsync.Hash(fmt.Sprintf("%040d", r.commits))
	return res, nil
}

// hashedFS names the content of a directory as gitsync's parent does
// (gitsync.treeFS.DirHash).
type hashedFS struct{ keyedFS }

func (h hashedFS) DirHash(d string) (gitsync.Hash, bool) { return dirHash(h.MapFS, d), true }

func dirHash(fsys fstest.MapFS, d string) gitsync.Hash {
	var names []string
	for p := range fsys {
		if strings.HasPrefix(p, d+"/") {
			names = append(names, p)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	h := sha256.New()
	for _, p := range names {
		fmt.Fprintf(h, "%s\x00%x\x00", p, sha256.Sum256(fsys[p].Data))
	}
	return gitsync.Hash(hex.EncodeToString(h.Sum(nil)))
}

func (r *fakeRepo) ReadBranch(context.Context, string) (fs.FS, gitsync.Hash, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads++
	if r.branch == nil {
		return nil, "", fmt.Errorf("branch x: %w", gitsync.ErrNoBranch)
	}
	return r.branch, "", nil
}

// ReadBranchVerified verifies nothing: a fake branch has no commits; the
// real check is tested in gitsync and cmd/driftback.
func (r *fakeRepo) ReadBranchVerified(ctx context.Context, branch, _, _ string, _ *gitsync.TrustedKeys) (fs.FS, gitsync.Hash, []gitsync.Verified, error) {
	if r.unverified != nil {
		return nil, "", nil, r.unverified
	}
	fsys, h, err := r.ReadBranch(ctx, branch)
	return fsys, h, nil, err
}

func (r *fakeRepo) set(fsys fstest.MapFS) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.branch = fsys
}

func testConfig() *config.Config {
	cfg := &config.Config{}
	cfg.Cluster = "c1"
	cfg.Git = config.Git{Branch: "driftback/c1", BaseBranch: "main", Path: dir, Mode: "side"}
	return cfg
}

func TestPublishRefusesAndReArmsAllowDeletions(t *testing.T) {
	repo := &fakeRepo{branch: branchOf(t, "uid-a", statusCaps(10))}
	w := writeback.New(testConfig(), repo, "uid-a", writeback.Options{MaxDeleteShare: 0.2, AllowDeletions: true})
	// Confirmed: half the objects are really gone.
	if _, err := w.Publish(t.Context(), statusCaps(5)); err != nil {
		t.Fatalf("publish with --allow-deletions: %v", err)
	}
	if keys := overlayKeys(t, repo.branch); len(keys) != 5 {
		t.Fatalf("branch holds %d objects, want 5", len(keys))
	}
	// The confirmation is spent: the next mass deletion is refused again.
	_, err := w.Publish(t.Context(), statusCaps(1))
	if reason, ok := writeback.RefusalReason(err); !ok || reason != writeback.RefusedMassDeletion {
		t.Fatalf("err = %v (reason %q), want a mass-deletion refusal", err, reason)
	}
	if keys := overlayKeys(t, repo.branch); len(keys) != 5 {
		t.Errorf("a refused publish changed the branch: %d objects", len(keys))
	}
}

func TestPublishRefusesAnotherClustersOverlay(t *testing.T) {
	for _, adopt := range []bool{false, true} {
		t.Run(fmt.Sprintf("adopt=%v", adopt), func(t *testing.T) {
			repo := &fakeRepo{branch: branchOf(t, "uid-lost", statusCaps(3))}
			w := writeback.New(testConfig(), repo, "uid-new", writeback.Options{Adopt: adopt, MaxDeleteShare: 0.2})
			_, err := w.Publish(t.Context(), statusCaps(3))
			reason, refused := writeback.RefusalReason(err)
			if refused == adopt || (refused && reason != writeback.RefusedIdentity) {
				t.Fatalf("adopt %v: err = %v (reason %q)", adopt, err, reason)
			}
			m, _, _ := overlay.ReadMeta(repo.branch, dir)
			if want := map[bool]string{false: "uid-lost", true: "uid-new"}[adopt]; m.ClusterUID != want {
				t.Errorf("branch records %q, want %q", m.ClusterUID, want)
			}
		})
	}
}

func overlayKeys(t *testing.T, fsys fs.FS) map[string]bool {
	t.Helper()
	ov, err := overlay.Read(fsys, dir)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, f := range ov.Status {
		keys[f.Path] = true
	}
	return keys
}

func TestAwaitAdoption(t *testing.T) {
	tests := []struct {
		name        string
		branch      fstest.MapFS
		adopt       bool
		complete    bool
		wantRestore bool
		wantWait    bool // returns only once the branch records this cluster
	}{
		{name: "no branch yet", branch: nil},
		{name: "this cluster's branch", branch: branchOf(t, "uid-new", statusCaps(2))},
		{name: "rebuilt, adopted at once", branch: branchOf(t, "uid-lost", statusCaps(2)), adopt: true, complete: true, wantRestore: true},
		{name: "rebuilt, restore incomplete: waits despite --adopt", branch: branchOf(t, "uid-lost", statusCaps(2)), adopt: true, wantRestore: true, wantWait: true},
		{name: "rebuilt, no --adopt: waits", branch: branchOf(t, "uid-lost", statusCaps(2)), complete: true, wantRestore: true, wantWait: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repo := &fakeRepo{branch: tc.branch}
			w := writeback.New(testConfig(), repo, "uid-new", writeback.Options{Adopt: tc.adopt})
			var restored []overlay.File
			start := writeback.Startup{RestoreOnStart: true, AdoptionPoll: time.Millisecond, Unverified: true,
				Restore: func(_ context.Context, _ io.Writer, status []overlay.File) bool {
					restored = status
					// Someone adopts the branch while the writer waits.
					repo.set(branchOf(t, "uid-new", statusCaps(2)))
					return tc.complete
				}}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			if err := w.AwaitAdoption(ctx, &bytes.Buffer{}, start); err != nil {
				t.Fatal(err)
			}
			if ctx.Err() != nil {
				t.Fatal("AwaitAdoption returned only at the deadline")
			}
			if got := restored != nil; got != tc.wantRestore {
				t.Errorf("restored = %v, want %v", got, tc.wantRestore)
			} else if tc.wantRestore && len(restored) != 2 {
				t.Errorf("restored %d status files, want 2", len(restored))
			}
			// One read at start; waiting polls the branch again.
			if waited := repo.reads > 1; waited != tc.wantWait {
				t.Errorf("branch read %d times; want waiting %v", repo.reads, tc.wantWait)
			}
		})
	}
}

// With trusted keys, the start-up restore reads the branch only through
// the provenance check: a branch that fails it restores nothing and is not
// adopted, even with --adopt.
func TestAwaitAdoptionChecksProvenance(t *testing.T) {
	keys, err := gitsync.ParseTrustedKeys([]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIXv0hJkVbH2X0Gq0mHjg2B5cG3oL1kQ9WJ3J8aL0xWb test\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		keys     *gitsync.TrustedKeys
		verified bool
	}{
		{name: "verified", keys: keys, verified: true},
		{name: "not verified", keys: keys},
		{name: "no keys and no --restore-unverified"},
	} {
		verified := tc.verified
		t.Run(tc.name, func(t *testing.T) {
			repo := &fakeRepo{branch: branchOf(t, "uid-lost", statusCaps(2))}
			if !verified {
				repo.unverified = fmt.Errorf("%w: commit abc carries no signature", gitsync.ErrUnverified)
			}
			w := writeback.New(testConfig(), repo, "uid-new", writeback.Options{Adopt: true})
			restored := false
			start := writeback.Startup{RestoreOnStart: true, AdoptionPoll: time.Millisecond, TrustedKeys: tc.keys,
				Restore: func(context.Context, io.Writer, []overlay.File) bool { restored = true; return true }}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			if err := w.AwaitAdoption(ctx, &bytes.Buffer{}, start); err != nil {
				t.Fatal(err)
			}
			if restored != verified {
				t.Errorf("restored = %v, want %v", restored, verified)
			}
			// Adopted at once only when verified; otherwise it waits
			// until the deadline (nobody adopts in this test).
			if adopted := ctx.Err() == nil; adopted != verified {
				t.Errorf("adopted = %v, want %v", adopted, verified)
			}
		})
	}
}
