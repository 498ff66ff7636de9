package gitsync_test

import (
	"context"
	"fmt"
	"io/fs"
	"sync"
	"testing"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
)

// One Repo is shared by run's writer, follower, pull request syncer and
// start-up checks. go-git's in-memory object storage is not safe for
// concurrent use ("concurrent map writes" crashed a run): publishes, lags
// and readers, and reads of what ReadBranch returned, run side by side
// here under the race detector's eye (make test runs it without; the
// crash itself is fatal either way).
func TestRepoMethodsRunSideBySide(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"README.md": "fleet\n"})
	repo, err := gitsync.Auth{}.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tg := gitsync.Target{Branch: "driftback/c1", BaseBranch: "main", Dir: "clusters/c1", AuthorName: "driftback", AuthorEmail: "driftback@localhost"}
	publish := func(i int) error {
		_, err := repo.Publish(ctx, tg, func(fs.FS) (gitsync.Content, error) {
			files := map[string][]byte{}
			for j := 0; j < 50; j++ {
				files[fmt.Sprintf("f%02d.yaml", j)] = fmt.Appendf(nil, "v: %d-%d\n", i, j)
			}
			return gitsync.Content{Files: files}, nil
		})
		return err
	}
	if err := publish(0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= 5; i++ {
				var err error
				switch g {
				case 0:
					err = publish(i)
				case 1:
					_, err = repo.Lag(ctx, tg)
				case 2:
					var fsys fs.FS
					if fsys, _, err = repo.ReadBranch(ctx, tg.Branch); err == nil {
						_, err = fs.ReadFile(fsys, "clusters/c1/f00.yaml")
					}
				case 3:
					_, err = repo.BranchChanges(ctx, tg.Branch, tg.BaseBranch, tg.Dir)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
