package render

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"sigs.k8s.io/yaml"
	goyaml "sigs.k8s.io/yaml/goyaml.v2"

	"github.com/driftback/driftback/capture"
)

// fileJobs are the files of a render waiting to be encoded.
type fileJobs []fileJob

type fileJob struct {
	name string
	obj  map[string]any
	// header is written before the YAML: the real name of an object whose
	// file name is truncated (overlay.NameHeader).
	header []byte
	// ref is the object the file is about: a file that cannot be encoded
	// leaves that object out of the tree (see Skipped), not the others.
	ref capture.ObjectRef
}

func (j *fileJobs) add(name string, obj map[string]any, header []byte, ref capture.ObjectRef) error {
	*j = append(*j, fileJob{name, obj, header, ref})
	return nil
}

// encodeFile returns header followed by obj as YAML, written directly
// where the direct encoder can (yamlenc.go) into scratch (reused by the
// caller, may be nil), then copied into a slice of the file's exact size:
// a large render holds every file until it is committed.
func encodeFile(scratch *[]byte, header []byte, obj map[string]any) ([]byte, error) {
	var buf []byte
	if scratch != nil {
		buf = (*scratch)[:0]
	}
	buf = append(buf, header...)
	out, ok := appendYAML(buf, obj)
	if !ok {
		b, err := marshalYAML(obj)
		if err != nil {
			return nil, err
		}
		out = append(buf, b...)
	}
	if scratch != nil {
		*scratch = out
	}
	return slices.Clone(out), nil
}

// marshalYAML writes what the direct encoder does not. sigs.k8s.io/yaml goes through JSON,
// which leaves DEL and C1 control characters raw, and its YAML parser then
// refuses them ("control characters are not allowed"); a name or value
// holding one (a ClusterRole may be named so) is written by go-yaml
// directly instead, which escapes them ("\x7F"). Both decode to the same
// object.
func marshalYAML(obj map[string]any) ([]byte, error) {
	b, err := yaml.Marshal(obj)
	if err == nil {
		return b, nil
	}
	b, err2 := goyaml.Marshal(obj)
	if err2 != nil {
		return nil, err
	}
	return b, nil
}

// marshal encodes every file into t on every core: YAML encoding is most
// of the time of a large render (the first commit of a big cluster), and
// each file's bytes depend on its object alone, so the tree is the same.
// An object with a file that cannot be encoded is left out and returned.
func (j fileJobs) marshal(t Tree) []Skipped {
	out := make([][]byte, len(j))
	errs := make([]error, len(j))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(j)) {
		wg.Go(func() {
			var scratch []byte
			for {
				i := int(next.Add(1)) - 1
				if i >= len(j) {
					return
				}
				out[i], errs[i] = encodeFile(&scratch, j[i].header, j[i].obj)
			}
		})
	}
	wg.Wait()
	bad := map[capture.ObjectRef]bool{}
	var skipped []Skipped
	for i, f := range j {
		if errs[i] != nil && !bad[f.ref] {
			bad[f.ref] = true
			skipped = append(skipped, Skipped{Ref: f.ref, Err: fmt.Errorf("render %s: %w", f.name, errs[i])})
		}
	}
	for i, f := range j {
		if !bad[f.ref] {
			t[f.name] = out[i]
		}
	}
	return skipped
}
