package writeback_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/driftback/driftback/writeback"
)

// keyedFS names its content outside a directory as gitsync's parent does
// (gitsync.treeFS.OutsideKey), from the files themselves.
type keyedFS struct{ fstest.MapFS }

func (k keyedFS) OutsideKey(d string) (string, bool) {
	d = path.Clean(d)
	var names []string
	for p := range k.MapFS {
		if !strings.HasPrefix(p, d+"/") {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	h := sha256.New()
	for _, p := range names {
		fmt.Fprintf(h, "%s\x00%x\x00", p, sha256.Sum256(k.MapFS[p].Data))
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

func bucketsBase(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "---\napiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: %s\nspec:\n  forProvider:\n    region: eu-west-1\n", n)
	}
	return b.String()
}

// The base is indexed with krusty once, and again only when the repository
// outside the overlay's directory changes; what is committed is what a
// fresh index gives (a bucket added to the base is patched, not unmatched).
func TestBaseIndexedOnlyWhenTheBaseChanges(t *testing.T) {
	for _, keyed := range []bool{true, false} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			cfg := testConfig()
			cfg.Overlay.Resources = []string{"../../../apps"}
			repo := &fakeRepo{keyed: keyed, branch: fstest.MapFS{
				"apps/kustomization.yaml": {Data: []byte("resources:\n- buckets.yaml\n")},
				"apps/buckets.yaml":       {Data: []byte(bucketsBase("b00"))},
			}}
			w := writeback.New(cfg, repo, "uid-a", writeback.Options{MaxDeleteShare: 1})
			caps := statusCaps(2)
			for _, c := range caps {
				c.Object["metadata"].(map[string]any)["annotations"] = map[string]any{"crossplane.io/external-name": c.Ref.Name + "-ext"}
			}
			for i := 0; i < 3; i++ {
				caps[0].Status["atProvider"].(map[string]any)["arn"] = fmt.Sprintf("arn:%d", i)
				if _, err := w.Publish(t.Context(), caps); err != nil {
					t.Fatalf("publish %d: %v", i, err)
				}
			}
			want := 1
			if !keyed {
				want = 3 // a parent that cannot name its content: every time
			}
			if got := w.BaseBuilds(); got != want {
				t.Fatalf("base indexed %d times for 3 publishes of an unchanged base, want %d", got, want)
			}
			if !hasFile(repo.branch, "/patches/") || !hasFile(repo.branch, "/unmatched/") {
				t.Fatalf("want b00 patched and b01 unmatched (not in the base): %v", keysOf(repo.branch))
			}
			// The base gains b01: indexed again, and b01 is patched now.
			repo.branch["apps/buckets.yaml"] = &fstest.MapFile{Data: []byte(bucketsBase("b00", "b01"))}
			caps[1].Status["atProvider"].(map[string]any)["arn"] = "arn:new"
			if _, err := w.Publish(t.Context(), caps); err != nil {
				t.Fatal(err)
			}
			if got := w.BaseBuilds(); got != want+1 {
				t.Fatalf("base indexed %d times after it changed, want %d", got, want+1)
			}
			if hasFile(repo.branch, "/unmatched/") {
				t.Fatalf("b01 is still unmatched after the base gained it: %v", keysOf(repo.branch))
			}
		})
	}
}

func hasFile(fsys fstest.MapFS, part string) bool {
	for p := range fsys {
		if strings.Contains(p, part) {
			return true
		}
	}
	return false
}

func keysOf(fsys fstest.MapFS) []string {
	var out []string
	for p := range fsys {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
