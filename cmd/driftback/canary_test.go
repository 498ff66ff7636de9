package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/internal/gitserver"
	"github.com/driftback/driftback/sops"
)

var clusterGVR = schema.GroupVersionResource{Group: "infra.example.com", Version: "v1alpha1", Resource: "kubernetesclusters"}

// Credential-looking values in non-Secret objects (issue 11, item 8): a
// CR's status.adminPassword and a ConfigMap's data.token are written
// SOPS-encrypted by rules with encrypt: true, a token no rule encrypts is
// withheld, and no canary is anywhere in the branch's history
// (`git log -p --all`); restore with the age identity writes the password
// back on the real apiserver.
func TestCanaryCredentialsNeverInGitInClear(t *testing.T) {
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	kc := kubernetes.NewForConfigOrDie(cp.Config)
	const pw, tok, tok2 = "canary-pw-3f9a1c", "canary-tok-8d2e4b", "canary-tok-c71f0a"

	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "infra.example.com/v1alpha1", "kind": "KubernetesCluster",
		"metadata": map[string]any{"name": "canary", "namespace": "default"},
		"spec":     map[string]any{"version": "1.30"},
	}}
	u, err := dyn.Resource(clusterGVR).Namespace("default").Create(ctx, u, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u.Object["status"] = map[string]any{"apiServerURL": "https://canary:6443", "adminPassword": pw}
	if u, err = dyn.Resource(clusterGVR).Namespace("default").UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]map[string]string{"canary-enc": {"token": tok, "url": "https://db"}, "canary-clear": {"token": tok2, "url": "https://db2"}} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Data: data}
		if _, err := kc.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "age.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "canary")
	gitserver.Seed(t, repoDir, "main", map[string]string{"README.md": "fleet\n"})
	cfg := filepath.Join(t.TempDir(), "driftback.yaml")
	if err := os.WriteFile(cfg, []byte(`apiVersion: driftback.dev/v1alpha1
kind: Config
cluster: canary
git: {branch: driftback/canary, path: clusters/canary/driftback}
encryption:
  age:
    recipients: [`+id.Recipient().String()+`]
rules:
- name: cluster-url
  match: {apiGroups: [infra.example.com], kinds: [KubernetesCluster], names: [canary]}
  fields: [status.apiServerURL]
- name: cluster-password
  match: {apiGroups: [infra.example.com], kinds: [KubernetesCluster], names: [canary]}
  fields: [status.adminPassword]
  encrypt: true
- name: cm-encrypted
  match: {apiGroups: [""], kinds: [ConfigMap], names: [canary-enc]}
  fields: [data]
  encrypt: true
- name: cm-not-encrypted
  match: {apiGroups: [""], kinds: [ConfigMap], names: [canary-clear]}
  fields: [data]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "snapshot", "--config", cfg, "--repo", url)
	if err != nil || !strings.HasPrefix(out, "committed ") {
		t.Fatalf("snapshot: %q, %v", out, err)
	}
	history := gitserver.Run(t, repoDir, "git", "log", "-p", "--all")
	for _, c := range []string{pw, tok, tok2} {
		if strings.Contains(history, c) {
			t.Errorf("the canary %q is in the branch's history in clear", c)
		}
	}
	files, _ := branchFiles(t, repoDir, "driftback/canary")
	dir := "clusters/canary/driftback/"
	status := files[dir+"status/default/infra.example.com_KubernetesCluster/e1/canary.yaml"]
	if !strings.Contains(status, "apiServerURL: https://canary:6443") || !strings.Contains(status, "adminPassword: ENC[AES256_GCM,") || !strings.Contains(status, "recipient: "+id.Recipient().String()) {
		t.Errorf("status file: want the URL in clear and the password SOPS-encrypted:\n%s", status)
	}
	// The encrypted ConfigMap's token decrypts with the identity; the other
	// one's token was withheld, its url kept.
	var enc map[string]any
	if err := yaml.Unmarshal([]byte(files[dir+"unmatched/default/core_ConfigMap/7f/canary-enc.yaml"]), &enc); err != nil {
		t.Fatal(err)
	}
	if err := sops.Decrypt(enc, []age.Identity{id}); err != nil || enc["data"].(map[string]any)["token"] != tok {
		t.Errorf("the encrypted ConfigMap does not decrypt to the token: %v, %v", err, enc)
	}
	clear := files[dir+"unmatched/default/core_ConfigMap/e3/canary-clear.yaml"]
	if strings.Contains(clear, "token") || !strings.Contains(clear, "url: https://db2") {
		t.Errorf("the ConfigMap no rule encrypts: want its token withheld and its url kept:\n%s", clear)
	}

	// A second snapshot with nothing changed makes no commit, although
	// encryption is random (the writer reuses what it wrote).
	if out, err := runCLI(t, "snapshot", "--config", cfg, "--repo", url); err == nil && !strings.HasPrefix(out, "no change") {
		t.Logf("second snapshot: %q (a new process re-encrypts without SOPS_AGE_KEY_FILE)", out)
	}
	t.Setenv("SOPS_AGE_KEY_FILE", keyFile)
	if out, err := runCLI(t, "snapshot", "--config", cfg, "--repo", url); err != nil || !strings.HasPrefix(out, "no change") {
		t.Errorf("snapshot with the identity and no change: %q, %v; want no commit", out, err)
	}
	t.Setenv("SOPS_AGE_KEY_FILE", "")

	// The status is lost; restore without the identity refuses, with it
	// writes the password back.
	u.Object["status"] = map[string]any{}
	if _, err := dyn.Resource(clusterGVR).Namespace("default").UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "restore", "--config", cfg, "--repo", url, "--wait", "0"); err == nil || !strings.Contains(err.Error(), "age identity") {
		t.Errorf("restore without an identity: %v; want a refusal naming the age identity", err)
	}
	out, err = runCLI(t, "restore", "--config", cfg, "--repo", url, "--wait", "0", "--age-identity-file", keyFile)
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if strings.Contains(out, pw) || !strings.Contains(out, "status.adminPassword = (hidden)") {
		t.Errorf("restore's report must hide the password:\n%s", out)
	}
	got, err := dyn.Resource(clusterGVR).Namespace("default").Get(ctx, "canary", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p, _, _ := unstructured.NestedString(got.Object, "status", "adminPassword"); p != pw {
		t.Errorf("restored status.adminPassword = %q, want the canary", p)
	}
}
