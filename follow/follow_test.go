package follow

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
	"github.com/driftback/driftback/render"
)

const dir = "clusters/c1/driftback"

// fixture is a fleet repository whose main holds a base and whose side
// branch holds an overlay over it, as driftback's first publish leaves it.
func fixture(t testing.TB) (f *Follower, repoDir string) {
	t.Helper()
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{
		"base/kustomization.yaml": "resources: [cm.yaml]\n",
		"base/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: b\n",
	})
	repo, err := gitsync.Auth{}.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	tg := gitsync.Target{Branch: "driftback/c1", BaseBranch: "main", Dir: dir, AuthorName: "driftback", AuthorEmail: "driftback@localhost"}
	overlay := render.Tree{
		"kustomization.yaml": []byte("resources: [../../../base]\npatches: [{path: patches/app.yaml}]\n"),
		"patches/app.yaml":   []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  id: captured\n"),
	}
	// merged/ as writeback writes it (overlay.merged), over main as seeded.
	merged, err := render.Remerge(fstest.MapFS{
		"base/kustomization.yaml": {Data: []byte("resources: [cm.yaml]\n")},
		"base/cm.yaml":            {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: b\n")},
	}, dir, overlay)
	if err != nil {
		t.Fatal(err)
	}
	for p, b := range merged {
		overlay[p] = b
	}
	if _, err := repo.Publish(context.Background(), tg, func(fs.FS) (gitsync.Content, error) { return gitsync.Content{Files: overlay}, nil }); err != nil {
		t.Fatal(err)
	}
	return &Follower{Repo: repo, Target: tg, Interval: time.Hour, Metrics: NewMetrics()}, repoDir
}

// commit appends a commit to main of the bare repository, as a merge does;
// content "" removes the file.
func commit(t testing.TB, repoDir, path, content string) string {
	t.Helper()
	work := t.TempDir()
	gitserver.Run(t, "", "git", "clone", "-q", "-b", "main", repoDir, work)
	full := filepath.Join(work, filepath.FromSlash(path))
	if content == "" {
		gitserver.Run(t, work, "git", "rm", "-q", path)
	} else {
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		gitserver.Run(t, work, "git", "add", "-A")
	}
	gitserver.Run(t, work, "git", "-c", "user.name=dev", "-c", "user.email=dev@localhost", "commit", "-q", "-m", "merge "+path)
	gitserver.Run(t, work, "git", "push", "-q", "origin", "main")
	return strings.TrimSpace(gitserver.Run(t, work, "git", "rev-parse", "HEAD"))
}

func TestOnceCarriesTheOverlayOntoTheNewBase(t *testing.T) {
	f, repoDir := fixture(t)
	ctx := context.Background()
	if err := f.Once(ctx); err != nil {
		t.Fatal(err)
	}
	before := strings.TrimSpace(gitserver.Run(t, repoDir, "git", "rev-parse", "driftback/c1"))
	if err := f.Once(ctx); err != nil {
		t.Fatal(err)
	}
	if now := strings.TrimSpace(gitserver.Run(t, repoDir, "git", "rev-parse", "driftback/c1")); now != before {
		t.Fatalf("the base did not move, yet the side branch moved from %s to %s", before, now)
	}

	tip := commit(t, repoDir, "apps/new.yaml", "# merged\n")
	if err := f.Once(ctx); err != nil {
		t.Fatal(err)
	}
	files, c, _ := gitserver.BranchFiles(t, repoDir, "driftback/c1")
	if files["apps/new.yaml"] == "" || !strings.Contains(files[dir+"/patches/app.yaml"], "captured") {
		t.Fatalf("side branch files %v: want main's new file and the carried overlay", files)
	}
	if !strings.Contains(c.Message, gitsync.TrailerBase+": "+tip) || c.NumParents() != 1 || c.ParentHashes[0].String() != tip {
		t.Fatalf("side tip %s (parents %v): want it built on main's tip %s", c.Hash, c.ParentHashes, tip)
	}

	// A base the overlay no longer builds on: nothing committed, an error.
	commit(t, repoDir, "base/cm.yaml", "")
	err := f.Once(ctx)
	if !errors.Is(err, ErrBuild) {
		t.Fatalf("base without the patched object: err = %v, want ErrBuild", err)
	}
	if _, c2, _ := gitserver.BranchFiles(t, repoDir, "driftback/c1"); c2.Hash != c.Hash {
		t.Fatalf("a side branch that does not build was pushed: %s", c2.Hash)
	}
}

// merged/ stands for the base's objects: when main changes them, the
// follower builds it again, so Argo CD pointed at merged/ applies main's
// change with the captured fields kept.
func TestOnceRebuildsMergedOnTheNewBase(t *testing.T) {
	f, repoDir := fixture(t)
	commit(t, repoDir, "base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: changed-on-main\n")
	commit(t, repoDir, "base/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n")
	commit(t, repoDir, "base/kustomization.yaml", "resources: [cm.yaml, extra.yaml]\n")
	if err := f.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, c, _ := gitserver.BranchFiles(t, repoDir, "driftback/c1")
	app := files[dir+"/merged/_cluster/core_ConfigMap/a1/app.yaml"]
	if !strings.Contains(app, "a: changed-on-main") || !strings.Contains(app, "id: captured") {
		t.Errorf("merged app after main moved:\n%s\nwant main's change and the captured field", app)
	}
	if files[dir+"/merged/_cluster/core_ConfigMap/c8/extra.yaml"] == "" || !strings.Contains(files[dir+"/merged/kustomization.yaml"], "extra.yaml") {
		t.Errorf("the object main added is not in merged/: %v", files[dir+"/merged/kustomization.yaml"])
	}
	if !strings.Contains(c.Message, "merged/ is built again") {
		t.Errorf("commit message does not say merged/ was rebuilt:\n%s", c.Message)
	}
	mfs := fstest.MapFS{}
	for p, b := range files {
		mfs[p] = &fstest.MapFile{Data: []byte(b)}
	}
	out, err := render.Build(mfs, dir+"/merged", nil)
	if err != nil {
		t.Fatalf("merged/ does not build after the follower: %v", err)
	}
	if n := strings.Count(string(out), "kind: ConfigMap"); n != 2 {
		t.Errorf("merged/ builds %d ConfigMaps, want 2:\n%s", n, out)
	}
}

// A standby measures the lag but never writes.
func TestOnceOnAStandbyOnlyMeasures(t *testing.T) {
	f, repoDir := fixture(t)
	f.Active = func() bool { return false }
	commit(t, repoDir, "apps/x.yaml", "# x\n")
	commit(t, repoDir, "apps/y.yaml", "# y\n")
	before := strings.TrimSpace(gitserver.Run(t, repoDir, "git", "rev-parse", "driftback/c1"))
	if err := f.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if now := strings.TrimSpace(gitserver.Run(t, repoDir, "git", "rev-parse", "driftback/c1")); now != before {
		t.Fatalf("a standby moved the side branch")
	}
	if got := gaugeValue(t, f.Metrics.behindCommits); got != 2 {
		t.Errorf("behind commits = %v, want 2", got)
	}
}

// A chain of two shards (docs/sharding.md): b builds on a, which builds on
// the base. When main drops the object only b patches, a still builds and
// b does not: neither follower may move the side branch (the last
// directory is what Argo CD and Flux apply), and each asks its writer to
// render again over the new base, once per base tip.
func TestOnceKeepsTheLastShardBuilding(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	cm := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  a: b\n"
	}
	gitserver.Seed(t, repoDir, "main", map[string]string{
		"base/kustomization.yaml": "resources: [app.yaml, vol.yaml]\n",
		"base/app.yaml":           cm("app"),
		"base/vol.yaml":           cm("vol"),
	})
	repo, err := gitsync.Auth{}.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	const a, b = "clusters/c1/driftback-a", "clusters/c1/driftback-b"
	shard := func(d, resource, patched string) gitsync.Target {
		tg := gitsync.Target{Branch: "driftback/c1", BaseBranch: "main", Dir: d, AuthorName: "driftback", AuthorEmail: "driftback@localhost"}
		files := render.Tree{
			".driftback.yaml":    []byte("cluster: c1\n"),
			"kustomization.yaml": []byte("resources: [" + resource + "]\npatches: [{path: patches/p.yaml}]\n"),
			"patches/p.yaml":     []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + patched + "\ndata:\n  id: captured\n"),
		}
		if _, err := repo.Publish(context.Background(), tg, func(fs.FS) (gitsync.Content, error) { return gitsync.Content{Files: files}, nil }); err != nil {
			t.Fatal(err)
		}
		return tg
	}
	ta, tb := shard(a, "../../../base", "app"), shard(b, "../driftback-a", "vol")
	reruns := map[string]int{}
	follower := func(tg gitsync.Target) *Follower {
		return &Follower{Repo: repo, Target: tg, Interval: time.Hour, Metrics: NewMetrics(), Rerender: func() { reruns[tg.Dir]++ }}
	}
	fa, fb := follower(ta), follower(tb)
	for _, f := range []*Follower{fa, fb} {
		if err := f.Once(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	before := strings.TrimSpace(gitserver.Run(t, repoDir, "git", "rev-parse", "driftback/c1"))

	commit(t, repoDir, "base/kustomization.yaml", "resources: [app.yaml]\n")
	err = fa.Once(context.Background())
	if !errors.Is(err, ErrBuild) || !strings.Contains(err.Error(), b) {
		t.Fatalf("first shard's follower: err = %v, want ErrBuild naming %s", err, b)
	}
	for range 2 {
		if err := fb.Once(context.Background()); !errors.Is(err, ErrBuild) {
			t.Fatalf("last shard's follower: err = %v, want ErrBuild", err)
		}
	}
	if now := strings.TrimSpace(gitserver.Run(t, repoDir, "git", "rev-parse", "driftback/c1")); now != before {
		t.Fatalf("the side branch moved to %s with a last directory that does not build", now)
	}
	if reruns[a] != 1 || reruns[b] != 1 {
		t.Errorf("rerenders %v: want each shard's writer asked once for the new base tip", reruns)
	}

	// The last shard renders over the new base (its patch is kept under
	// unmatched/, not applied): now the first shard's follower has
	// nothing left to do, and both directories build.
	if _, err := repo.Publish(context.Background(), tb, func(fs.FS) (gitsync.Content, error) {
		return gitsync.Content{Files: render.Tree{
			".driftback.yaml":    []byte("cluster: c1\n"),
			"kustomization.yaml": []byte("resources: [../driftback-a]\n"),
			"unmatched/vol.yaml": []byte(cm("vol")),
		}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := fa.Once(context.Background()); err != nil {
		t.Fatalf("first shard's follower after the last one rendered again: %v", err)
	}
	files, _, _ := gitserver.BranchFiles(t, repoDir, "driftback/c1")
	mfs := fstest.MapFS{}
	for p, c := range files {
		mfs[p] = &fstest.MapFile{Data: []byte(c)}
	}
	if _, err := render.Build(mfs, b, nil); err != nil {
		t.Fatalf("the last directory does not build: %v", err)
	}
}
