package overlay

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Overlay is what a rendered overlay holds, file by file.
type Overlay struct {
	// Meta is the record of the cluster that wrote the overlay; zero when
	// the overlay has no MetaFile.
	Meta Meta
	// Patches, Resources and Status hold the files of those directories,
	// sorted by path.
	Patches   []File
	Resources []File
	Status    []File
	// Unmatched holds captured fields of objects the base does not define:
	// kept in Git but not applied by the overlay, so a rebuild lacks them
	// unless something else restores them. The drill verifies them too.
	Unmatched []File
}

// File is one object file of the overlay.
type File struct {
	// Path is relative to the overlay directory, e.g.
	// status/default/infra.example.com_KubernetesCluster/payments.yaml.
	Path   string
	Object *unstructured.Unstructured
	// name is the live name read from the file when its path is truncated.
	name string
}

// Namespace is the namespace of the live object the file is about: the one
// its path names (render files every object under its live identity), else
// its metadata's. A patch's metadata addresses the object as the overlay's
// kustomize build sees it, which may leave the namespace to the GitOps tool
// or name it before Flux's targetNamespace.
func (f File) Namespace() string {
	if e, ok := ParsePath(f.Path); ok {
		return e.Namespace
	}
	return f.Object.GetNamespace()
}

// Name is the name of the live object the file is about: the one its path
// names, else its metadata's (a patch may address the object by its name
// before Flux's namePrefix, or by a ${var} Flux substitutes).
func (f File) Name() string {
	if f.name != "" {
		return f.name
	}
	if e, ok := ParsePath(f.Path); ok && e.NameHash == "" {
		return e.Name
	}
	return f.Object.GetName()
}

// Describe names the object for reports: Kind.group/namespace/name.
func (f File) Describe() string {
	return ObjectName(f.Object.GroupVersionKind().GroupKind().String(), f.Namespace(), f.Name())
}

// ObjectName names an object for reports: Kind.group/namespace/name, or
// Kind.group/name when cluster-scoped.
func ObjectName(groupKind, ns, name string) string {
	if ns == "" {
		return groupKind + "/" + name
	}
	return groupKind + "/" + ns + "/" + name
}

// Read reads the overlay at dir of fsys (a repository's tree). A directory
// with neither MetaFile nor KustomizationFile is fs.ErrNotExist.
func Read(fsys fs.FS, dir string) (*Overlay, error) {
	dir = path.Clean(strings.Trim(dir, "/"))
	o := &Overlay{}
	b, err := fs.ReadFile(fsys, path.Join(dir, MetaFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, err := fs.Stat(fsys, path.Join(dir, KustomizationFile)); err != nil {
			return nil, fmt.Errorf("read overlay %s: no %s or %s there: %w", dir, MetaFile, KustomizationFile, err)
		}
	case err != nil:
		return nil, fmt.Errorf("read overlay %s: %w", dir, err)
	default:
		if o.Meta, err = ParseMeta(b); err != nil {
			return nil, fmt.Errorf("read overlay %s: %w", dir, err)
		}
	}
	for _, d := range []struct {
		name string
		into *[]File
	}{{PatchesDir, &o.Patches}, {ResourcesDir, &o.Resources}, {StatusDir, &o.Status}, {UnmatchedDir, &o.Unmatched}} {
		files, err := readObjects(fsys, dir, d.name)
		if err != nil {
			return nil, err
		}
		*d.into = files
	}
	return o, nil
}

func readObjects(fsys fs.FS, dir, sub string) ([]File, error) {
	var out []File
	root := path.Join(dir, sub)
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		u, err := DecodeObject(b)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		f := File{Path: strings.TrimPrefix(p, dir+"/"), Object: u}
		if e, ok := ParsePath(f.Path); ok && e.NameHash != "" {
			if f.name, err = e.NameIn(b); err != nil {
				return err
			}
		}
		out = append(out, f)
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read overlay %s: %w", root, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// DecodeObject decodes one YAML object the way the apiserver's JSON is
// decoded (integers as int64), so captured and live values compare equal.
func DecodeObject(b []byte) (*unstructured.Unstructured, error) {
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return nil, fmt.Errorf("not YAML: %w", err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		return nil, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	if u.GetName() == "" {
		return nil, fmt.Errorf("object %s has no metadata.name", u.GroupVersionKind())
	}
	return u, nil
}
