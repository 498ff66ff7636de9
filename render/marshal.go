package render

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"sigs.k8s.io/yaml"
)

// fileJobs are the files of a render waiting to be encoded.
type fileJobs []fileJob

type fileJob struct {
	name string
	obj  map[string]any
}

func (j *fileJobs) add(name string, obj map[string]any) error {
	*j = append(*j, fileJob{name, obj})
	return nil
}

// marshal encodes every file into t on every core: YAML encoding is most
// of the time of a large render (the first commit of a big cluster), and
// each file's bytes depend on its object alone, so the tree is the same.
func (j fileJobs) marshal(t Tree) error {
	out := make([][]byte, len(j))
	errs := make([]error, len(j))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(j)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(j) {
					return
				}
				out[i], errs[i] = yaml.Marshal(j[i].obj)
			}
		})
	}
	wg.Wait()
	for i, f := range j {
		if errs[i] != nil {
			return fmt.Errorf("render %s: %w", f.name, errs[i])
		}
		t[f.name] = out[i]
	}
	return nil
}
