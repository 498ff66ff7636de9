// Command demo runs driftback's main job end to end on an embedded control
// plane: a team's base in a local Git repository, a Crossplane-like provider
// and an in-house operator writing runtime state, `driftback snapshot` into a
// bare repository, and the resulting commit, overlay tree and built overlay.
// Everything it starts is stopped before it exits; it exits non-zero on any
// failure. Run it with `make demo`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/internal/testenv"
)

const branch = "driftback/demo"

func main() {
	bin := flag.String("driftback", "bin/driftback", "driftback binary to run")
	keep := flag.Bool("keep", false, "leave the control plane running and print how to reach it (Ctrl-C stops it)")
	flag.Parse()
	if err := run(*bin, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func step(format string, args ...any) {
	fmt.Printf("\n==> "+format+"\n", args...)
}

func run(bin string, keep bool) error {
	root, err := testenv.RepoRoot()
	if err != nil {
		return err
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "driftback-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	step("Starting a local control plane (etcd + kube-apiserver built from source)")
	start := time.Now()
	cp, err := testenv.Start(filepath.Join(root, "testdata", "crds"))
	if err != nil {
		return err
	}
	defer func() {
		step("Stopping the control plane")
		_ = cp.Stop()
	}()
	kubeconfig, err := cp.WriteKubeconfig(work)
	if err != nil {
		return err
	}
	fmt.Printf("ready in %s; CRDs installed: Bucket (s3.aws.upbound.io), KubernetesCluster (infra.example.com)\n", time.Since(start).Round(100*time.Millisecond))

	step("Creating the team's Git repository: base/ on main (what Argo CD applies)")
	origin := filepath.Join(work, "fleet.git")
	if err := seedRepo(root, work, origin); err != nil {
		return err
	}
	fmt.Println(origin)

	step("Applying the base, as Argo CD would")
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	ctx := context.Background()
	bucket, err := apply(ctx, dyn, filepath.Join(root, "testdata/demo/base/bucket.yaml"), bucketGVR)
	if err != nil {
		return err
	}
	cluster, err := apply(ctx, dyn, filepath.Join(root, "testdata/demo/base/cluster.yaml"), clusterGVR)
	if err != nil {
		return err
	}

	step("Controllers write runtime state that Git never sees")
	if err := simulateProvider(ctx, dyn, bucket); err != nil {
		return err
	}
	if err := simulateOperator(ctx, dyn, cluster); err != nil {
		return err
	}
	fmt.Println("provider-aws:   Bucket/demo-logs  crossplane.io/external-name=demo-logs-7f3a9c, status.atProvider.arn")
	fmt.Println("infra-operator: KubernetesCluster/default/payments  status.apiServerURL=https://payments.k8s.internal:6443")

	cfg := filepath.Join(root, "testdata/demo/driftback.yaml")
	step("driftback snapshot --config testdata/demo/driftback.yaml --repo %s", origin)
	if err := sh(root, bin, "snapshot", "--kubeconfig", kubeconfig, "--config", cfg, "--repo", origin); err != nil {
		return err
	}

	step("The commit on %s", branch)
	if err := sh(root, "git", "--git-dir", origin, "log", "-1", "--stat", "--format=commit %H%nAuthor: %an <%ae>%n%n    %s%n%n%b", branch); err != nil {
		return err
	}

	step("driftback summary --pull-request (the pull request a reviewer would get; git.pullRequest opens it on GitHub, GitLab or Gitea)")
	if err := sh(root, bin, "summary", "--config", cfg, "--repo", origin, "--pull-request"); err != nil {
		return err
	}

	step("The overlay tree")
	if err := sh(root, "git", "--git-dir", origin, "ls-tree", "-r", "--name-only", branch, "clusters/demo/driftback/"); err != nil {
		return err
	}

	step("kustomize build clusters/demo/driftback (what Argo CD or Flux would apply to a rebuilt cluster)")
	built, err := buildBranch(work, origin)
	if err != nil {
		return err
	}
	fmt.Print(built)
	if !strings.Contains(built, "crossplane.io/external-name: demo-logs-7f3a9c") {
		return errors.New("the built overlay does not carry the captured external name")
	}

	step("driftback snapshot again, with no change in the cluster")
	if err := sh(root, bin, "snapshot", "--kubeconfig", kubeconfig, "--config", cfg, "--repo", origin); err != nil {
		return err
	}

	scratch, stopScratch, err := drill(root, bin, work, cfg, origin)
	if err != nil {
		return err
	}
	defer stopScratch()

	if keep {
		step("Control planes left running (Ctrl-C stops them). Try by hand:\n"+
			"    export KUBECONFIG=%s   # the original cluster\n"+
			"    %s drill --yes --kubeconfig %s --config %s --repo %s",
			kubeconfig, bin, scratch, cfg, origin)
		waitForInterrupt()
	}
	fmt.Println("\ndemo succeeded: the external name and the status live in Git, the overlay builds, and an empty cluster was rebuilt from the branch alone.")
	return nil
}

// drill plays the disaster: a second, empty control plane stands in for the
// rebuilt cluster and `driftback drill` rebuilds it from the branch alone.
// It returns the scratch cluster's kubeconfig and how to stop it.
func drill(root, bin, work, cfg, origin string) (string, func(), error) {
	step("Disaster: a new, empty cluster (a second control plane), rebuilt from the branch alone")
	scratch, err := testenv.Start(filepath.Join(root, "testdata", "crds"))
	if err != nil {
		return "", nil, err
	}
	stop := func() { _ = scratch.Stop() }
	dir := filepath.Join(work, "scratch")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		stop()
		return "", nil, err
	}
	kc, err := scratch.WriteKubeconfig(dir)
	if err != nil {
		stop()
		return "", nil, err
	}
	step("driftback drill --yes --kubeconfig <scratch> --config testdata/demo/driftback.yaml --repo %s", origin)
	if err := sh(root, bin, "drill", "--yes", "--kubeconfig", kc, "--config", cfg, "--repo", origin); err != nil {
		stop()
		return "", nil, err
	}
	return kc, stop, nil
}

var (
	bucketGVR  = schema.GroupVersionResource{Group: "s3.aws.upbound.io", Version: "v1beta1", Resource: "buckets"}
	clusterGVR = schema.GroupVersionResource{Group: "infra.example.com", Version: "v1alpha1", Resource: "kubernetesclusters"}
)

func seedRepo(root, work, origin string) error {
	src := filepath.Join(work, "seed")
	if err := os.MkdirAll(filepath.Join(src, "base"), 0o755); err != nil {
		return err
	}
	for _, f := range []string{"kustomization.yaml", "bucket.yaml", "cluster.yaml"} {
		b, err := os.ReadFile(filepath.Join(root, "testdata/demo/base", f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(src, "base", f), b, 0o644); err != nil {
			return err
		}
	}
	for _, args := range [][]string{
		{"init", "-q", "--bare", "-b", "main", origin},
		{"-C", src, "init", "-q", "-b", "main"},
		{"-C", src, "add", "-A"},
		{"-C", src, "-c", "user.name=team", "-c", "user.email=team@example.com", "commit", "-q", "-m", "base: logs bucket and payments cluster"},
		{"-C", src, "push", "-q", origin, "main"},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

func apply(ctx context.Context, dyn dynamic.Interface, file string, gvr schema.GroupVersionResource) (*unstructured.Unstructured, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(b, &u.Object); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	out, err := dyn.Resource(gvr).Namespace(u.GetNamespace()).Create(ctx, u, metav1.CreateOptions{FieldManager: "argocd-controller"})
	if err != nil {
		return nil, fmt.Errorf("create %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	fmt.Printf("created %s/%s\n", u.GetKind(), u.GetName())
	return out, nil
}

// simulateProvider plays Crossplane's provider: it creates the cloud bucket,
// records its name and observes it.
func simulateProvider(ctx context.Context, dyn dynamic.Interface, u *unstructured.Unstructured) error {
	u.SetAnnotations(map[string]string{"crossplane.io/external-name": "demo-logs-7f3a9c"})
	u, err := dyn.Resource(bucketGVR).Update(ctx, u, metav1.UpdateOptions{FieldManager: "provider-aws"})
	if err != nil {
		return fmt.Errorf("write external name: %w", err)
	}
	u.Object["status"] = map[string]any{
		"atProvider": map[string]any{"arn": "arn:aws:s3:::demo-logs-7f3a9c", "region": "eu-west-1"},
		"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}},
	}
	if _, err := dyn.Resource(bucketGVR).UpdateStatus(ctx, u, metav1.UpdateOptions{FieldManager: "provider-aws"}); err != nil {
		return fmt.Errorf("write bucket status: %w", err)
	}
	return nil
}

// simulateOperator plays seed 001's in-house operator.
func simulateOperator(ctx context.Context, dyn dynamic.Interface, u *unstructured.Unstructured) error {
	u.Object["status"] = map[string]any{
		"apiServerURL":       "https://payments.k8s.internal:6443",
		"masterVersion":      "1.28.23",
		"observedGeneration": int64(1),
		"conditions":         []any{map[string]any{"type": "Ready", "status": "True", "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}},
	}
	if _, err := dyn.Resource(clusterGVR).Namespace(u.GetNamespace()).UpdateStatus(ctx, u, metav1.UpdateOptions{FieldManager: "infra-operator"}); err != nil {
		return fmt.Errorf("write cluster status: %w", err)
	}
	return nil
}

// buildBranch clones the branch with the git CLI and builds the overlay with
// krusty from disk, as a GitOps tool would.
func buildBranch(work, origin string) (string, error) {
	dir := filepath.Join(work, "checkout")
	if out, err := exec.Command("git", "clone", "-q", "--branch", branch, origin, dir).CombinedOutput(); err != nil {
		return "", fmt.Errorf("git clone: %w\n%s", err, out)
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(dir, "clusters/demo/driftback"))
	if err != nil {
		return "", fmt.Errorf("kustomize build: %w", err)
	}
	out, err := m.AsYaml()
	return string(out), err
}

func sh(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", filepath.Base(name), strings.Join(args, " "), err)
	}
	return nil
}
