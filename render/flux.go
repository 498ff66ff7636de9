package render

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/yaml"
)

// FluxTransform is what the Flux Kustomization that applies the overlay does
// to object names (spec.targetNamespace, spec.namePrefix, spec.nameSuffix).
// Flux's generator writes these into the overlay's kustomization.yaml, so
// they apply to the base and to the overlay's whole objects alike.
type FluxTransform struct {
	TargetNamespace string
	NamePrefix      string
	NameSuffix      string
}

func (t FluxTransform) empty() bool { return t == FluxTransform{} }

// whole returns a whole object as the overlay must hold it for Flux to apply
// it under its live name: without the prefix and suffix Flux adds again. It
// reports false when Flux would apply the object under another name or
// namespace than the live one (the name lacks the prefix, the namespace is
// not the target): a renamed Crossplane resource is a second cloud resource.
func (t FluxTransform) whole(obj map[string]any) (map[string]any, bool) {
	if t.empty() {
		return obj, true
	}
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	if ns != "" && t.TargetNamespace != "" && ns != t.TargetNamespace {
		return nil, false
	}
	if !strings.HasPrefix(name, t.NamePrefix) || !strings.HasSuffix(name, t.NameSuffix) ||
		len(name) <= len(t.NamePrefix)+len(t.NameSuffix) {
		return nil, false
	}
	if t.NamePrefix == "" && t.NameSuffix == "" {
		return obj, true
	}
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[k] = v
	}
	m := make(map[string]any, len(md))
	for k, v := range md {
		m[k] = v
	}
	m["name"] = strings.TrimSuffix(strings.TrimPrefix(name, t.NamePrefix), t.NameSuffix)
	out["metadata"] = m
	return out, true
}

// PlainDirError is returned for an overlay.resources entry that is a
// directory of plain YAML: Flux generates a kustomization.yaml for the path of
// its own Kustomization, but kustomize cannot use such a directory as a
// resource of another kustomization (driftback's overlay).
type PlainDirError struct {
	// Index and Entry name the overlay.resources entry.
	Index int
	Entry string
	// Dir is the directory in the repository.
	Dir string
	// Kustomization is what Flux's generator would write there.
	Kustomization []byte
}

func (e *PlainDirError) Error() string {
	return fmt.Sprintf("overlay.resources[%d] %q: %s is a directory of plain YAML without a kustomization.yaml; "+
		"Flux generates one for a Kustomization whose path it is, but kustomize cannot build it as a resource of driftback's overlay. "+
		"Commit %s on the base branch with what Flux's generator writes (Flux then uses it unchanged):\n\n%s",
		e.Index, e.Entry, e.Dir, path.Join(e.Dir, konfig.DefaultKustomizationFileName()), e.Kustomization)
}

// checkPlainDirs fails on the first overlay.resources entry that is a
// directory of the base without a kustomization file.
func checkPlainDirs(base fs.FS, dir string, resources []string) error {
	if base == nil {
		return nil
	}
	for i, r := range resources {
		p := path.Join(dir, r)
		if strings.HasPrefix(p, "../") || p == ".." || strings.Contains(r, "://") {
			continue
		}
		fi, err := fs.Stat(base, p)
		if err != nil || !fi.IsDir() || hasKustomization(base, p) {
			continue
		}
		files, err := fluxResources(base, p)
		if err != nil {
			return fmt.Errorf("overlay.resources[%d] %q: %w", i, r, err)
		}
		k := struct {
			APIVersion string   `json:"apiVersion"`
			Kind       string   `json:"kind"`
			Resources  []string `json:"resources"`
		}{"kustomize.config.k8s.io/v1beta1", "Kustomization", files}
		b, err := yaml.Marshal(k)
		if err != nil {
			return err
		}
		return &PlainDirError{Index: i, Entry: r, Dir: p, Kustomization: b}
	}
	return nil
}

func hasKustomization(base fs.FS, dir string) bool {
	for _, n := range konfig.RecognizedKustomizationFileNames() {
		if fi, err := fs.Stat(base, path.Join(dir, n)); err == nil && !fi.IsDir() {
			return true
		}
	}
	return false
}

// fluxResources lists a plain directory's resources as Flux's generator does
// (fluxcd/pkg/kustomize, kustomize_generator.go, scanManifests): every .yaml
// and .yml file below it, in walk order, except that a subdirectory holding a
// kustomization file is listed itself and not descended into; paths are
// relative, starting with "./".
func fluxResources(base fs.FS, dir string) ([]string, error) {
	var out []string
	err := fs.WalkDir(base, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel := "./" + strings.TrimPrefix(p, dir+"/")
		if d.IsDir() {
			if hasKustomization(base, p) {
				out = append(out, rel)
				return fs.SkipDir
			}
			return nil
		}
		if ext := path.Ext(p); ext == ".yaml" || ext == ".yml" {
			out = append(out, rel)
		}
		return nil
	})
	return out, err
}
