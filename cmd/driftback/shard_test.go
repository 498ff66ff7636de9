package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
	"github.com/driftback/driftback/overlay"
)

var instanceGVR = schema.GroupVersionResource{Group: "rds.aws.upbound.io", Version: "v1beta1", Resource: "instances"}

// One cluster sharded across two `driftback run` processes (docs/sharding.md):
// shard "buckets" captures Buckets into its directory over the base, shard
// "databases" captures RDS Instances into another directory whose only
// resource is the first shard's, on the same side branch; Argo CD or Flux
// apply the databases directory. Both write, neither erases the other, a
// lost push race is retried on the new parent, the branch follows its base
// with both directories, every commit builds at the last directory with
// both shards' fields, and a rebuild from it (apply, restore per shard,
// drill --verify-only per shard) brings back both kinds.
func TestRunShardedAcrossTwoProcesses(t *testing.T) {
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	const (
		cluster = "sharded"
		branch  = "driftback/" + cluster
		dirA    = "clusters/" + cluster + "/driftback-buckets"
		dirB    = "clusters/" + cluster + "/driftback-databases"
	)
	buckets, dbs := []string{"shard-b1", "shard-b2"}, []string{"shard-d1", "shard-d2"}
	seed := map[string]string{}
	var res []string
	for _, n := range buckets {
		seed["base/"+n+".yaml"] = strings.ReplaceAll(bucketBase, "%s", n)
		res = append(res, n+".yaml")
		applyBucket(t, dyn, n, n+"-v0", "arn:"+n+"-v0")
	}
	for _, n := range dbs {
		seed["base/"+n+".yaml"] = strings.ReplaceAll(instanceBase, "%s", n)
		res = append(res, n+".yaml")
		applyInstance(t, dyn, n, n+"-v0", "arn:"+n+"-v0")
	}
	seed["base/kustomization.yaml"] = "resources: [" + strings.Join(res, ", ") + "]\n"
	gitserver.Seed(t, repoDir, "main", seed)

	// The same cluster, branch and kind of rule; a shard name, a directory
	// and a group each. The databases shard lists the buckets shard.
	shardConfig := func(shard, resource, group, kind string) string {
		return runConfig(t, `cluster: `+cluster+`
shard: `+shard+`
git:
  branch: `+branch+`
overlay:
  resources: [`+resource+`]
rules:
- name: `+shard+`
  match: {apiGroups: [`+group+`], kinds: [`+kind+`], names: ["shard-*"]}
  fields:
  - metadata.annotations["crossplane.io/external-name"]
  - status.atProvider
  exclude: [status.atProvider.lastSeen]
`)
	}
	cfgA := shardConfig("buckets", "../../../base", "s3.aws.upbound.io", "Bucket")
	cfgB := shardConfig("databases", "../driftback-buckets", "rds.aws.upbound.io", "Instance")
	out, err := runCLI(t, "shards", "--config", cfgB, "--config", cfgA)
	if err != nil {
		t.Fatalf("driftback shards: %v", err)
	}
	if !strings.Contains(out, "apply "+dirB+" with Argo CD") || strings.Index(out, "driftback-sharded-buckets") > strings.Index(out, "driftback-sharded-databases") {
		t.Fatalf("driftback shards printed the wrong chain:\n%s", out)
	}

	// A pre-receive hook holds the first armed push of the databases shard
	// until another push moved the branch: that push then loses the race
	// on the server (its expected old tip is gone) and must be rebuilt on
	// the new parent. The hook polls the ref with a deadline.
	arm, held := filepath.Join(t.TempDir(), "arm"), filepath.Join(t.TempDir(), "held")
	gitserver.Hook(t, repoDir, "pre-receive", fmt.Sprintf(`while read old new ref; do
  [ -f %[1]s ] && [ ! -f %[2]s ] || continue
  git log -1 --format=%%B "$new" | grep -q "^%[3]s: %[4]s$" || continue
  touch %[2]s
  i=0
  while [ "$(git rev-parse -q --verify "$ref")" = "$old" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
done
exit 0`, arm, held, gitsync.TrailerDir, dirB))

	// Two processes started together, each with --leader-elect and no
	// Lease name: the shard names give them one each.
	common := []string{"--repo", url, "--debounce", "200ms", "--base-poll", "300ms", "--leader-elect",
		"--leader-election-namespace", "default", "--leader-election-lease-duration", "4s",
		"--leader-election-renew-deadline", "3s", "--leader-election-retry-period", "500ms"}
	repA := startReplica(t, append([]string{"--config", cfgA}, common...)...)
	repB := startReplica(t, append([]string{"--config", cfgB}, common...)...)

	file := func(dir, kind, sub, n string) string {
		return dir + "/" + sub + "/_cluster/" + kind + "/" + overlay.Bucket(n) + "/" + n + ".yaml"
	}
	bucketPatch := func(n string) string { return file(dirA, "s3.aws.upbound.io_Bucket", "patches", n) }
	bucketStatus := func(n string) string { return file(dirA, "s3.aws.upbound.io_Bucket", "status", n) }
	dbPatch := func(n string) string { return file(dirB, "rds.aws.upbound.io_Instance", "patches", n) }
	dbStatus := func(n string) string { return file(dirB, "rds.aws.upbound.io_Instance", "status", n) }
	holds := func(version map[string]string) func(map[string]string) bool {
		return func(f map[string]string) bool {
			for _, n := range buckets {
				if !strings.Contains(f[bucketPatch(n)], n+"-"+version[n]) || !strings.Contains(f[bucketStatus(n)], "arn:"+n+"-"+version[n]) {
					return false
				}
			}
			for _, n := range dbs {
				if !strings.Contains(f[dbPatch(n)], n+"-"+version[n]) || !strings.Contains(f[dbStatus(n)], "arn:"+n+"-"+version[n]) {
					return false
				}
			}
			return true
		}
	}
	version := map[string]string{"shard-b1": "v0", "shard-b2": "v0", "shard-d1": "v0", "shard-d2": "v0"}
	files, _ := waitForFiles(t, repoDir, branch, "both shards' first records", holds(version))
	for _, n := range dbs {
		if files[file(dirA, "rds.aws.upbound.io_Instance", "patches", n)] != "" || files[file(dirA, "rds.aws.upbound.io_Instance", "unmatched", n)] != "" {
			t.Errorf("the buckets shard recorded instance %s", n)
		}
	}
	for _, n := range buckets {
		if files[file(dirB, "s3.aws.upbound.io_Bucket", "patches", n)] != "" {
			t.Errorf("the databases shard recorded bucket %s", n)
		}
	}
	eventually(t, waitTime, "each shard leads its own Lease", func() (bool, string) {
		a, b := repA.metric(t, "driftback_leader"), repB.metric(t, "driftback_leader")
		return a == 1 && b == 1, fmt.Sprintf("leader gauges %v %v", a, b)
	})
	for _, lease := range []string{"driftback-sharded-buckets", "driftback-sharded-databases"} {
		if _, err := dyn.Resource(schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}).Namespace("default").Get(ctx, lease, metav1.GetOptions{}); err != nil {
			t.Errorf("Lease %s: %v", lease, err)
		}
	}

	// The race: arm the hook, change an instance (the databases shard's
	// push is held), then a bucket (the buckets shard's push lands first).
	failuresB := (&runProc{url: repB.url}).metricSum(t, "driftback_git_push_failures_total")
	if err := os.WriteFile(arm, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	version["shard-d1"] = "v1"
	setInstance(t, dyn, "shard-d1", "shard-d1-v1", "arn:shard-d1-v1")
	eventually(t, waitTime, "the databases shard's push is held by the hook", func() (bool, string) {
		_, err := os.Stat(held)
		return err == nil, fmt.Sprint(err)
	})
	version["shard-b1"] = "v1"
	setExternalName(t, dyn, "shard-b1", "shard-b1-v1", "arn:shard-b1-v1")
	waitForFiles(t, repoDir, branch, "both changes of the race", holds(version))
	if f := (&runProc{url: repB.url}).metricSum(t, "driftback_git_push_failures_total"); f <= failuresB {
		t.Errorf("driftback_git_push_failures_total of the databases shard %v -> %v: the held push did not lose the race", failuresB, f)
	}

	// More changes to both kinds at once, with the hook spent.
	for round := 2; round <= 3; round++ {
		v := fmt.Sprintf("v%d", round)
		version["shard-b2"], version["shard-d2"] = v, v
		setExternalName(t, dyn, "shard-b2", "shard-b2-"+v, "arn:shard-b2-"+v)
		setInstance(t, dyn, "shard-d2", "shard-d2-"+v, "arn:shard-d2-"+v)
		waitForFiles(t, repoDir, branch, "round "+v+" of both shards", holds(version))
	}
	// A first commit each, the race's two, two rounds of two.
	checkShardedHistory(t, repoDir, branch, dirA, dirB, buckets, dbs, 8)

	// main moves: both processes follow it, and the re-derived side branch
	// carries both directories.
	newBase := pushToBase(t, repoDir, "main", "apps/other.yaml", "# merged while sharded\n")
	files, _ = waitForFiles(t, repoDir, branch, "the side branch on main's new commit with both directories", func(f map[string]string) bool {
		return f["apps/other.yaml"] != "" && holds(version)(f)
	})
	_, c, _ := gitserver.BranchFiles(t, repoDir, branch)
	if !isAncestor(t, repoDir, newBase, c.Hash.String()) {
		t.Fatalf("the side branch %s is not on main's new commit %s", c.Hash, newBase)
	}
	// One re-derived commit on the new base holds both directories.
	checkShardedHistory(t, repoDir, branch, dirA, dirB, buckets, dbs, 1)

	// main drops an instance only the databases shard patches, while the
	// object lives on: the buckets shard's directory still builds on that
	// base, the last one does not. Neither process may move the branch
	// onto it (the buckets shard verifies the shards after its own); the
	// databases shard renders again over the new base, where the
	// instance's fields are kept under unmatched/ (not applied: main no
	// longer defines the object), and that commit moves the branch. Every
	// commit on the new base builds at the last directory, with the
	// external names of every object main still defines.
	without := "resources: [shard-b1.yaml, shard-b2.yaml, shard-d1.yaml]\n"
	dropped := pushToBase(t, repoDir, "main", "base/kustomization.yaml", without)
	dbUnmatched := file(dirB, "rds.aws.upbound.io_Instance", "unmatched", "shard-d2")
	waitForFiles(t, repoDir, branch, "the instance main dropped, recorded as an object of its own", func(f map[string]string) bool {
		return f["base/kustomization.yaml"] == without && f[dbPatch("shard-d2")] == "" && strings.Contains(f[dbUnmatched], "shard-d2-"+version["shard-d2"])
	})
	if _, c, _ := gitserver.BranchFiles(t, repoDir, branch); !isAncestor(t, repoDir, dropped, c.Hash.String()) {
		t.Fatalf("the side branch %s is not on main's commit %s", c.Hash, dropped)
	}
	checkShardedHistory(t, repoDir, branch, dirA, dirB, buckets, dbs[:1], 1)
	// main takes it back: patched again, no longer unmatched.
	pushToBase(t, repoDir, "main", "base/kustomization.yaml", seed["base/kustomization.yaml"])
	waitForFiles(t, repoDir, branch, "the instance patched again once main defines it", func(f map[string]string) bool {
		return f["base/kustomization.yaml"] == seed["base/kustomization.yaml"] && f[dbUnmatched] == "" && holds(version)(f)
	})
	checkShardedHistory(t, repoDir, branch, dirA, dirB, buckets, dbs, 1)

	// Both stop (SIGTERM, as Kubernetes does), idle.
	for _, r := range []*replica{repA, repB} {
		stopReplica(t, r)
	}

	// The cluster is lost: the objects go; Argo CD applies the last
	// shard's directory; each shard's status is restored with its own
	// configuration; drill --verify-only checks each shard's fields.
	for _, n := range buckets {
		if err := dyn.Resource(bucketGVR).Delete(ctx, n, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range dbs {
		if err := dyn.Resource(instanceGVR).Delete(ctx, n, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	built := kustomizeBuild(t, repoDir, branch, dirB)
	for _, doc := range strings.Split(built, "\n---\n") {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		gvr := bucketGVR
		if u.GetKind() == "Instance" {
			gvr = instanceGVR
		}
		j, err := u.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		force := true
		if _, err := dyn.Resource(gvr).Patch(ctx, u.GetName(), types.ApplyPatchType, j, metav1.PatchOptions{FieldManager: "argocd-controller", Force: &force}); err != nil {
			t.Fatalf("apply %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	for _, cfg := range []string{cfgA, cfgB} {
		if out, err := runCLI(t, "restore", "--config", cfg, "--repo", url, "--wait", "30s"); err != nil || !strings.Contains(out, "2 restored") {
			t.Fatalf("restore --config %s: %v\n%s", cfg, err, out)
		}
	}
	for _, n := range append(slices.Clone(buckets), dbs...) {
		gvr := bucketGVR
		if slices.Contains(dbs, n) {
			gvr = instanceGVR
		}
		u, err := dyn.Resource(gvr).Get(ctx, n, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		arn, _, _ := unstructured.NestedString(u.Object, "status", "atProvider", "arn")
		if got := u.GetAnnotations()["crossplane.io/external-name"]; got != n+"-"+version[n] || arn != "arn:"+n+"-"+version[n] {
			t.Errorf("rebuilt %s: external name %q, arn %q; want the last recorded %s", n, got, arn, version[n])
		}
	}
	for _, cfg := range []string{cfgA, cfgB} {
		out, err := runCLI(t, "drill", "--verify-only", "--config", cfg, "--repo", url)
		if err != nil || !strings.Contains(out, "drill:     PASS") || !strings.Contains(out, " 0 mismatch(es)") {
			t.Fatalf("drill --verify-only --config %s: %v\n%s", cfg, err, out)
		}
	}
}

const instanceBase = `apiVersion: rds.aws.upbound.io/v1beta1
kind: Instance
metadata:
  name: %s
spec:
  forProvider:
    region: eu-west-1
    engine: postgres
`

// applyInstance creates an RDS Instance as Argo CD would, then plays the
// provider: the external name and the observed status.
func applyInstance(t testing.TB, dyn dynamic.Interface, name, externalName, arn string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(strings.ReplaceAll(instanceBase, "%s", name)), &u.Object); err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(instanceGVR).Create(context.Background(), u, metav1.CreateOptions{FieldManager: "argocd-controller"}); err != nil {
		t.Fatalf("create instance: %v", err)
	}
	setInstance(t, dyn, name, externalName, arn)
}

// setInstance writes an instance's external name and status as its provider.
func setInstance(t testing.TB, dyn dynamic.Interface, name, externalName, arn string) {
	t.Helper()
	ctx := context.Background()
	u, err := dyn.Resource(instanceGVR).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u.SetAnnotations(map[string]string{"crossplane.io/external-name": externalName})
	if u, err = dyn.Resource(instanceGVR).Update(ctx, u, metav1.UpdateOptions{FieldManager: "provider-aws"}); err != nil {
		t.Fatalf("write external name: %v", err)
	}
	_ = unstructured.SetNestedMap(u.Object, map[string]any{"arn": arn, "lastSeen": time.Now().String()}, "status", "atProvider")
	if _, err := dyn.Resource(instanceGVR).UpdateStatus(ctx, u, metav1.UpdateOptions{FieldManager: "provider-aws"}); err != nil {
		t.Fatalf("write status: %v", err)
	}
}

// stopReplica ends a replica as Kubernetes does (SIGTERM) and waits for it
// to flush and exit cleanly.
func stopReplica(t *testing.T, r *replica) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("replica exited with %v after SIGTERM", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("replica did not exit within a minute of SIGTERM")
	}
}

func isAncestor(t *testing.T, repoDir, a, b string) bool {
	t.Helper()
	r, err := git.PlainOpen(repoDir)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := r.CommitObject(plumbing.NewHash(a))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := r.CommitObject(plumbing.NewHash(b))
	if err != nil {
		t.Fatal(err)
	}
	ok, err := ca.IsAncestor(cb)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// checkShardedHistory walks every commit of branch since main, oldest
// first: a commit changes only the directory its Driftback-Dir trailer
// names (a re-derived one, on a new base, keeps both), a directory once
// written never disappears, and every commit holding the last shard's
// directory builds there (krusty) with the external names of both shards'
// objects; one holding only the first shard's builds there.
func checkShardedHistory(t *testing.T, repoDir, branch, dirA, dirB string, buckets, dbs []string, least int) {
	t.Helper()
	r, err := git.PlainOpen(repoDir)
	if err != nil {
		t.Fatal(err)
	}
	revs := strings.Fields(gitserver.Run(t, repoDir, "git", "rev-list", "--reverse", "main.."+branch))
	if len(revs) < least {
		t.Fatalf("%d commits on %s since main, want at least %d", len(revs), branch, least)
	}
	prev := map[string]plumbing.Hash{}
	for _, rev := range revs {
		c, err := r.CommitObject(plumbing.NewHash(rev))
		if err != nil {
			t.Fatal(err)
		}
		tree, err := c.Tree()
		if err != nil {
			t.Fatal(err)
		}
		now := map[string]plumbing.Hash{}
		for _, d := range []string{dirA, dirB} {
			if sub, err := tree.Tree(d); err == nil {
				now[d] = sub.Hash
			}
		}
		subject, _, _ := strings.Cut(c.Message, "\n")
		for _, d := range []string{dirA, dirB} {
			if _, had := prev[d]; had {
				if _, has := now[d]; !has {
					t.Errorf("commit %.12s (%s) erased %s", rev, subject, d)
				}
			}
			if wrote := strings.Contains(c.Message, gitsync.TrailerDir+": "+d+"\n") || strings.HasSuffix(c.Message, gitsync.TrailerDir+": "+d); !wrote && c.NumParents() == 1 && prev[d] != now[d] {
				if p, _ := c.Parent(0); p != nil && isAncestorCommit(p, revs) {
					t.Errorf("commit %.12s (%s) changed %s, which its %s trailer does not name", rev, subject, d, gitsync.TrailerDir)
				}
			}
		}
		dir, want := dirB, append(slices.Clone(buckets), dbs...)
		if _, ok := now[dirB]; !ok {
			dir, want = dirA, buckets
		}
		built := buildTree(t, tree, dir)
		for _, n := range want {
			if !strings.Contains(built, "crossplane.io/external-name: "+n+"-v") {
				t.Errorf("commit %.12s (%s): the build of %s lacks the external name of %s:\n%s", rev, subject, dir, n, built)
			}
		}
		prev = now
	}
}

// isAncestorCommit reports whether c is one of the branch's own commits
// (not the base): only then is it the previous state of the directories.
func isAncestorCommit(c *object.Commit, revs []string) bool {
	return slices.Contains(revs, c.Hash.String())
}

// buildTree runs krusty at dir over a commit's tree, in memory.
func buildTree(t *testing.T, tree *object.Tree, dir string) string {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	if err := tree.Files().ForEach(func(f *object.File) error {
		s, err := f.Contents()
		if err != nil {
			return err
		}
		return fsys.WriteFile("/"+f.Name, []byte(s))
	}); err != nil {
		t.Fatal(err)
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, "/"+dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	y, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return string(y)
}
