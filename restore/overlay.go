// Package restore reads a driftback overlay back into a cluster: it writes
// captured status through the /status subresource (Kubernetes ignores status
// on create), and the drill rebuilds a scratch cluster from the overlay alone
// and checks every captured field. It reads the overlay as an io/fs.FS and
// knows nothing about Git.
package restore

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/render"
)

// Overlay is what a rendered overlay holds, file by file.
type Overlay struct {
	// Meta is the record of the cluster that wrote the overlay; zero when
	// the overlay has no .driftback.yaml.
	Meta render.Meta
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
}

// Namespace is the namespace of the live object the file is about: the one
// its path names (render files every object under its live identity), else
// its metadata's. A patch's metadata addresses the object as the overlay's
// kustomize build sees it, which may leave the namespace to the GitOps tool
// or name it before Flux's targetNamespace.
func (f File) Namespace() string {
	if ns, _, ok := f.pathIdentity(); ok {
		return ns
	}
	return f.Object.GetNamespace()
}

// Name is the name of the live object the file is about: the one its path
// names, else its metadata's (a patch may address the object by its name
// before Flux's namePrefix, or by a ${var} Flux substitutes).
func (f File) Name() string {
	if _, name, ok := f.pathIdentity(); ok {
		return name
	}
	return f.Object.GetName()
}

// pathIdentity reads <dir>/<namespace|_cluster>/<group>_<Kind>/<name>.yaml.
func (f File) pathIdentity() (namespace, name string, ok bool) {
	parts := strings.Split(f.Path, "/")
	if len(parts) != 4 || !strings.HasSuffix(parts[3], ".yaml") {
		return "", "", false
	}
	if parts[1] != render.ClusterScopedDir {
		namespace = parts[1]
	}
	return namespace, strings.TrimSuffix(parts[3], ".yaml"), true
}

// Describe names the object for reports: Kind.group/namespace/name.
func (f File) Describe() string {
	return describe(f.Object.GroupVersionKind().GroupKind().String(), f.Namespace(), f.Name())
}

func describe(gk, ns, name string) string {
	if ns == "" {
		return gk + "/" + name
	}
	return gk + "/" + ns + "/" + name
}

// ReadOverlay reads the overlay at dir of fsys (a repository's tree).
func ReadOverlay(fsys fs.FS, dir string) (*Overlay, error) {
	dir = path.Clean(strings.Trim(dir, "/"))
	o := &Overlay{}
	b, err := fs.ReadFile(fsys, path.Join(dir, render.MetaFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, err := fs.Stat(fsys, path.Join(dir, render.KustomizationFile)); err != nil {
			return nil, fmt.Errorf("read overlay %s: no %s or %s there: %w", dir, render.MetaFile, render.KustomizationFile, err)
		}
	case err != nil:
		return nil, fmt.Errorf("read overlay %s: %w", dir, err)
	default:
		if o.Meta, err = render.ParseMeta(b); err != nil {
			return nil, fmt.Errorf("read overlay %s: %w", dir, err)
		}
	}
	for _, d := range []struct {
		name string
		into *[]File
	}{{render.PatchesDir, &o.Patches}, {render.ResourcesDir, &o.Resources}, {render.StatusDir, &o.Status}, {render.UnmatchedDir, &o.Unmatched}} {
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
		u, err := decodeObject(b)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, File{Path: strings.TrimPrefix(p, dir+"/"), Object: u})
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read overlay %s: %w", root, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// decodeObject decodes one YAML object the way the apiserver's JSON is
// decoded (integers as int64), so captured and live values compare equal.
func decodeObject(b []byte) (*unstructured.Unstructured, error) {
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
