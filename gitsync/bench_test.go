package gitsync

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// The cost of a one-file commit in repositories of growing size: the delta
// form, the whole-map form with a warm cache, the whole-map form after a
// restart (empty caches, objects already fetched), and the git CLI doing
// `git add <file> && git commit` in a worktree holding the same files.
//
//	go test -run '^$' -bench . -benchmem ./gitsync/

const benchDir = "clusters/bench/driftback"

var benchSizes = []int{1000, 20000, 100000}

func benchPath(i int) string {
	return fmt.Sprintf("patches/ns-%04d/example.com_Widget/w-%06d.yaml", i/100, i)
}

func benchContent(i, version int) []byte {
	return fmt.Appendf(nil, `apiVersion: example.com/v1
kind: Widget
metadata:
  annotations:
    crossplane.io/external-name: widget-%06d-v%d
  name: w-%06d
  namespace: ns-%04d
`, i, version, i, i/100)
}

type benchRepo struct {
	r     *Repo
	files map[string][]byte
	tip   plumbing.Hash
}

var (
	benchMu    sync.Mutex
	benchRepos = map[int]*benchRepo{}
)

// benchSetup builds, once per size, an in-memory repository holding n files
// under benchDir and a few outside it.
func benchSetup(b *testing.B, n int) *benchRepo {
	benchMu.Lock()
	defer benchMu.Unlock()
	if br, ok := benchRepos[n]; ok {
		return br
	}
	r, err := Auth{}.Open("file:///nonexistent")
	if err != nil {
		b.Fatal(err)
	}
	files := make(map[string][]byte, n)
	for i := range n {
		files[benchPath(i)] = benchContent(i, 0)
	}
	br := &benchRepo{r: r, files: files}
	br.tip = br.commit(b, Content{Files: files})
	benchRepos[n] = br
	return br
}

func (br *benchRepo) commit(b *testing.B, c Content) plumbing.Hash {
	p := plan{parent: br.tip}
	if !br.tip.IsZero() {
		pc, err := br.r.commit(br.tip)
		if err != nil {
			b.Fatal(err)
		}
		p.root = pc.TreeHash
	}
	t := Target{Branch: "main", Dir: benchDir, AuthorName: "bench", AuthorEmail: "bench@localhost"}
	h, _, _, err := br.r.build(p, t, c)
	if err != nil {
		b.Fatal(err)
	}
	if h.IsZero() {
		b.Fatal("no commit made")
	}
	br.tip = h
	return h
}

func BenchmarkCommitOneFile(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("files=%d/delta", n), func(b *testing.B) {
			br := benchSetup(b, n)
			version := 1
			for i := 0; b.Loop(); i++ {
				k := (i * 7919) % n
				p, c := benchPath(k), benchContent(k, version)
				version++
				br.files[p] = c
				br.commit(b, Content{Update: &Update{Changed: map[string][]byte{p: c}}})
			}
		})
		b.Run(fmt.Sprintf("files=%d/whole-map", n), func(b *testing.B) {
			br := benchSetup(b, n)
			// Warm the directory state, as the previous publish would have.
			br.files[benchPath(0)] = benchContent(0, 999_999)
			br.commit(b, Content{Files: br.files})
			version := 1_000_000
			for i := 0; b.Loop(); i++ {
				k := (i * 7919) % n
				br.files[benchPath(k)] = benchContent(k, version)
				version++
				br.commit(b, Content{Files: br.files})
			}
		})
		b.Run(fmt.Sprintf("files=%d/after-restart", n), func(b *testing.B) {
			br := benchSetup(b, n)
			version := 2_000_000
			for i := 0; b.Loop(); i++ {
				// A restarted process: no directory state, no decoded trees.
				br.r.states = map[string]*dirState{}
				br.r.tw = newTreeWriter(br.r.repo.Storer)
				k := (i * 7919) % n
				br.files[benchPath(k)] = benchContent(k, version)
				version++
				br.commit(b, Content{Files: br.files})
			}
		})
		b.Run(fmt.Sprintf("files=%d/git-cli", n), func(b *testing.B) {
			work := gitCLISetup(b, n)
			version := 1
			for i := 0; b.Loop(); i++ {
				k := (i * 7919) % n
				p := filepath.Join(benchDir, benchPath(k))
				if err := os.WriteFile(filepath.Join(work, p), benchContent(k, version), 0o644); err != nil {
					b.Fatal(err)
				}
				version++
				gitCLI(b, work, "add", p)
				gitCLI(b, work, "commit", "-q", "-m", "one file")
			}
		})
	}
}

var (
	cliMu    sync.Mutex
	cliRepos = map[int]string{}
)

// gitCLISetup makes, once per size, a worktree with the same n files committed.
func gitCLISetup(b *testing.B, n int) string {
	cliMu.Lock()
	defer cliMu.Unlock()
	if w, ok := cliRepos[n]; ok {
		return w
	}
	work, err := os.MkdirTemp("", "gitsync-bench-")
	if err != nil {
		b.Fatal(err)
	}
	gitCLI(b, work, "init", "-q", "-b", "main")
	for i := range n {
		p := filepath.Join(work, benchDir, benchPath(i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, benchContent(i, 0), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	gitCLI(b, work, "add", "-A")
	gitCLI(b, work, "commit", "-q", "-m", "seed")
	cliRepos[n] = work
	return work
}

func gitCLI(b *testing.B, dir string, args ...string) {
	cmd := exec.Command("git", append([]string{"-c", "gc.auto=0", "-c", "user.name=bench", "-c", "user.email=bench@localhost"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, w := range cliRepos {
		os.RemoveAll(w)
	}
	os.Exit(code)
}
