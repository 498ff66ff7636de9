package writeback

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/driftback/driftback/config"
)

// TestWarnUnmatchedWhenItChanges: the unmatched/ warning comes when the
// number of such objects changes, not again on every publish.
func TestWarnUnmatchedWhenItChanges(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	w := New(&config.Config{}, nil, "uid", Options{})
	for _, n := range []int{3, 3, 3, 5, 0, 0, 2, 2} {
		w.warnUnmatched(n)
	}
	var got []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Contains(l, "kept under unmatched/") {
			i := strings.Index(l, "objects=")
			got = append(got, strings.Fields(l[i:])[0])
		}
	}
	if want := []string{"objects=3", "objects=5", "objects=2"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("warnings %v, want %v (one each time the number changes to a non-zero one)", got, want)
	}
}
