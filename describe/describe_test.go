package describe

import (
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
