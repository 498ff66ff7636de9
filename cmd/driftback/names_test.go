package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/driftback/driftback/internal/gitserver"
	"github.com/driftback/driftback/overlay"
)

// Names the apiserver accepts but that made poor file names (issue 11,
// item 5): a 253-character ConfigMap name gave a 258-byte file name (`git
// clone -b` failed), and ClusterRole names with a space, tab, newline or
// "..." made the overlay fail to build, so nothing was committed for any
// object. Now each is committed with the others in one snapshot, the
// branch clones, builds with krusty on disk, and reads back by real name.
func TestSnapshotCommitsAnyLegalName(t *testing.T) {
	ctx := context.Background()
	kc := kubernetes.NewForConfigOrDie(cp.Config)
	long := "names-" + strings.Repeat("l", 247)
	roles := []string{"names a b", "names\ta", "names\nb", "names...", "names ok"}
	for _, n := range roles {
		r := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: n}, Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}}}}
		if _, err := kc.RbacV1().ClusterRoles().Create(ctx, r, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create ClusterRole %q: %v", n, err)
		}
	}
	for _, n := range []string{long, "names-plain"} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: "default"}, Data: map[string]string{"k": "v"}}
		if _, err := kc.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create ConfigMap %q: %v", n, err)
		}
	}
	srv := gitserver.New(t, gitserver.Options{})
	_, repoDir := srv.CreateRepo(t, "names")
	gitserver.Seed(t, repoDir, "main", map[string]string{"README.md": "fleet\n"})
	cfg := filepath.Join(t.TempDir(), "driftback.yaml")
	if err := os.WriteFile(cfg, []byte(`apiVersion: driftback.dev/v1alpha1
kind: Config
cluster: names
git:
  branch: driftback/names
  path: clusters/names/driftback
rules:
- name: roles
  match: {apiGroups: [rbac.authorization.k8s.io], kinds: [ClusterRole], names: ["names*"]}
  mode: object
- name: configmaps
  match: {apiGroups: [""], kinds: [ConfigMap], names: ["names-*"]}
  mode: object
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "snapshot", "--config", cfg, "--repo", srv.URL+"/names.git")
	if err != nil || !strings.HasPrefix(out, "committed ") {
		t.Fatalf("snapshot: %q, %v", out, err)
	}
	files, _ := branchFiles(t, repoDir, "driftback/names")
	for p := range files {
		for _, seg := range strings.Split(p, "/") {
			if len(seg) > overlay.MaxFileName {
				t.Errorf("%q: a %d-byte file name", p, len(seg))
			}
		}
	}
	// `git clone -b` (the git CLI) and kustomize on disk.
	built := kustomizeBuild(t, repoDir, "driftback/names", "clusters/names/driftback")
	for _, want := range []string{"name: " + long, "name: names ok", "names...", "names-plain"} {
		if !strings.Contains(built, want) {
			t.Errorf("kustomize build lacks %q", want)
		}
	}
	// Read back as restore and describe do: every real name.
	work := filepath.Join(t.TempDir(), "clone")
	gitserver.Run(t, "", "git", "clone", "-q", "--branch", "driftback/names", repoDir, work)
	o, err := overlay.Read(os.DirFS(work), "clusters/names/driftback")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range o.Resources {
		got[f.Name()] = true
	}
	for _, n := range append(roles, long, "names-plain") {
		if !got[n] {
			t.Errorf("%q is not on the branch (read back %d objects)", n, len(o.Resources))
		}
	}
	// A name's newline never reaches the commit message raw (where the
	// rest of the name would start a line of its own, a trailer).
	msg := gitserver.Run(t, repoDir, "git", "log", "-1", "--format=%B", "driftback/names")
	if strings.Contains(msg, "names\nb") {
		t.Errorf("a name's newline reached the commit message:\n%s", msg)
	}
}
