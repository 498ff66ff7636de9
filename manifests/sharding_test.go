package manifests

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/rbac"
)

// docs/sharding.md's layout builds: one Namespace, a Deployment, a
// ServiceAccount bound to its own roles and a configuration per shard,
// selectors apart; and its configuration files pass `driftback shards`'
// checks with the last shard's directory as the one to apply.
func TestDocumentedShardingBuilds(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	site := t.TempDir()
	var cfgFiles []string
	for name, blocks := range snippets(t, "../docs/sharding.md") {
		if name == "" {
			t.Errorf("docs/sharding.md: a yaml block does not name its file (first line \"# file: PATH\"):\n%s", blocks[0])
			continue
		}
		full := filepath.Join(site, filepath.FromSlash(name))
		rel, err := filepath.Rel(filepath.Dir(full), root)
		if err != nil {
			t.Fatal(err)
		}
		body := remoteBase.ReplaceAllString(blocks[0], filepath.ToSlash(rel)+"/$1")
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if path.Base(name) == "driftback.yaml" {
			cfgFiles = append(cfgFiles, full)
		}
	}
	slices.Sort(cfgFiles)
	if len(cfgFiles) != 2 {
		t.Fatalf("docs/sharding.md shows %d configuration files, want 2", len(cfgFiles))
	}
	shards := map[string]bool{}
	var cfgs []*config.Config
	for _, f := range cfgFiles {
		c, err := config.Load(f)
		if err != nil {
			t.Fatalf("the documented configuration does not load: %v", err)
		}
		cfgs = append(cfgs, c)
		shards[c.Shard] = true
		// The role each shard generates (driftback rbac), and the
		// second shard's kustomization as the text says: the first's with
		// its name.
		roles, err := rbac.Offline(c.Rules, rbac.Options{Namespace: "driftback"})
		if err != nil {
			t.Fatal(err)
		}
		y, err := roles.YAML("")
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Dir(f)
		if err := os.WriteFile(filepath.Join(dir, "role.yaml"), []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		if filepath.Base(dir) == "volumes" {
			k, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "crossplane", "kustomization.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			k = []byte(strings.ReplaceAll(string(k), "crossplane", "volumes"))
			if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), k, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	ch, err := config.CheckShards(cfgFiles, cfgs)
	if err != nil {
		t.Fatalf("driftback shards refuses the documented files: %v", err)
	}
	if ch.Final() != "clusters/my-cluster/driftback-volumes" || ch.Shards[0].Config.Shard != "crossplane" {
		t.Errorf("chain ends at %s, starts with %s", ch.Final(), ch.Shards[0].Config.Shard)
	}

	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(site, "clusters/my-cluster/driftback"))
	if err != nil {
		t.Fatalf("the documented sharded install does not build: %v", err)
	}
	byID := map[string]map[string]any{}
	namespaces := 0
	for _, r := range m.Resources() {
		obj, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		byID[r.GetKind()+"/"+r.GetName()] = obj
		if r.GetKind() == "Namespace" {
			namespaces++
		}
	}
	if namespaces != 1 {
		t.Errorf("%d Namespaces, want the one declared above the shards", namespaces)
	}
	selectors := map[string]bool{}
	for shard := range shards {
		sa := "driftback-" + shard
		for _, id := range []string{"Deployment/" + sa, "ServiceAccount/" + sa, "ClusterRole/driftback-reader-" + shard, "Role/driftback-leader-election-" + shard} {
			if byID[id] == nil {
				t.Errorf("shard %s: %s missing from the build", shard, id)
			}
		}
		for _, b := range []string{"ClusterRoleBinding/driftback-reader-" + shard, "ClusterRoleBinding/driftback-reader-extra-" + shard, "RoleBinding/driftback-leader-election-" + shard} {
			subjects, _ := byID[b]["subjects"].([]any)
			if len(subjects) != 1 || subjects[0].(map[string]any)["name"] != sa {
				t.Errorf("%s binds %v, want the shard's ServiceAccount %s", b, subjects, sa)
			}
		}
		d := byID["Deployment/"+sa]
		spec, _ := d["spec"].(map[string]any)
		sel, _ := spec["selector"].(map[string]any)
		labels, _ := sel["matchLabels"].(map[string]any)
		if labels["driftback.dev/shard"] != shard {
			t.Errorf("Deployment %s selects %v, want driftback.dev/shard: %s", sa, labels, shard)
		}
		selectors[labels["driftback.dev/shard"].(string)] = true
		var cm map[string]any
		for id, obj := range byID {
			if strings.HasPrefix(id, "ConfigMap/driftback-config-"+shard+"-") {
				cm = obj
			}
		}
		data, _ := cm["data"].(map[string]any)
		if s, _ := data["driftback.yaml"].(string); !strings.Contains(s, "shard: "+shard+"\n") {
			t.Errorf("shard %s's ConfigMap does not hold its configuration: %v", shard, cm)
		}
	}
	if len(selectors) != 2 {
		t.Errorf("the Deployments' selectors are not apart: %v", selectors)
	}
}
