package writeback_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/driftback/driftback/describe"
	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/heapstat"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/writeback"
)

// BenchmarkCommitReport is the report behind the commit message of the
// status rules' first commit at 50,000 objects: 100,000 files, a patch
// (external name) and a status file per object, and the overlay's own
// files. report-MB is what the report holds (live heap with it, after a
// full collection, above the live heap without it), peak-heap-MB the most
// the heap grew while it was built (live and garbage, sampled every
// millisecond), B/op what it allocated.
func BenchmarkCommitReport(b *testing.B) {
	const objects = 50000
	changes := make([]gitsync.Change, 0, 2*objects+2)
	changes = append(changes, gitsync.Change{Path: "kustomization.yaml", Op: gitsync.Added, New: []byte("resources: []\n")})
	for i := range objects {
		name := fmt.Sprintf("b%06d", i)
		changes = append(changes,
			gitsync.Change{Path: "patches/_cluster/s3.aws.upbound.io_Bucket/" + overlay.Bucket(name) + "/" + name + ".yaml", Op: gitsync.Added,
				New: []byte("apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  annotations:\n    crossplane.io/external-name: " + name + "\n  name: " + name + "\n")},
			gitsync.Change{Path: "status/_cluster/s3.aws.upbound.io_Bucket/" + overlay.Bucket(name) + "/" + name + ".yaml", Op: gitsync.Added,
				New: []byte("apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: " + name + "\nstatus:\n  atProvider:\n    arn: arn:aws:s3:::" + name + "\n")})
	}
	changes = append(changes, gitsync.Change{Path: ".driftback.yaml", Op: gitsync.Added, New: []byte("cluster: c1\n")})
	b.ReportAllocs()
	var held, peak float64
	for b.Loop() {
		before := heapstat.Live()
		stop := heapstat.Peak()
		r := writeback.CommitReport("c1", changes)
		peak = max(peak, stop()-before)
		held = max(held, heapstat.Live()-before)
		if r.Subject != "capture 50000 external names, 50000 statuses in c1" {
			b.Fatalf("subject = %q", r.Subject)
		}
		runtime.KeepAlive(r)
	}
	b.ReportMetric(held/1e6, "report-MB")
	b.ReportMetric(peak/1e6, "peak-heap-MB")
}

// TestCommitMessageOfManyFiles: the commit message of a large commit reads
// the same whether its report keeps every object (describe.Describe) or
// only those it shows (describe.Commit, taken when the template does not
// read .Objects), with the default template and with custom ones.
func TestCommitMessageOfManyFiles(t *testing.T) {
	var changes []gitsync.Change
	for i := range 3000 {
		name := fmt.Sprintf("b%05d", i)
		switch i % 5 {
		case 0, 1:
			changes = append(changes, gitsync.Change{Path: "patches/ns/s3.aws.upbound.io_Bucket/" + overlay.Bucket(name) + "/" + name + ".yaml", Op: gitsync.Added,
				New: []byte("kind: Bucket\nmetadata:\n  annotations:\n    crossplane.io/external-name: " + name + "\n  name: " + name + "\n")})
		case 2:
			changes = append(changes, gitsync.Change{Path: "status/ns/s3.aws.upbound.io_Bucket/" + overlay.Bucket(name) + "/" + name + ".yaml", Op: gitsync.Modified,
				Old: []byte("status:\n  phase: a\n"), New: []byte("status:\n  phase: b\n")})
		case 3:
			changes = append(changes, gitsync.Change{Path: "patches/ns/apps_Deployment/" + overlay.Bucket(name) + "/" + name + ".yaml", Op: gitsync.Deleted, Old: []byte("spec:\n  replicas: 1\n")})
		case 4:
			changes = append(changes, gitsync.Change{Path: "merged/ns/s3.aws.upbound.io_Bucket/" + overlay.Bucket(name) + "/" + name + ".yaml", Op: gitsync.Added, New: []byte("kind: Bucket\n")})
		}
	}
	changes = append(changes, gitsync.Change{Path: "kustomization.yaml", Op: gitsync.Modified, Old: []byte("resources: []\n"), New: []byte("resources: [a]\n")})
	for _, text := range []string{
		"",
		"[{{.Cluster}}] {{.Subject}}{{range .Counts}} #{{.What}}{{end}}\n\n{{.Body}}\n{{.Markdown}}",
		"{{.Subject}}\n{{range .Objects}}{{.Kind}} {{.Name}} {{.What}}\n{{end}}",
	} {
		tmpl, err := describe.Template(text)
		if err != nil {
			t.Fatal(err)
		}
		want, err := describe.Message(tmpl, writeback.Describe("c1", changes))
		if err != nil {
			t.Fatal(err)
		}
		if got := writeback.CommitMessage(tmpl, "c1", changes); got != want {
			t.Errorf("template %q: the message differs from the one of a report of every object:\n%.2000s\nwant\n%.2000s", text, got, want)
		}
	}
	if r := writeback.CommitReport("c1", changes); len(r.Objects) > describe.SummaryRows+2 {
		t.Errorf("the default message's report keeps %d objects, want at most %d (and kustomization.yaml, merged/)", len(r.Objects), describe.SummaryRows+2)
	}
}
