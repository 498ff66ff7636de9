package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftback/driftback/overlay"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// `driftback run` under a ServiceAccount's own identity (impersonated, as the
// apiserver authorizes the pod's token) with only the roles `driftback rbac
// --discover` generated: capture and leader election work, and reading a
// Secret is forbidden.
func TestRunWithTheGeneratedRole(t *testing.T) {
	const name, sa, ns = "rbac-bucket", "driftback-rbac", "default"
	url, repoDir, cfg := followSetup(t, name)
	ctx := context.Background()
	admin := kubernetes.NewForConfigOrDie(cp.Config)

	out, err := runCLI(t, "rbac", "--discover", "--config", cfg, "--lease-namespace", ns)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "secrets") || strings.Contains(out, "'*'") {
		t.Fatalf("the generated role grants Secrets or everything:\n%s", out)
	}
	subject := rbacv1.Subject{Kind: "ServiceAccount", Name: sa, Namespace: ns}
	for _, doc := range strings.Split(out, "\n---\n") {
		var meta struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatal(err)
		}
		switch meta.Kind {
		case "ClusterRole":
			var r rbacv1.ClusterRole
			if err := yaml.Unmarshal([]byte(doc), &r); err != nil {
				t.Fatal(err)
			}
			r.Name += "-" + name
			mustCreate(t, func() error {
				_, err := admin.RbacV1().ClusterRoles().Create(ctx, &r, metav1.CreateOptions{})
				return err
			})
			b := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: r.Name}, Subjects: []rbacv1.Subject{subject},
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: r.Name}}
			mustCreate(t, func() error {
				_, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{})
				return err
			})
		case "Role":
			var r rbacv1.Role
			if err := yaml.Unmarshal([]byte(doc), &r); err != nil {
				t.Fatal(err)
			}
			r.Name += "-" + name
			mustCreate(t, func() error { _, err := admin.RbacV1().Roles(ns).Create(ctx, &r, metav1.CreateOptions{}); return err })
			b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: r.Name}, Subjects: []rbacv1.Subject{subject},
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: r.Name}}
			mustCreate(t, func() error {
				_, err := admin.RbacV1().RoleBindings(ns).Create(ctx, b, metav1.CreateOptions{})
				return err
			})
		}
	}

	// The ServiceAccount's identity: its user name and groups.
	as := rest.CopyConfig(cp.Config)
	as.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":" + sa,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}
	_, err = kubernetes.NewForConfigOrDie(as).CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("listing Secrets as the ServiceAccount: err = %v, want forbidden", err)
	}
	raw, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, ai := range raw.AuthInfos {
		ai.Impersonate, ai.ImpersonateGroups = as.Impersonate.UserName, as.Impersonate.Groups
	}
	path := filepath.Join(t.TempDir(), "sa.kubeconfig")
	if err := clientcmd.WriteToFile(*raw, path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "as: system:serviceaccount:") {
		t.Fatalf("kubeconfig does not impersonate:\n%s", b)
	}

	run := startRun(t, "--kubeconfig", path, "--config", cfg, "--repo", url, "--debounce", "200ms",
		"--leader-elect", "--leader-election-namespace", ns, "--leader-election-lease-duration", "4s",
		"--leader-election-renew-deadline", "3s", "--leader-election-retry-period", "500ms")
	patch := "clusters/" + name + "/driftback/patches/_cluster/s3.aws.upbound.io_Bucket/" + overlay.Bucket(name) + "/" + name + ".yaml"
	waitForFiles(t, repoDir, "driftback/"+name, "capture works with the generated role", func(f map[string]string) bool {
		return strings.Contains(f[patch], name+"-ext")
	})
	if v := run.metric(t, "driftback_leader"); v != 1 {
		t.Errorf("driftback_leader = %v: the Lease role does not let it lead", v)
	}
	if strings.Contains(run.logs.String(), "forbidden") {
		t.Errorf("run met a forbidden request:\n%s", run.logs.String())
	}
}

func mustCreate(t *testing.T, create func() error) {
	t.Helper()
	if err := create(); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}
