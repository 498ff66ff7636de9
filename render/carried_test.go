package render_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/driftback/driftback/render"
)

func TestVerifyCarried(t *testing.T) {
	bucket := func(name, ns string) string {
		s := "apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: " + name + "\n"
		if ns != "" {
			s += "  namespace: " + ns + "\n"
		}
		return s
	}
	unmatched := bucket("db", "") + "  annotations:\n    crossplane.io/external-name: db-ext\n"
	for _, tc := range []struct {
		name, base string
		stale      bool
	}{
		{"the base lacks the object", bucket("other", ""), false},
		{"the base defines it now", bucket("other", "") + "---\n" + bucket("db", ""), true},
		{"another namespace's object of that name", bucket("db", "team-a"), false},
		{"another kind of that name", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := fstest.MapFS{
				"apps/kustomization.yaml": {Data: []byte("resources: [objects.yaml]\n")},
				"apps/objects.yaml":       {Data: []byte(tc.base)},
			}
			tree := render.Tree{
				"kustomization.yaml": []byte("resources: [../apps]\n"),
				"unmatched/_cluster/s3.aws.upbound.io_Bucket/7b/db.yaml": []byte(unmatched),
			}
			err := render.VerifyCarried(base, "overlay", tree)
			var stale *render.UnmatchedDefinedError
			if got := errors.As(err, &stale); got != tc.stale {
				t.Fatalf("err = %v, want stale %v", err, tc.stale)
			}
			if tc.stale && (len(stale.Files) != 1 || !strings.Contains(err.Error(), "unmatched/_cluster/s3.aws.upbound.io_Bucket/7b/db.yaml")) {
				t.Errorf("err = %v: want the unmatched file named", err)
			}
			if !tc.stale && err != nil {
				t.Fatal(err)
			}
			// A later overlay over this one is held to the same rule.
			base["later/.driftback.yaml"] = &fstest.MapFile{Data: []byte("cluster: c\n")}
			base["later/kustomization.yaml"] = &fstest.MapFile{Data: []byte("resources: [../overlay]\n")}
			base["later/unmatched/_cluster/s3.aws.upbound.io_Bucket/7b/db.yaml"] = &fstest.MapFile{Data: []byte(unmatched)}
			delete(tree, "unmatched/_cluster/s3.aws.upbound.io_Bucket/7b/db.yaml")
			err = render.VerifyDownstream(base, "overlay", tree, []string{"later"})
			var down *render.DownstreamError
			if got := errors.As(err, &down) && errors.As(err, &stale); got != tc.stale {
				t.Fatalf("downstream: err = %v, want stale %v", err, tc.stale)
			}
			if tc.stale && down.Dir != "later" {
				t.Errorf("downstream error names %s, want later", down.Dir)
			}
		})
	}
}
