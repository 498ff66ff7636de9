package render

import (
	"strings"
	"testing"

	"github.com/driftback/driftback/overlay"
)

func TestCarryKeepsFilesAndListsThem(t *testing.T) {
	tree, err := Render(sampleCaptures(), sampleLayout)
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string][]byte{
		"resources/_cluster/core_ConfigMap/79/kept.yaml": []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\ndata:\n  a: b\n"),
		"status/default/x.example.com_Gadget/cd/g.yaml":  []byte("apiVersion: x.example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: default\nstatus:\n  id: g-1\n"),
	}
	if err := tree.Carry(kept); err != nil {
		t.Fatal(err)
	}
	for p, b := range kept {
		if string(tree[p]) != string(b) {
			t.Errorf("%s changed: %q", p, tree[p])
		}
	}
	if !strings.Contains(string(tree[overlay.KustomizationFile]), "resources/_cluster/core_ConfigMap/79/kept.yaml") {
		t.Errorf("the carried resource is not listed:\n%s", tree[overlay.KustomizationFile])
	}
	out, err := Build(base(), "clusters/prod-eu1/driftback", tree)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "name: kept") {
		t.Errorf("build lacks the carried object:\n%s", out)
	}
	if err := tree.Carry(map[string][]byte{"resources/_cluster/core_ConfigMap/79/kept.yaml": nil}); err == nil {
		t.Error("carrying over a rendered file was accepted")
	}
	if got := OfKinds([]string{"status/default/x.example.com_Gadget/cd/g.yaml", "patches/ns/core_Service/04/s.yaml", "kustomization.yaml"}, map[string]bool{overlay.KindDir("x.example.com", "Gadget"): true}); len(got) != 1 {
		t.Errorf("OfKinds = %v", got)
	}
}
