package writeback_test

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
	"time"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/writeback"
)

// BenchmarkRecentPeak is the deletion window's cost at each publish: the
// walk over the branch's recent commits (1 000 commits, each changing one
// of 100 objects), with every directory tree counted afresh (cold: after a
// restart) and with the writer's memo (warm: every later publish).
func BenchmarkRecentPeak(b *testing.B) {
	repo, _ := bareRepoB(b)
	tg := writeback.Target(testConfig())
	files := map[string][]byte{}
	for i := range 100 {
		files[fmt.Sprintf("status/_cluster/s3.aws.upbound.io_Bucket/b%03d.yaml", i)] = []byte("arn: 0\n")
	}
	for c := range 1000 {
		p := fmt.Sprintf("status/_cluster/s3.aws.upbound.io_Bucket/b%03d.yaml", c%100)
		up := &gitsync.Update{Changed: map[string][]byte{p: []byte(fmt.Sprintf("arn: %d\n", c+1))}}
		content := gitsync.Content{Update: up}
		if c == 0 {
			content = gitsync.Content{Files: files}
		}
		if _, err := repo.Publish(b.Context(), tg, func(fs.FS) (gitsync.Content, error) { return content, nil }); err != nil {
			b.Fatal(err)
		}
	}
	var h gitsync.History
	stop := errors.New("only the parent")
	if _, err := repo.Publish(b.Context(), tg, func(parent fs.FS) (gitsync.Content, error) {
		h, _ = parent.(gitsync.History)
		return gitsync.Content{}, stop
	}); !errors.Is(err, stop) || h == nil {
		b.Fatalf("no history: %v", err)
	}
	since := time.Now().Add(-24 * time.Hour)
	check := func(b *testing.B, p writeback.Peak, err error) {
		if err != nil || p.Objects != 100 {
			b.Fatalf("peak %+v, %v; want 100 objects", p, err)
		}
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			p, err := writeback.RecentPeak(h, dir, since, map[gitsync.Hash]int{})
			check(b, p, err)
		}
	})
	b.Run("warm", func(b *testing.B) {
		memo := map[gitsync.Hash]int{}
		for b.Loop() {
			p, err := writeback.RecentPeak(h, dir, since, memo)
			check(b, p, err)
		}
	})
}
