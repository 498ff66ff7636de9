package manifests

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/driftback/driftback/config"
)

// remoteBase is how the documentation names this repository's manifests;
// the test points it at the checkout (krusty loads nothing remote).
var remoteBase = regexp.MustCompile(`https://github\.com/driftback/driftback//(manifests/[a-z/-]+)\?ref=v[0-9.]+`)

// snippets returns the ```yaml blocks of a Markdown file by the file their
// first line names ("# file: PATH"); blocks without one are returned under "".
func snippets(t *testing.T, md string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	rest := string(b)
	for {
		var ok bool
		if _, rest, ok = strings.Cut(rest, "```yaml\n"); !ok {
			return out
		}
		var block string
		block, rest, _ = strings.Cut(rest, "```")
		first, _, _ := strings.Cut(block, "\n")
		name, _ := strings.CutPrefix(first, "# file: ")
		if name == first {
			name = ""
		}
		out[name] = append(out[name], block)
	}
}

// Every YAML block of docs/install.md (and any the README names as a file)
// is a file of one example layout: together they must build with kustomize
// against this checkout's manifests, and configurations must load.
func TestDocumentedInstallBuilds(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, md := range []string{"../docs/install.md", "../README.md"} {
		for name, blocks := range snippets(t, md) {
			if name == "" {
				if md == "../docs/install.md" {
					t.Errorf("%s: a yaml block does not name its file (first line \"# file: PATH\"), so no test builds it:\n%s", md, blocks[0])
				}
				continue
			}
			if len(blocks) > 1 || files[name] != "" {
				t.Errorf("%s: %s is shown twice", md, name)
			}
			files[name] = blocks[0]
		}
	}
	if len(files) == 0 {
		t.Fatal("no snippet found")
	}
	site := t.TempDir()
	var kustomizations []string
	for name, body := range files {
		full := filepath.Join(site, filepath.FromSlash(name))
		rel, err := filepath.Rel(filepath.Dir(full), root)
		if err != nil {
			t.Fatal(err)
		}
		body = remoteBase.ReplaceAllString(body, filepath.ToSlash(rel)+"/$1")
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if path.Base(name) == "kustomization.yaml" {
			kustomizations = append(kustomizations, filepath.Dir(full))
		}
	}
	for name := range files {
		if strings.Contains(files[name], "kind: Config\n") {
			if _, err := config.Load(filepath.Join(site, filepath.FromSlash(name))); err != nil {
				t.Errorf("the documented configuration %s does not load: %v", name, err)
			}
		}
	}
	if len(kustomizations) == 0 {
		t.Fatal("no documented kustomization")
	}
	for _, dir := range kustomizations {
		m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
		if err != nil {
			t.Errorf("the documented install %s does not build: %v", dir, err)
			continue
		}
		// What the snippets promise: the configuration replaced, the
		// generated role patched in, the image pinned.
		y, err := m.AsYaml()
		if err != nil {
			t.Fatal(err)
		}
		s := string(y)
		for _, want := range []string{"cluster: my-cluster", "- buckets", "image: ghcr.io/driftback/driftback:v", "--leader-elect", "--git-secret-dir=/etc/driftback/git"} {
			if !strings.Contains(s, want) {
				t.Errorf("the documented install %s lacks %q", dir, want)
			}
		}
		if strings.Contains(s, "secrets") {
			t.Errorf("the documented install grants secrets:\n%s", s)
		}
	}
}
