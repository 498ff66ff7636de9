package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// file is one regular file of a layer.
type file struct {
	mode int64
	data []byte
}

// layer packs files into a reproducible layer: entries sorted by path, every
// parent directory listed once, owner root, one fixed time. Two builds from
// the same files give the same bytes and so the same digest (the gzip stream
// of go-containerregistry carries no time or name either).
func layer(files map[string]file, mtime time.Time) (v1.Layer, error) {
	b, err := tarBytes(files, mtime)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

func tarBytes(files map[string]file, mtime time.Time) ([]byte, error) {
	dirs := map[string]bool{}
	for p := range files {
		if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p {
			return nil, fmt.Errorf("layer path %q: want a clean relative path", p)
		}
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	type entry struct {
		name string
		dir  bool
	}
	var all []entry
	for d := range dirs {
		all = append(all, entry{d, true})
	}
	for p := range files {
		all = append(all, entry{p, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range all {
		h := &tar.Header{Name: e.name, ModTime: mtime.Truncate(time.Second), Uname: "root", Gname: "root"}
		if e.dir {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, e.name+"/", 0o755
		} else {
			f := files[e.name]
			h.Typeflag, h.Mode, h.Size = tar.TypeReg, f.mode, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer %s: %w", e.name, err)
		}
		if !e.dir {
			if _, err := tw.Write(files[e.name].data); err != nil {
				return nil, fmt.Errorf("layer %s: %w", e.name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
