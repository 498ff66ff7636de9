package gitsync

import (
	"testing"

	"github.com/driftback/driftback/internal/gitserver"
)

// fleet starts a Git server with a repository whose main branch holds one
// file, and opens a Repo on it: how the package's own pushing tests begin.
func fleet(t testing.TB) (r *Repo, url, repoDir string) {
	t.Helper()
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir = srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
	r, err := Auth{}.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	return r, url, repoDir
}
