package render

import (
	"fmt"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// krusty has no switch to turn remote loading off: a kustomization that
// lists http(s)://… is fetched with net/http, and a repository URL
// (github.com/org/repo//dir?ref=x, https://host/repo.git) is cloned with
// the git binary (kustomize/api internal/loader FileLoader.Load and
// FileLoader.New, internal/target accumulateResources). driftback runs in
// the cluster with the pod's network, and the kustomizations it builds come
// from a branch others write: a remote reference there is request forgery.
// So before krusty runs, every kustomization reachable from the root is read
// here and each file or directory it names must exist in the repository;
// anything else is refused, and krusty never sees it.

// kustomizationNames are the file names kustomize reads in a directory.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// onlyLocal checks the kustomization at dir (an absolute path in fsys) and
// every kustomization it reaches.
func onlyLocal(fsys filesys.FileSystem, dir string) error {
	seen := map[string]bool{}
	return walkLocal(fsys, path.Clean(dir), seen)
}

func walkLocal(fsys filesys.FileSystem, dir string, seen map[string]bool) error {
	if seen[dir] {
		return nil
	}
	seen[dir] = true
	var file string
	for _, n := range kustomizationNames {
		if p := path.Join(dir, n); fsys.Exists(p) && !fsys.IsDir(p) {
			file = p
			break
		}
	}
	if file == "" {
		return nil // krusty says what is missing
	}
	b, err := fsys.ReadFile(file)
	if err != nil {
		return err
	}
	var k map[string]any
	if err := yaml.Unmarshal(b, &k); err != nil {
		return nil // krusty reports the syntax error with its own words
	}
	refs, err := localRefs(k)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	for _, r := range refs {
		if isRemote(r.value) {
			return fmt.Errorf("%s: %s %q is a remote reference; driftback never loads remote resources (the pod's network must not be reachable from a branch): vendor it into the repository", file, r.field, r.value)
		}
		if path.IsAbs(r.value) {
			continue // krusty refuses absolute paths itself
		}
		p := path.Join(dir, r.value)
		if !fsys.Exists(p) {
			return fmt.Errorf("%s: %s %q is not in the repository; driftback never loads remote resources, and kustomize would try to fetch it", file, r.field, r.value)
		}
		if r.dir && fsys.IsDir(p) {
			if err := walkLocal(fsys, p, seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// isRemote recognises what is remote whatever the repository holds: a URL,
// an scp-like address, a ref query. Other remote forms
// (github.com/org/repo) are caught by not existing in the repository.
func isRemote(s string) bool {
	return strings.Contains(s, "://") || strings.HasPrefix(s, "git@") || strings.Contains(s, "?ref=") ||
		strings.Contains(s, "?version=")
}

type ref struct {
	field, value string
	// dir: a kustomization directory may be named (resources, components).
	dir bool
}

// localRefs lists the file and directory names a kustomization holds, in
// every field kustomize loads from.
func localRefs(k map[string]any) ([]ref, error) {
	var out []ref
	strs := func(field string, dir bool) {
		list, _ := k[field].([]any)
		for i, v := range list {
			s, ok := v.(string)
			// A string with a newline is an inline patch or config, not a name.
			if ok && s != "" && !strings.Contains(s, "\n") {
				out = append(out, ref{field: fmt.Sprintf("%s[%d]", field, i), value: s, dir: dir})
			}
		}
	}
	for _, f := range []string{"resources", "bases", "components"} {
		strs(f, true)
	}
	for _, f := range []string{"crds", "configurations", "generators", "transformers", "validators", "patchesStrategicMerge"} {
		strs(f, false)
	}
	objPath := func(field string) {
		list, _ := k[field].([]any)
		for i, v := range list {
			m, _ := v.(map[string]any)
			if s, ok := m["path"].(string); ok && s != "" {
				out = append(out, ref{field: fmt.Sprintf("%s[%d].path", field, i), value: s})
			}
		}
	}
	for _, f := range []string{"patches", "patchesJson6902", "replacements"} {
		objPath(f)
	}
	if m, ok := k["openapi"].(map[string]any); ok {
		if s, ok := m["path"].(string); ok && s != "" {
			out = append(out, ref{field: "openapi.path", value: s})
		}
	}
	for _, gen := range []string{"configMapGenerator", "secretGenerator"} {
		list, _ := k[gen].([]any)
		for i, v := range list {
			m, _ := v.(map[string]any)
			files, _ := m["files"].([]any)
			for j, f := range files {
				if s, ok := f.(string); ok {
					// key=path or path
					if _, p, found := strings.Cut(s, "="); found {
						s = p
					}
					out = append(out, ref{field: fmt.Sprintf("%s[%d].files[%d]", gen, i, j), value: s})
				}
			}
			envs, _ := m["envs"].([]any)
			for j, e := range envs {
				if s, ok := e.(string); ok {
					out = append(out, ref{field: fmt.Sprintf("%s[%d].envs[%d]", gen, i, j), value: s})
				}
			}
			if s, ok := m["env"].(string); ok && s != "" {
				out = append(out, ref{field: fmt.Sprintf("%s[%d].env", gen, i), value: s})
			}
		}
	}
	for _, f := range []string{"helmCharts", "helmChartInflationGenerator", "helmGlobals"} {
		if _, ok := k[f]; ok {
			return nil, fmt.Errorf("%s: Helm charts are fetched from their repositories; driftback never loads remote resources", f)
		}
	}
	return out, nil
}
