package render

import (
	"fmt"
	"path"

	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/overlay"
)

// One object at a time: render is pure per object (the files of a capture
// depend on the capture and the layout alone), so a writer that remembers
// what each object produced can render only the captures that changed and
// rebuild kustomization.yaml from the remembered listing (issue 15:
// every commit costs what changed). RenderEach and RenderObject share
// fileJobs.object, so both write the same bytes.

// Object is the files one capture renders to.
type Object struct {
	// Files maps paths relative to the overlay to their content.
	Files map[string][]byte
	// Resource is the path listed under resources in kustomization.yaml,
	// "" for none.
	Resource string
	// Patch is the path listed under patches, "" for none.
	Patch string
}

// RenderObject renders one capture as RenderEach would among the others.
func RenderObject(c capture.Capture, l Layout) (Object, error) {
	var files fileJobs
	res, pat, err := files.object(c, l)
	if err != nil {
		return Object{}, err
	}
	out := Object{Files: make(map[string][]byte, len(files)), Resource: res, Patch: pat}
	var scratch []byte
	for _, j := range files {
		b, err := encodeFile(&scratch, j.header, j.obj)
		if err != nil {
			return Object{}, fmt.Errorf("render %s: %w", j.name, err)
		}
		out.Files[j.name] = b
	}
	return out, nil
}

// KustomizationFile is the kustomization.yaml of an overlay whose objects
// list resources and patches (paths relative to the overlay, in the order
// of their captures' refs, as RenderEach lists them).
func KustomizationFile(l Layout, resources, patches []string) ([]byte, error) {
	k := kustomization{APIVersion: "kustomize.config.k8s.io/v1beta1", Kind: "Kustomization", Resources: make([]string, 0, len(l.Resources)+len(resources))}
	k.Resources = append(append(k.Resources, l.Resources...), resources...)
	for _, p := range patches {
		k.Patches = append(k.Patches, patch{Path: p})
	}
	return kustomizationBytes(k)
}

func kustomizationBytes(k kustomization) ([]byte, error) {
	kb, err := yaml.Marshal(k)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", overlay.KustomizationFile, err)
	}
	return append([]byte(header), kb...), nil
}

// MetaFile is the overlay's .driftback.yaml.
func MetaFile(l Layout) ([]byte, error) {
	mb, err := yaml.Marshal(overlay.NewMeta(l.Cluster, l.ClusterUID))
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", overlay.MetaFile, err)
	}
	return append([]byte(header), mb...), nil
}

// object adds the files of one capture and returns the paths it lists in
// kustomization.yaml: a resource, a patch, or neither.
func (files *fileJobs) object(c capture.Capture, l Layout) (resource, patchPath string, err error) {
	rel := overlay.FileName(c.Ref)
	hdr := overlay.NameHeader(c.Ref.Name)
	patchObj := withoutBase(c, l.Base)
	whole := c.Object
	if c.Mode == capture.ModeAuto {
		whole = c.Whole
	}
	switch {
	case c.Mode == capture.ModeObject, c.Mode == capture.ModeAuto && whole != nil && !inBase(l.Base, c.Ref):
		obj, ok := l.Flux.whole(whole)
		if !ok {
			// Flux would rename it: a second cloud resource. Kept, not applied.
			if err := files.add(path.Join(overlay.UnmatchedDir, rel), whole, hdr, c.Ref); err != nil {
				return "", "", err
			}
			break
		}
		if err := files.add(path.Join(overlay.ResourcesDir, rel), obj, hdr, c.Ref); err != nil {
			return "", "", err
		}
		resource = path.Join(overlay.ResourcesDir, rel)
	case hasPatchFields(patchObj):
		obj, inBase := patchFor(c.Ref, patchObj, l.Base)
		if !inBase {
			if err := files.add(path.Join(overlay.UnmatchedDir, rel), obj, hdr, c.Ref); err != nil {
				return "", "", err
			}
			break
		}
		if err := files.add(path.Join(overlay.PatchesDir, rel), obj, hdr, c.Ref); err != nil {
			return "", "", err
		}
		patchPath = path.Join(overlay.PatchesDir, rel)
	}
	if len(c.Status) > 0 {
		s := map[string]any{
			"apiVersion": c.Ref.APIVersion(),
			"kind":       c.Ref.Kind,
			"metadata":   identityMetadata(c.Ref),
			"status":     c.Status,
		}
		if err := files.add(path.Join(overlay.StatusDir, rel), s, hdr, c.Ref); err != nil {
			return "", "", err
		}
	}
	return resource, patchPath, nil
}
