package describe

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// compareGolden fails when got differs from the golden file (with -update:
// rewrites it first, to be reviewed in the diff).
func compareGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./describe -run Golden -update)", err)
	}
	if got != string(want) {
		t.Errorf("differs from %s (go test ./describe -run Golden -update, then review the diff):\n%s", golden, firstDiff(got, string(want)))
	}
}

// prChanges is what a side branch adds to its base in a small Crossplane and
// storage cluster: external names, a status, objects made at run time, a
// Secret-like status field and a dropped object.
func prChanges() []FileChange {
	return []FileChange{
		{Path: ".driftback.yaml", Op: "add", New: []byte("apiVersion: driftback.dev/v1alpha1\nkind: Overlay\nformatVersion: 1\ncluster: prod-eu1\nclusterUID: 6f1c0d2e\n")},
		{Path: "kustomization.yaml", Op: "modify", Old: []byte("resources: []\n"), New: []byte("resources: [a]\n")},
		{Path: "patches/_cluster/s3.aws.upbound.io_Bucket/98/logs.yaml", Op: "add", New: []byte(strings.ReplaceAll(bucketPatch, "%s", "logs-7f3a"))},
		{Path: "patches/_cluster/s3.aws.upbound.io_Bucket/3a/data.yaml", Op: "modify",
			Old: []byte(strings.ReplaceAll(bucketPatch, "%s", "data-1")), New: []byte(strings.ReplaceAll(bucketPatch, "%s", "data-2"))},
		{Path: "patches/shop/v1_Service/4b/web.yaml", Op: "delete", Old: []byte("kind: Service\nstatus:\n  loadBalancer: {}\n")},
		{Path: "resources/_cluster/rds.aws.upbound.io_Instance/80/orders-x7k2p.yaml", Op: "add", New: []byte(`apiVersion: rds.aws.upbound.io/v1beta1
kind: Instance
metadata:
  annotations:
    crossplane.io/composition-resource-name: db
    crossplane.io/external-name: orders-x7k2p
  labels:
    crossplane.io/claim-name: orders
    crossplane.io/claim-namespace: shop
    crossplane.io/composite: orders-x7k2p
  name: orders-x7k2p
spec:
  forProvider:
    region: eu-west-1
`)},
		{Path: "resources/_cluster/v1_PersistentVolume/79/pvc-0a1b.yaml", Op: "add", New: []byte(`apiVersion: v1
kind: PersistentVolume
metadata:
  annotations:
    pv.kubernetes.io/provisioned-by: ebs.csi.aws.com
  name: pvc-0a1b
spec:
  claimRef:
    name: data-db-0
    namespace: shop
  csi:
    volumeHandle: vol-0123456789abcdef0
`)},
		{Path: "status/shop/example.com_Database/1c/orders.yaml", Op: "modify",
			Old: []byte("kind: Database\nstatus:\n  adminPassword: hunter1\n  endpoint: orders.a.eu-west-1.rds.amazonaws.com\n"),
			New: []byte("kind: Database\nstatus:\n  adminPassword: hunter2\n  endpoint: orders.b.eu-west-1.rds.amazonaws.com\n")},
	}
}

func prInfo() PullRequestInfo {
	return PullRequestInfo{Cluster: "prod-eu1", ClusterUID: "6f1c0d2e-3b4a-4c5d-9e8f-0a1b2c3d4e5f", Dir: "clusters/prod-eu1/driftback", Head: "driftback/prod-eu1", Base: "main"}
}

func TestPullRequestBodyGolden(t *testing.T) {
	r := Describe("prod-eu1", prChanges())
	got := "<!-- title: " + r.PullRequestTitle() + " -->\n" + r.PullRequestBody(prInfo())
	compareGolden(t, "testdata/pullrequest.golden.md", got)
	for _, secret := range []string{"hunter1", "hunter2"} {
		if strings.Contains(got, secret) {
			t.Errorf("the body shows the Secret-like value %q", secret)
		}
	}
	for _, want := range []string{
		"composed by composite `orders-x7k2p`; for claim `shop/orders`", // runtime-only objects and where from
		"bound to claim `shop/data-db-0`; provisioned by `ebs.csi.aws.com`",
		"### ⚠️ Deletions", "Service `web` in `shop`",
		"kube-system UID `6f1c0d2e-3b4a-4c5d-9e8f-0a1b2c3d4e5f`",
		"| `status.adminPassword` | `(hidden)` | `(hidden)` |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("body lacks %q", want)
		}
	}
	if !strings.HasSuffix(got, PullRequestMarker("prod-eu1", "clusters/prod-eu1/driftback")+"\n") {
		t.Error("the marker must end the body")
	}
}

func TestPullRequestBodyBounded(t *testing.T) {
	for _, tc := range []struct {
		objects, limit int
		cut, folded    bool
	}{
		{objects: 5, limit: GitHubBodyLimit},
		{objects: 60, limit: GitHubBodyLimit, folded: true},
		{objects: 5000, limit: GitHubBodyLimit, cut: true, folded: true},
		{objects: 5000, limit: 4000, cut: true},
	} {
		t.Run(fmt.Sprintf("%d objects in %d", tc.objects, tc.limit), func(t *testing.T) {
			var changes []FileChange
			for i := range tc.objects {
				name := fmt.Sprintf("bucket-%05d", i)
				changes = append(changes, FileChange{Path: "patches/_cluster/s3.aws.upbound.io_Bucket/" + name + ".yaml", Op: "add",
					New: []byte(strings.ReplaceAll(bucketPatch, "%s", name+"-external"))})
			}
			info := prInfo()
			info.Limit = tc.limit
			body := Describe("prod-eu1", changes).PullRequestBody(info)
			if len([]rune(body)) > tc.limit {
				t.Fatalf("body has %d characters, limit %d", len([]rune(body)), tc.limit)
			}
			if got := strings.Contains(body, "Cut to fit the host's size limit"); got != tc.cut {
				t.Errorf("cut note = %v, want %v", got, tc.cut)
			}
			if got := strings.Contains(body, "<details>"); got != tc.folded {
				t.Errorf("folded = %v, want %v", got, tc.folded)
			}
			if tc.cut {
				shown := strings.Count(body, "#### ")
				if !strings.Contains(body, fmt.Sprintf("%d of %d objects not listed", tc.objects-shown, tc.objects)) {
					t.Errorf("the cut note does not count the %d objects left out", tc.objects-shown)
				}
			}
			if !strings.HasSuffix(body, PullRequestMarker("prod-eu1", "clusters/prod-eu1/driftback")+"\n") {
				t.Error("the marker must survive the cut")
			}
		})
	}
}

// TestREADMEShowsGoldenBody keeps the README's example pull request body
// the one this package writes (a reviewer's view, never written by hand).
func TestREADMEShowsGoldenBody(t *testing.T) {
	const begin, end = "<!-- pull-request-example:begin -->\n````markdown\n", "````\n<!-- pull-request-example:end -->"
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile("testdata/pullrequest.golden.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the block %q … %q", begin, end)
	}
	if *update {
		s = s[:i+len(begin)] + string(golden) + s[j:]
		if err := os.WriteFile("../README.md", []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := s[i+len(begin) : j]; got != string(golden) {
		t.Errorf("README.md's example pull request body differs from %s: run go test ./describe -run Golden -update", "testdata/pullrequest.golden.md")
	}
}
