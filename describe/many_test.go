package describe

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"text/template"
)

// manyChanges is a generated commit of n files mixing everything a report
// counts or shows: external names, ARNs, volume bindings, load-balancer
// addresses, plain patches and unmatched ones, statuses, whole objects with
// their origin, deletions of each, Secrets, files that are not YAML,
// merged/ files and the overlay's own files among and after the objects.
func manyChanges(n int) []FileChange {
	rng := rand.New(rand.NewPCG(15, 2))
	out := []FileChange{{Path: "kustomization.yaml", Op: "modify", Old: []byte("resources: []\n"), New: []byte("resources: [a]\n")}}
	for i := 0; len(out) < n; i++ {
		name := fmt.Sprintf("o%05d", i)
		ns := []string{"_cluster", "team-a", "team-b"}[i%3]
		at := func(dir, gk string) string { return dir + "/" + ns + "/" + gk + "/" + name + ".yaml" }
		var c FileChange
		switch k := rng.IntN(16); k {
		case 0, 1:
			c = FileChange{Path: at("patches", "s3.aws.upbound.io_Bucket"), Op: "add", New: []byte(strings.ReplaceAll(bucketPatch, "%s", name))}
		case 2:
			c = FileChange{Path: at("patches", "s3.aws.upbound.io_Bucket"), Op: "modify",
				Old: []byte(strings.ReplaceAll(bucketPatch, "%s", name+"-old")), New: []byte(strings.ReplaceAll(bucketPatch, "%s", name))}
		case 3:
			c = FileChange{Path: at("unmatched", "s3.services.k8s.aws_Bucket"), Op: "add",
				New: []byte("kind: Bucket\nstatus:\n  ackResourceMetadata:\n    arn: arn:aws:s3:::" + name + "\n")}
		case 4:
			c = FileChange{Path: at("patches", "v1_PersistentVolumeClaim"), Op: "modify",
				Old: []byte("kind: PersistentVolumeClaim\nspec:\n  volumeName: \"\"\n"), New: []byte("kind: PersistentVolumeClaim\nspec:\n  volumeName: pvc-" + name + "\n")}
		case 5:
			c = FileChange{Path: at("patches", "v1_Service"), Op: "add",
				New: []byte("kind: Service\nstatus:\n  loadBalancer:\n    ingress:\n    - hostname: " + name + ".elb.amazonaws.com\n")}
		case 6:
			c = FileChange{Path: at("patches", "apps_Deployment"), Op: "modify",
				Old: []byte(fmt.Sprintf("kind: Deployment\nspec:\n  replicas: %d\n", i%5)), New: []byte(fmt.Sprintf("kind: Deployment\nspec:\n  replicas: %d\n", i%5+1))}
		case 7, 8:
			c = FileChange{Path: at("status", "example.com_Cluster"), Op: "add",
				New: []byte("kind: Cluster\nstatus:\n  atProvider:\n    arn: arn:aws:eks:::" + name + "\n    token: t-" + name + "\n")}
		case 9:
			c = FileChange{Path: at("status", "example.com_Cluster"), Op: "modify",
				Old: []byte("kind: Cluster\nstatus:\n  phase: Pending\n"), New: []byte("kind: Cluster\nstatus:\n  phase: Ready\n  endpoint: https://" + name + "\n")}
		case 10:
			c = FileChange{Path: at("resources", "rds.aws.upbound.io_Instance"), Op: "add", New: []byte(`kind: Instance
metadata:
  annotations:
    crossplane.io/composition-resource-name: db
  labels:
    crossplane.io/claim-name: claim-` + name + `
    crossplane.io/claim-namespace: shop
    crossplane.io/composite: xr-` + name + `
  name: ` + name + `
spec:
  forProvider:
    region: eu-west-1
`)}
		case 11:
			dir := []string{"patches", "status", "resources", "unmatched"}[rng.IntN(4)]
			c = FileChange{Path: at(dir, "apps_Deployment"), Op: "delete", Old: []byte("kind: Deployment\nspec:\n  replicas: 2\n")}
		case 12:
			c = FileChange{Path: at("resources", "v1_Secret"), Op: "modify",
				Old: []byte("kind: Secret\ndata:\n  password: b2xk\n"), New: []byte("kind: Secret\ndata:\n  password: bmV3\n")}
		case 13:
			c = FileChange{Path: at("patches", "example.com_Widget"), Op: "modify", Old: []byte("a: [\n"), New: []byte("kind: Widget\nspec:\n  size: 2\n")}
		case 14:
			c = FileChange{Path: at("merged", "s3.aws.upbound.io_Bucket"), Op: "add", New: []byte("kind: Bucket\n")}
		case 15:
			// The overlay's own files: a few, anywhere in the list.
			if rng.IntN(40) == 0 {
				c = FileChange{Path: fmt.Sprintf("shard-%d/kustomization.yaml", i), Op: "add", New: []byte("resources: []\n")}
			} else {
				c = FileChange{Path: at("resources", "v1_ConfigMap"), Op: "add", New: []byte("kind: ConfigMap\ndata:\n  k: " + name + "\n")}
			}
		}
		out = append(out, c)
	}
	return append(out, FileChange{Path: ".driftback.yaml", Op: "modify", Old: []byte("cluster: a\n"), New: []byte("cluster: b\n")})
}

// manyReport is what a reviewer reads of a report: subject, counts,
// body, the default commit message and the Markdown summary.
func manyReport(r Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## subject\n%s\n## counts\n", r.Subject)
	for _, c := range r.Counts {
		fmt.Fprintf(&b, "%s %s %d\n", c.Verb, c.What, c.Number)
	}
	fmt.Fprintf(&b, "## body\n%s## summary\n%s", r.Body, r.Markdown())
	return b.String()
}

// TestManyFilesGolden: a commit of 5,000 files is described as
// testdata/many.golden.txt holds, recorded from the implementation that
// kept one Object per file (commit 1fd25b2): the subject counts every
// object, the body and the summary show the same objects.
func TestManyFilesGolden(t *testing.T) {
	changes := manyChanges(5000)
	got := manyReport(Describe("prod-eu1", changes))
	compareGolden(t, "testdata/many.golden.txt", got)
}

// firstDiff shows where two texts part.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got  %q\n want %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("got %d lines, want %d", len(g), len(w))
}

// TestCommitShowsWhatDescribeShows: Commit's report, which keeps only the
// objects it shows, reads as Describe's does (the golden file at 5,000
// files) for commits below, at and past the caps, with and without
// merged/ files.
func TestCommitShowsWhatDescribeShows(t *testing.T) {
	golden, err := os.ReadFile("testdata/many.golden.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 3, 101, 499, 500, 501, 502, 600, 5000} {
		for _, merged := range []bool{true, false} {
			t.Run(fmt.Sprintf("files=%d/merged=%v", n, merged), func(t *testing.T) {
				changes := manyChanges(n)
				if n == 0 {
					changes = nil
				}
				if !merged {
					changes = slices.DeleteFunc(changes, func(c FileChange) bool { return strings.HasPrefix(c.Path, "merged/") })
				}
				full := Describe("prod-eu1", changes)
				got := Commit("prod-eu1", len(changes), func(i int) FileChange { return changes[i] })
				want := manyReport(full)
				if n == 5000 && merged {
					want = string(golden)
				}
				if s := manyReport(got); s != want {
					t.Errorf("Commit's report differs from Describe's:\n%s", firstDiff(s, want))
				}
				shown := 0
				for _, o := range got.Objects {
					if o.Category != "" {
						shown++
						if !o.Described {
							t.Errorf("%s kept but not described", o.File)
						}
					}
				}
				if shown > SummaryRows {
					t.Errorf("Commit's report keeps %d objects, want at most %d", shown, SummaryRows)
				}
			})
		}
	}
}

func TestReadsObjects(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"", false},
		{"[{{.Cluster}}] {{.Subject}}\n\n{{.Body}}", false},
		{"{{.Subject}}{{range .Counts}} #{{.What}}={{.Number}}{{end}}{{if .Body}}{{.Body}}{{else}}-{{end}}", false},
		{"{{with $s := .Subject}}{{$s}}{{end}}{{.Markdown}}", false},
		{"{{range .Objects}}{{.Kind}} {{.Name}}{{end}}", true},
		{"{{len .Objects}}", true},
		{"{{$.Objects}}", true},
		{"{{range .Counts}}{{$.Objects}}{{end}}", true},
		{"{{$r := .}}{{$r.Subject}}", true},
		{"{{printf \"%v\" .}}", true},
		{"{{define \"x\"}}{{.Objects}}{{end}}{{.Subject}}", true},
		{"{{template \"x\" .}}{{define \"x\"}}{{.Subject}}{{end}}", true},
		{"{{(.).Objects}}", true},
	}
	for _, tc := range tests {
		tmpl, err := template.New("message").Parse(tc.text)
		if err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		if got := ReadsObjects(tmpl); got != tc.want {
			t.Errorf("ReadsObjects(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}
