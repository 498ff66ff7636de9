package writeback_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"filippo.io/age"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/render"
	"github.com/driftback/driftback/restore"
	"github.com/driftback/driftback/writeback"
)

// A patch with an encrypted field over an object the base defines: the
// overlay builds, the built object (base fields merged in, as Flux's
// kustomize-controller sees it after its build) decrypts to the captured
// value, the canary is nowhere in the branch, and publishing the same
// value again keeps the bytes (no commit from random encryption).
func TestEncryptedPatchBuildsAndDecryptsAfterTheBuild(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	const canary = "canary-9b1e"
	cfg := testConfig()
	cfg.Overlay.Resources = []string{"../../../base"}
	cfg.Encryption.Age.Recipients = []string{id.Recipient().String()}
	parent := branchOf(t, "uid-a", statusCaps(1))
	parent["base/kustomization.yaml"] = &fstest.MapFile{Data: []byte("resources: [cm.yaml]\n")}
	parent["base/cm.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: default}\ndata: {url: https://db}\n")}
	c := capture.Capture{
		Ref:         capture.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "default", Name: "app"},
		Mode:        capture.ModePatch,
		Object:      map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "app", "namespace": "default"}, "data": map[string]any{"token": canary}},
		EncryptKeys: []string{"token"},
	}
	caps := append(statusCaps(1), c)
	repo := &fakeRepo{branch: parent}
	w := writeback.New(cfg, repo, "uid-a", writeback.Options{MaxDeleteShare: 0.5})
	if _, err := w.Publish(t.Context(), caps); err != nil {
		t.Fatal(err)
	}
	patch := string(repo.branch[dir+"/patches/default/core_ConfigMap/a1/app.yaml"].Data)
	if !strings.Contains(patch, "token: ENC[AES256_GCM,") {
		t.Fatalf("patch not encrypted:\n%s", patch)
	}
	for p, f := range repo.branch {
		if strings.Contains(string(f.Data), canary) {
			t.Errorf("%s holds the canary in clear", p)
		}
	}
	built, err := render.Build(repo.branch, dir, treeAt(repo.branch, dir))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := restore.SplitYAML(built)
	if err != nil {
		t.Fatal(err)
	}
	if err := restore.DecryptObjects(objs, nil); err == nil {
		t.Error("decrypting without an identity succeeded")
	}
	objs, _ = restore.SplitYAML(built)
	if err := restore.DecryptObjects(objs, []age.Identity{id}); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, u := range objs {
		if u.GetKind() == "ConfigMap" {
			found = true
			d := u.Object["data"].(map[string]any)
			if d["token"] != canary || d["url"] != "https://db" || u.Object["sops"] != nil {
				t.Errorf("built and decrypted ConfigMap = %v", u.Object)
			}
		}
	}
	if !found {
		t.Fatal("no ConfigMap built")
	}
	before := repo.commits
	if _, err := w.Publish(t.Context(), caps); err != nil {
		t.Fatal(err)
	}
	if got := string(repo.branch[dir+"/patches/default/core_ConfigMap/a1/app.yaml"].Data); got != patch {
		t.Errorf("an unchanged encrypted value was re-encrypted (%d -> %d commits)", before, repo.commits)
	}
}
