package writeback_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftback/driftback/config"
	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/writeback"
)

// bareRepo is a real Git repository on disk that gitsync pushes to.
func bareRepo(t *testing.T) (*gitsync.Repo, string) { return bareRepoB(t) }

func bareRepoB(t testing.TB) (*gitsync.Repo, string) {
	t.Helper()
	d := filepath.Join(t.TempDir(), "repo.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", "-b", "main", d).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	r, err := gitsync.Auth{}.Open(d)
	if err != nil {
		t.Fatal(err)
	}
	return r, d
}

// TestDeletionWindow is issue 11's item 3: the red team deleted one object
// every few seconds and erased 6 of 10 in 6 commits, each under the
// per-commit limit. With the window guard, at most maxShareInWindow of the
// most objects recorded in the window go before it refuses; --allow-deletions
// lets one commit through and counts from it on.
func TestDeletionWindow(t *testing.T) {
	tests := []struct {
		name   string
		guard  config.DeletionGuard
		erased int // objects erased one by one before the first refusal
	}{
		{name: "window off: the per-commit guard alone", guard: config.DeletionGuard{}, erased: 6},
		{name: "24h window, 30%", guard: config.DeletionGuard{Window: 24 * time.Hour, MaxShareInWindow: 0.3}, erased: 3},
		{name: "24h window, 0%", guard: config.DeletionGuard{Window: 24 * time.Hour}, erased: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo, bare := bareRepo(t)
			cfg := testConfig()
			cfg.Deletions = tt.guard
			w := writeback.New(cfg, repo, "uid-a", writeback.Options{MaxDeleteShare: 0.2})
			if _, err := w.Publish(t.Context(), statusCaps(10)); err != nil {
				t.Fatal(err)
			}
			n := 10
			var err error
			for n > 0 {
				if _, err = w.Publish(t.Context(), statusCaps(n-1)); err != nil {
					break
				}
				n--
			}
			if reason, ok := writeback.RefusalReason(err); !ok || reason != writeback.RefusedMassDeletion {
				t.Fatalf("after %d deletions: err = %v, want a mass-deletion refusal", 10-n, err)
			}
			if 10-n != tt.erased {
				t.Errorf("erased %d of 10 before the guard fired, want %d (last refusal: %v)", 10-n, tt.erased, err)
			}
			if got := branchObjects(t, bare); got != n {
				t.Errorf("branch holds %d objects, want %d", got, n)
			}
			if tt.guard.Window > 0 && !strings.Contains(err.Error(), "deletionGuard.maxShareInWindow") {
				t.Errorf("the refusal does not name the window's setting: %v", err)
			}
		})
	}

	t.Run("--allow-deletions confirms once and counts from there", func(t *testing.T) {
		repo, bare := bareRepo(t)
		cfg := testConfig()
		cfg.Deletions = config.DeletionGuard{Window: 24 * time.Hour, MaxShareInWindow: 0.3}
		w := writeback.New(cfg, repo, "uid-a", writeback.Options{MaxDeleteShare: 0.2})
		for _, n := range []int{10, 9, 8, 7} {
			if _, err := w.Publish(t.Context(), statusCaps(n)); err != nil {
				t.Fatalf("%d objects: %v", n, err)
			}
		}
		// A person confirms the clean-up: 6 left of a peak of 10.
		confirmed := writeback.New(cfg, repo, "uid-a", writeback.Options{MaxDeleteShare: 0.2, AllowDeletions: true})
		if _, err := confirmed.Publish(t.Context(), statusCaps(6)); err != nil {
			t.Fatalf("--allow-deletions: %v", err)
		}
		if msg := tipMessage(t, bare); !strings.Contains(msg, writeback.TrailerDeletionsConfirmed+": ") {
			t.Errorf("the confirmed commit lacks its trailer:\n%s", msg)
		}
		// The window now counts from the confirmed 6: one more may go
		// (1/6 = 17%), two (33%) may not; the confirmation was spent.
		if _, err := confirmed.Publish(t.Context(), statusCaps(5)); err != nil {
			t.Fatalf("5 of the confirmed 6: %v", err)
		}
		_, err := confirmed.Publish(t.Context(), statusCaps(4))
		if reason, _ := writeback.RefusalReason(err); reason != writeback.RefusedMassDeletion || !strings.Contains(err.Error(), "leave 4 of the 6 objects") {
			t.Fatalf("4 of the confirmed 6: err = %v, want the window's refusal", err)
		}
	})
}

func branchObjects(t *testing.T, bare string) int {
	t.Helper()
	out, err := exec.Command("git", "--git-dir", bare, "ls-tree", "-r", "--name-only", "driftback/c1", dir+"/status").CombinedOutput()
	if err != nil {
		t.Fatalf("git ls-tree: %v\n%s", err, out)
	}
	return len(strings.Fields(string(out)))
}

func tipMessage(t *testing.T, bare string) string {
	t.Helper()
	out, err := exec.Command("git", "--git-dir", bare, "log", "-1", "--format=%B", "driftback/c1").CombinedOutput()
	if err != nil {
		t.Fatalf("git log: %v\n%s", err, out)
	}
	return string(out)
}
