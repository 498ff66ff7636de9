package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftback/driftback/gitsync"
)

// FuzzParse: a configuration, however malformed, is refused with an error
// or accepted with every Git name valid by Git's rules; never a panic.
// Seeds: the documented examples and the error cases' shapes.
func FuzzParse(f *testing.F) {
	f.Add([]byte(head + "rules:\n" + okRule))
	f.Add([]byte(head + "git: {path: .git/hooks, branch: refs/heads/main}\nrules:\n" + okRule))
	f.Add([]byte(head + "git: {branch: a}\ngit: {branch: b}\nrules:\n" + okRule))
	f.Add([]byte(head + "presets: [{name: crossplane}, {name: status, kinds: [X.example.com]}]\n"))
	if docs, err := filepath.Glob(filepath.Join("..", "docs", "*.yaml")); err == nil {
		for _, d := range docs {
			if b, err := os.ReadFile(d); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("an empty error")
			}
			return
		}
		if err := gitsync.CheckBranchName(c.Git.Branch); err != nil {
			t.Fatalf("accepted git.branch: %v", err)
		}
		if err := gitsync.CheckBranchName(c.Git.BaseBranch); err != nil {
			t.Fatalf("accepted git.baseBranch: %v", err)
		}
		if p, err := gitsync.CleanDir(c.Git.Path); err != nil || p != c.Git.Path {
			t.Fatalf("accepted git.path %q: %v", c.Git.Path, err)
		}
		if len(c.Rules) == 0 {
			t.Fatal("accepted a config without rules")
		}
	})
}
