package gitsync

import (
	"context"
	"strings"
	"testing"
)

// A name Git refuses is refused before any round trip, not retried until
// the server says "funny refname".
func TestPublishRefusesNamesGitRefuses(t *testing.T) {
	r, err := Auth{}.Open("file:///nonexistent")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		target Target
		want   string
	}{
		{Target{Branch: "a..b", BaseBranch: "main", Dir: "d"}, "'..'"},
		{Target{Branch: "x.lock", BaseBranch: "main", Dir: "d"}, ".lock"},
		{Target{Branch: "refs/heads/main", BaseBranch: "main", Mode: ModeSide, Dir: "d"}, "refs/heads/"},
		{Target{Branch: "HEAD", BaseBranch: "main", Dir: "d"}, "special ref"},
		{Target{Branch: "-x", BaseBranch: "main", Dir: "d"}, "'-'"},
		{Target{Branch: "side", BaseBranch: "main", Dir: "x/.git"}, ".git"},
		{Target{Branch: "side", BaseBranch: "main", Dir: ".GIT/hooks"}, ".git"},
	} {
		_, err := r.Publish(context.Background(), tc.target, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Publish(%+v) = %v, want %q", tc.target, err, tc.want)
		}
		if err != nil && !isPermanent(err) {
			t.Errorf("Publish(%+v): %v would be retried", tc.target, err)
		}
	}
}

func TestCheckBranchNameAcceptsOrdinaryNames(t *testing.T) {
	for _, b := range []string{"main", "driftback/prod-eu1", "feature/a.b", "release-1.2", "a@b"} {
		if err := CheckBranchName(b); err != nil {
			t.Errorf("%q: %v", b, err)
		}
	}
	for _, d := range []string{"clusters/x/driftback", "a/.gitx", "a/git", "./a/b/"} {
		if _, err := CleanDir(d); err != nil {
			t.Errorf("%q: %v", d, err)
		}
	}
}
