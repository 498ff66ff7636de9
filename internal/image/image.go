// Package image assembles driftback's OCI image without Docker and without
// pulling a base image: a base layer made here (the CA bundle of Debian's
// ca-certificates package and a passwd/group entry for the nonroot user
// 65532, nothing else) and a layer holding the static binary. Every input is
// explicit and every time is the one given (SOURCE_DATE_EPOCH), so the same
// inputs give the same digest; `make image` writes the result as an OCI
// layout that `crane push` sends to a registry (docs/install.md).
package image

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Where things are in the image.
const (
	Entrypoint = "/usr/local/bin/driftback"
	CAFile     = "/etc/ssl/certs/ca-certificates.crt"
	// User is the nonroot user and group the Deployment's securityContext
	// names (runAsUser 65532), as distroless's nonroot images use.
	User = "65532:65532"
	// Source is the repository the org.opencontainers.image.source label names.
	Source = "https://github.com/driftback/driftback"
)

// Options are the inputs of one image besides the binaries.
type Options struct {
	// Version is the tag the binary reports (`driftback version`) and the
	// org.opencontainers.image.version label.
	Version string
	// Revision is the source commit (org.opencontainers.image.revision).
	Revision string
	// Created is the time recorded everywhere (SOURCE_DATE_EPOCH).
	Created time.Time
	// CACerts is the PEM bundle installed at CAFile.
	CACerts []byte
}

// Labels are the image's OCI annotations (org.opencontainers.image.*).
func (o Options) Labels() map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "driftback",
		"org.opencontainers.image.description": "Keeps the runtime state Git lacks in Git, as a Kustomize overlay",
		"org.opencontainers.image.source":      Source,
		"org.opencontainers.image.url":         Source,
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.created":     o.Created.UTC().Format(time.RFC3339),
	}
	if o.Revision != "" {
		l["org.opencontainers.image.revision"] = o.Revision
	}
	return l
}

// baseFiles are the whole base: a CA bundle and the nonroot user.
func baseFiles(o Options) map[string]file {
	return map[string]file{
		strings.TrimPrefix(CAFile, "/"): {mode: 0o644, data: o.CACerts},
		"etc/passwd":                    {mode: 0o644, data: []byte("nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		"etc/group":                     {mode: 0o644, data: []byte("nonroot:x:65532:\n")},
	}
}

// Image is one platform's image: the base layer, then the binary.
func Image(binary []byte, platform v1.Platform, o Options) (v1.Image, error) {
	if o.Version == "" {
		return nil, fmt.Errorf("image: version required (the tag `driftback version` prints)")
	}
	if len(o.CACerts) == 0 {
		return nil, fmt.Errorf("image: CA certificates required")
	}
	base, err := layer(baseFiles(o), o.Created)
	if err != nil {
		return nil, err
	}
	app, err := layer(map[string]file{strings.TrimPrefix(Entrypoint, "/"): {mode: 0o755, data: binary}}, o.Created)
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{Created: v1.Time{Time: o.Created}, CreatedBy: "driftback internal/image: ca-certificates, nonroot user", Comment: "base"}},
		mutate.Addendum{Layer: app, History: v1.History{Created: v1.Time{Time: o.Created}, CreatedBy: "go build ./cmd/driftback", Comment: "driftback " + o.Version}},
	)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: o.Created}
	cf.OS, cf.Architecture, cf.Variant = platform.OS, platform.Architecture, platform.Variant
	cf.Config.Entrypoint = []string{Entrypoint}
	cf.Config.User = User
	cf.Config.WorkingDir = "/"
	cf.Config.Env = []string{"SSL_CERT_FILE=" + CAFile, "HOME=/home/nonroot"}
	cf.Config.Labels = o.Labels()
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, o.Labels()).(v1.Image), nil
}

// Index bundles one image per platform, sorted by platform so the order of
// the builds does not change the digest.
func Index(images map[string]v1.Image, o Options) (v1.ImageIndex, error) {
	names := make([]string, 0, len(images))
	for p := range images {
		names = append(names, p)
	}
	sort.Strings(names)
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, name := range names {
		p, err := v1.ParsePlatform(name)
		if err != nil {
			return nil, fmt.Errorf("platform %q: %w", name, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: images[name], Descriptor: v1.Descriptor{Platform: p}})
	}
	return mutate.Annotations(idx, o.Labels()).(v1.ImageIndex), nil
}

// WriteLayout writes idx as an OCI image layout in dir (replacing it), its
// index.json naming it with the tag, which `crane push DIR REF` sends.
func WriteLayout(dir string, idx v1.ImageIndex, tag string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("image layout %s: %w", dir, err)
	}
	return p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag}))
}

// DebianCACerts reads the certificates Debian's ca-certificates package
// ships (dir, normally /usr/share/ca-certificates/mozilla) into one bundle,
// in name order as update-ca-certificates concatenates them. Reading the
// package's files rather than /etc/ssl/certs keeps local additions of the
// build machine out of the image.
func DebianCACerts(dir string) ([]byte, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.crt"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no certificates in %s: install Debian's ca-certificates package (hack/install-tools.sh)", dir)
	}
	sort.Strings(names)
	var out []byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			out = append(out, '\n')
		}
	}
	return out, nil
}
