package describe

import (
	"fmt"
	"strings"
	"testing"
)

const bucketPatch = `apiVersion: s3.aws.upbound.io/v1beta1
kind: Bucket
metadata:
  annotations:
    crossplane.io/external-name: %s
  name: logs
`

func TestDescribe(t *testing.T) {
	tests := []struct {
		name        string
		changes     []FileChange
		subject     string
		bodyHas     []string
		bodyLacks   []string
		markdownHas []string
	}{
		{
			name: "external names and a status",
			changes: []FileChange{
				{Path: "patches/_cluster/s3.aws.upbound.io_Bucket/logs.yaml", Op: "add", New: []byte(strings.ReplaceAll(bucketPatch, "%s", "logs-1"))},
				{Path: "patches/_cluster/s3.aws.upbound.io_Bucket/data.yaml", Op: "modify",
					Old: []byte(strings.ReplaceAll(bucketPatch, "%s", "data-1")), New: []byte(strings.ReplaceAll(bucketPatch, "%s", "data-2"))},
				{Path: "status/ns1/example.com_Cluster/c.yaml", Op: "modify",
					Old: []byte("kind: Cluster\nstatus:\n  apiServerURL: https://a\n"), New: []byte("kind: Cluster\nstatus:\n  apiServerURL: https://b\n")},
				{Path: "kustomization.yaml", Op: "modify", Old: []byte("resources: []\n"), New: []byte("resources: [a]\n")},
			},
			subject: "capture 2 external names, 1 status in prod-eu1",
			bodyHas: []string{
				`~ patches/_cluster/s3.aws.upbound.io_Bucket/data.yaml`,
				`metadata.annotations["crossplane.io/external-name"]: data-1 → data-2`,
				`metadata.annotations["crossplane.io/external-name"]: (none) → logs-1`,
				`status.apiServerURL: https://a → https://b`,
				"~ kustomization.yaml\n",
			},
			bodyLacks:   []string{"metadata.name", "apiVersion", "resources[0]"},
			markdownHas: []string{"| Cluster `c` in `ns1` | status | `status.apiServerURL` | `https://a` | `https://b` |"},
		},
		{
			// The first commit after the layout gained bucket directories
			// (overlay.Bucket) moves every file: a move is not a drop and a
			// capture, and a moved file whose content changed is described.
			name: "files moved into buckets",
			changes: []FileChange{
				{Path: "patches/_cluster/s3.aws.upbound.io_Bucket/data.yaml", Op: "delete", Old: []byte(strings.ReplaceAll(bucketPatch, "%s", "data-1"))},
				{Path: "patches/_cluster/s3.aws.upbound.io_Bucket/3a/data.yaml", Op: "add", New: []byte(strings.ReplaceAll(bucketPatch, "%s", "data-2"))},
				{Path: "status/ns1/example.com_Cluster/2e/c.yaml", Op: "add", New: []byte("kind: Cluster\nstatus:\n  x: 1\n")},
				{Path: "status/ns1/example.com_Cluster/c.yaml", Op: "delete", Old: []byte("kind: Cluster\nstatus:\n  x: 1\n")},
				{Path: "kustomization.yaml", Op: "modify", Old: []byte("patches: [a]\n"), New: []byte("patches: [b]\n")},
			},
			subject:   "capture 1 external name in c1",
			bodyHas:   []string{"~ patches/_cluster/s3.aws.upbound.io_Bucket/3a/data.yaml", "data-1 → data-2", "(1 file moved into bucket directories, content unchanged)"},
			bodyLacks: []string{"drop", "example.com_Cluster"},
		},
		{
			name: "only moves",
			changes: []FileChange{
				{Path: "status/ns1/example.com_Cluster/c.yaml", Op: "delete", Old: []byte("kind: Cluster\n")},
				{Path: "status/ns1/example.com_Cluster/2e/c.yaml", Op: "add", New: []byte("kind: Cluster\n")},
				{Path: "patches/ns1/example.com_Cluster/c.yaml", Op: "delete", Old: []byte("kind: Cluster\n")},
				{Path: "patches/ns1/example.com_Cluster/2e/c.yaml", Op: "add", New: []byte("kind: Cluster\n")},
				// Another object's file is not a move of this one's.
				{Path: "status/ns1/example.com_Cluster/98/logs.yaml", Op: "add", New: []byte("kind: Cluster\n")},
				{Path: "status/ns1/example.com_Cluster/data.yaml", Op: "delete", Old: []byte("kind: Cluster\n")},
			},
			subject: "capture 1 status, drop 1 object in c1",
			bodyHas: []string{"(2 files moved into bucket directories, content unchanged)", "+ status/ns1/example.com_Cluster/98/logs.yaml", "- status/ns1/example.com_Cluster/data.yaml"},
		},
		{
			name: "a commit of moves only",
			changes: []FileChange{
				{Path: "status/ns1/example.com_Cluster/c.yaml", Op: "delete", Old: []byte("kind: Cluster\n")},
				{Path: "status/ns1/example.com_Cluster/2e/c.yaml", Op: "add", New: []byte("kind: Cluster\n")},
			},
			subject: "move 1 overlay file into bucket directories in c1",
			bodyHas: []string{"(1 file moved into bucket directories, content unchanged)"},
		},
		{
			name: "drops and a whole object",
			changes: []FileChange{
				{Path: "resources/ns1/v1_PersistentVolume/pv1.yaml", Op: "add", New: []byte("kind: PersistentVolume\nspec:\n  capacity:\n    storage: 1Gi\n")},
				{Path: "patches/ns1/apps_Deployment/a.yaml", Op: "delete", Old: []byte("kind: Deployment\nspec:\n  replicas: 2\n")},
				{Path: "status/ns1/apps_Deployment/a.yaml", Op: "delete", Old: []byte("kind: Deployment\nstatus:\n  x: 1\n")},
			},
			subject:     "capture 1 object, drop 2 objects in c1",
			bodyHas:     []string{"- patches/ns1/apps_Deployment/a.yaml", "spec.capacity.storage: (none) → 1Gi"},
			bodyLacks:   []string{"replicas"},
			markdownHas: []string{"| Deployment `a` in `ns1` | patch | *dropped* | | |"},
		},
		{
			name: "secret values never shown",
			changes: []FileChange{
				{Path: "resources/ns1/v1_Secret/s.yaml", Op: "modify", Old: []byte("kind: Secret\ndata:\n  password: b2xk\n"), New: []byte("kind: Secret\ndata:\n  password: bmV3\n")},
				{Path: "status/ns1/example.com_DB/d.yaml", Op: "modify",
					Old: []byte("status:\n  adminPassword: hunter1\n  host: a\n"), New: []byte("status:\n  adminPassword: hunter2\n  host: b\n")},
			},
			subject:     "capture 1 object, 1 status in c1",
			bodyHas:     []string{"data.password: (hidden) → (hidden)", "status.adminPassword: (hidden) → (hidden)", "status.host: a → b"},
			bodyLacks:   []string{"b2xk", "bmV3", "hunter"},
			markdownHas: []string{"`(hidden)`"},
		},
		{
			name:    "no change: following the base",
			subject: "follow the base branch in c1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cluster := "c1"
			if strings.Contains(tc.subject, "prod-eu1") {
				cluster = "prod-eu1"
			}
			r := Describe(cluster, tc.changes)
			if r.Subject != tc.subject {
				t.Errorf("subject = %q, want %q", r.Subject, tc.subject)
			}
			md := r.Markdown()
			for _, s := range tc.bodyHas {
				if !strings.Contains(r.Body, s) {
					t.Errorf("body lacks %q:\n%s", s, r.Body)
				}
			}
			for _, s := range tc.bodyLacks {
				if strings.Contains(r.Body, s) || strings.Contains(md, s) {
					t.Errorf("body or summary shows %q:\n%s\n%s", s, r.Body, md)
				}
			}
			for _, s := range tc.markdownHas {
				if !strings.Contains(md, s) {
					t.Errorf("summary lacks %q:\n%s", s, md)
				}
			}
		})
	}
}

func TestTemplate(t *testing.T) {
	tests := []struct {
		name, text, want, wantErr string
	}{
		{name: "default", text: "", want: "capture 1 status in c1\n\n~ status/ns/g_K/n.yaml\n    status.x: 1 → 2\n"},
		{name: "custom", text: "[{{.Cluster}}] {{.Subject}}{{range .Counts}} #{{.What}}{{end}}", want: "[c1] capture 1 status in c1 #status"},
		{name: "bad field", text: "{{.Nope}}", wantErr: "can't evaluate field Nope"},
		{name: "bad syntax", text: "{{.Subject", wantErr: "message template"},
	}
	r := Describe("c1", []FileChange{{Path: "status/ns/g_K/n.yaml", Op: "modify", Old: []byte("status:\n  x: 1\n"), New: []byte("status:\n  x: 2\n")}})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Template(tc.text)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := Message(tmpl, r)
			if err != nil || got != tc.want {
				t.Errorf("message = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestDescribeBounded: a first commit of thousands of files gets a message
// and a summary of bounded size that still count every object.
func TestDescribeBounded(t *testing.T) {
	many := func(n int, withStatus bool) []FileChange {
		out := []FileChange{{Path: "kustomization.yaml", Op: "add", New: []byte("resources: []\n")}}
		for i := range n {
			name := fmt.Sprintf("b%05d", i)
			out = append(out, FileChange{Path: "patches/_cluster/s3.aws.upbound.io_Bucket/" + name + ".yaml", Op: "add",
				New: []byte(strings.ReplaceAll(bucketPatch, "%s", name))})
		}
		if withStatus {
			for i := range n {
				out = append(out, FileChange{Path: fmt.Sprintf("status/_cluster/s3.aws.upbound.io_Bucket/b%05d.yaml", i), Op: "add",
					New: []byte("kind: Bucket\nstatus:\n  atProvider:\n    arn: arn:aws:s3:::x\n")})
			}
		}
		return out
	}
	tests := []struct {
		name      string
		changes   []FileChange
		subject   string
		bodyMore  string
		mdMore    string
		bodyLines int // at most
	}{
		{name: "few files are all listed", changes: many(3, false), subject: "capture 3 external names in c1", bodyLines: 3*2 + 1},
		{name: "10k patches", changes: many(10000, false), subject: "capture 10000 external names in c1",
			bodyMore: "… and 9900 more objects (see the Markdown summary or git diff)\n",
			// kustomization.yaml comes first and takes a row.
			mdMore: "… and 9501 more objects, not shown", bodyLines: BodyObjects*2 + 2},
		{name: "5k patches and 5k statuses", changes: many(5000, true), subject: "capture 5000 external names, 5000 statuses in c1",
			bodyMore: "… and 9900 more objects (see the Markdown summary or git diff)\n",
			mdMore:   "… and 9501 more objects, not shown", bodyLines: BodyObjects*2 + 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Describe("c1", tc.changes)
			if r.Subject != tc.subject {
				t.Errorf("subject = %q, want %q", r.Subject, tc.subject)
			}
			if n := strings.Count(r.Body, "\n"); n > tc.bodyLines {
				t.Errorf("body has %d lines, want at most %d", n, tc.bodyLines)
			}
			if !strings.HasSuffix(r.Body, tc.bodyMore+"+ kustomization.yaml\n") {
				t.Errorf("body does not end with %q and the overlay file:\n…%s", tc.bodyMore, tail(r.Body))
			}
			md := r.Markdown()
			if rows := strings.Count(md, "\n| "); rows > SummaryRows+1 {
				t.Errorf("summary has %d rows, want at most %d", rows, SummaryRows+1)
			}
			if tc.mdMore != "" && !strings.Contains(md, tc.mdMore) {
				t.Errorf("summary lacks %q:\n…%s", tc.mdMore, tail(md))
			}
			if tc.mdMore == "" && strings.Contains(md, "more, not shown") {
				t.Errorf("summary of a small change says some are not shown:\n%s", md)
			}
		})
	}
}

func tail(s string) string {
	if len(s) > 400 {
		return s[len(s)-400:]
	}
	return s
}

// BenchmarkDescribeFirstCommit: the first commit of the status-rules watch
// benchmark at 10k objects, a patch and a status file each.
func BenchmarkDescribeFirstCommit(b *testing.B) {
	var changes []FileChange
	for i := range 10000 {
		name := fmt.Sprintf("b%05d", i)
		changes = append(changes,
			FileChange{Path: "patches/_cluster/s3.aws.upbound.io_Bucket/" + name + ".yaml", Op: "add", New: []byte(strings.ReplaceAll(bucketPatch, "%s", name))},
			FileChange{Path: "status/_cluster/s3.aws.upbound.io_Bucket/" + name + ".yaml", Op: "add", New: []byte("kind: Bucket\nstatus:\n  atProvider:\n    arn: arn:aws:s3:::" + name + "\n")})
	}
	b.ReportAllocs()
	for b.Loop() {
		r := Describe("c1", changes)
		_ = r.Markdown()
	}
}

// TestDescribeCollapsesMerged: merged/ follows from the patches; a commit
// names it once, however many of its files changed, and describes the patch.
func TestDescribeCollapsesMerged(t *testing.T) {
	changes := []FileChange{{
		Path: "patches/_cluster/s3.aws.upbound.io_Bucket/logs.yaml", Op: "add",
		New: []byte("apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: logs\n  annotations:\n    crossplane.io/external-name: logs-7f3a\n"),
	}}
	for i := 0; i < 300; i++ {
		changes = append(changes, FileChange{Path: fmt.Sprintf("merged/_cluster/s3.aws.upbound.io_Bucket/b%d.yaml", i), Op: "add", New: []byte("kind: Bucket\n")})
	}
	r := Describe("prod", changes)
	if want := "capture 1 external name in prod"; r.Subject != want {
		t.Errorf("subject = %q, want %q", r.Subject, want)
	}
	if n := strings.Count(r.Body, "merged/"); n != 1 {
		t.Errorf("the body names merged/ %d times, want once:\n%s", n, r.Body)
	}
	if !strings.Contains(r.Body, "merged/ (300 files") {
		t.Errorf("the body does not count merged/'s files:\n%s", r.Body)
	}
}
