package writeback_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/writeback"
)

// BenchmarkRecentPeak is the deletion window's cost at each publish: the
// walk over the branch's recent commits (1 000 commits, each changing one
// of 100 objects), after a restart (cold: an empty memo), with each
// directory tree counted (counted: commits of a driftback before
// TrailerObjects) or its count read from the commit's trailer, and with the
// writer's memo of its last walk (warm: every later publish, here with no
// new commit: the tip is read and matched).
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
		content.Trailers = [][2]string{{writeback.TrailerObjects, "100"}}
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
	b.Run("cold/counted", func(b *testing.B) {
		for b.Loop() {
			p, err := writeback.RecentPeak(withoutCounts{h}, dir, since, writeback.NewWindowMemo())
			check(b, p, err)
		}
	})
	b.Run("cold/trailers", func(b *testing.B) {
		for b.Loop() {
			p, err := writeback.RecentPeak(h, dir, since, writeback.NewWindowMemo())
			check(b, p, err)
		}
	})
	b.Run("warm", func(b *testing.B) {
		memo := writeback.NewWindowMemo()
		for b.Loop() {
			p, err := writeback.RecentPeak(h, dir, since, memo)
			check(b, p, err)
		}
	})
}

// withoutCounts is a history as a driftback before TrailerObjects wrote
// it: the trailer is cut from every message.
type withoutCounts struct{ gitsync.History }

func (w withoutCounts) Recent(dir string, since time.Time, fn func(gitsync.Recorded, func() ([]string, error)) error) error {
	return w.History.Recent(dir, since, func(c gitsync.Recorded, files func() ([]string, error)) error {
		c.Message = strings.ReplaceAll(c.Message, writeback.TrailerObjects+": ", "Was-Objects: ")
		return fn(c, files)
	})
}
