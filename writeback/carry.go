package writeback

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/driftback/driftback/render"
)

// carryRecorded copies the files the branch holds for kinds that could not
// be listed into tree, so their absence from the captures deletes nothing.
func carryRecorded(parent fs.FS, dir string, tree render.Tree, kinds map[string]bool) error {
	if len(kinds) == 0 {
		return nil
	}
	var old []string
	err := fs.WalkDir(parent, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			old = append(old, strings.TrimPrefix(p, dir+"/"))
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	files := map[string][]byte{}
	for _, p := range render.OfKinds(old, kinds) {
		b, err := fs.ReadFile(parent, path.Join(dir, p))
		if err != nil {
			return fmt.Errorf("read %s: %w", path.Join(dir, p), err)
		}
		files[p] = b
	}
	return tree.Carry(files)
}
