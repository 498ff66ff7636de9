package render

import (
	"path"
	"strings"
)

// ObjectKeys returns the set of objects a list of overlay paths holds state
// for: <namespace>/<group>_<Kind>/<name>.yaml, whichever directory (patches,
// resources, status or unmatched) the files are in.
func ObjectKeys(paths []string) map[string]bool {
	out := map[string]bool{}
	for _, p := range paths {
		dir, rest, ok := strings.Cut(path.Clean(p), "/")
		if !ok {
			continue
		}
		switch dir {
		case PatchesDir, ResourcesDir, StatusDir, UnmatchedDir:
			out[rest] = true
		}
	}
	return out
}
