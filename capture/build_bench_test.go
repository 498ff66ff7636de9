package capture

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// benchBucket is a Bucket as the watch benchmark (hack/bench/watchmem)
// creates it, decoded the way the dynamic informer decodes it: 4.4 KiB of
// JSON with the creator's and the status writer's managedFields.
func benchBucket(tb testing.TB, i int) *unstructured.Unstructured {
	tb.Helper()
	var tags, tagFields []string
	for t := range 30 {
		tags = append(tags, fmt.Sprintf(`"tag-%02d": %q`, t, strings.Repeat("v", 90)))
		tagFields = append(tagFields, fmt.Sprintf(`"f:tag-%02d": {}`, t))
	}
	name := fmt.Sprintf("bench-%06d", i)
	doc := `{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
"metadata": {"name": "` + name + `", "uid": "0b5e1c9e-7d1a-4c1e-9a53-5d1f0e0c1a2b", "resourceVersion": "123456", "generation": 1,
 "creationTimestamp": "2026-11-25T10:00:00Z",
 "annotations": {"crossplane.io/external-name": "` + name + `-7f3a"},
 "managedFields": [
  {"manager": "watchmem.test", "operation": "Update", "apiVersion": "s3.aws.upbound.io/v1beta1", "time": "2026-11-25T10:00:00Z", "fieldsType": "FieldsV1",
   "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:crossplane.io/external-name": {}}}, "f:spec": {".": {}, "f:forProvider": {".": {}, "f:region": {}, "f:tags": {".": {}, ` + strings.Join(tagFields, ", ") + `}}}}},
  {"manager": "watchmem.test", "operation": "Update", "apiVersion": "s3.aws.upbound.io/v1beta1", "time": "2026-11-25T10:00:00Z", "fieldsType": "FieldsV1", "subresource": "status",
   "fieldsV1": {"f:status": {".": {}, "f:atProvider": {".": {}, "f:arn": {}, "f:lastSeen": {}}}}}]},
"spec": {"forProvider": {"region": "eu-west-1", "tags": {` + strings.Join(tags, ", ") + `}}},
"status": {"atProvider": {"arn": "arn:aws:s3:::` + name + `", "lastSeen": "2026-11-25T10:00:00Z"}}}`
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal([]byte(doc), &u.Object); err != nil {
		tb.Fatal(err)
	}
	return u
}

// BenchmarkBuildStatusRule is the watch benchmark's status rule set (with
// config's default GitOps managers) on one object: the transform's work per
// object while the watcher syncs.
func BenchmarkBuildStatusRule(b *testing.B) {
	rules := []Rule{{
		Name: "external-name", Mode: ModePatch,
		Match:          Match{APIGroups: []string{"s3.aws.upbound.io"}, Kinds: []string{"Bucket"}},
		Fields:         paths(`metadata.annotations["crossplane.io/external-name"]`, "status.atProvider.arn"),
		GitOpsManagers: DefaultGitOpsManagers,
	}}
	u := benchBucket(b, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Build(rules, u); !ok {
			b.Fatal("no capture")
		}
	}
}
