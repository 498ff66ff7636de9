package kube

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	restclientwatch "k8s.io/client-go/rest/watch"
)

// BenchmarkWatchDecode reads a watch stream of 1,000 events of ≈4.4 KiB
// (a Crossplane Bucket as hack/bench/watchmem creates them: tags, an
// external name, an ARN, managedFields) with client-go's dynamic-client
// decoder and with watchJSON's. One op is one event.
func BenchmarkWatchDecode(b *testing.B) {
	stream := bucketStream(b, 1000)
	for _, c := range []struct {
		name string
		ns   runtime.NegotiatedSerializer
	}{
		{"client-go", clientGoSerializer()},
		{"watchJSON", newWatchJSON(clientGoSerializer())},
	} {
		b.Run("decoder="+c.name, func(b *testing.B) {
			b.SetBytes(int64(len(stream) / 1000))
			b.ReportAllocs()
			var d *restclientwatch.Decoder
			fresh := func() {
				objects, s, framer, err := runtime.NewClientNegotiator(c.ns, schema.GroupVersion{}).StreamDecoder(runtime.ContentTypeJSON, nil)
				if err != nil {
					b.Fatal(err)
				}
				d = restclientwatch.NewDecoder(streaming.NewDecoder(framer.NewFrameReader(nopCloser{bytes.NewReader(stream)}), s), objects)
			}
			fresh()
			n := 0
			for b.Loop() {
				if n == 1000 {
					b.StopTimer()
					fresh()
					n = 0
					b.StartTimer()
				}
				if _, _, err := d.Decode(); err != nil {
					b.Fatal(err)
				}
				n++
			}
		})
	}
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func bucketStream(b *testing.B, n int) []byte {
	tags := map[string]any{}
	for i := range 30 {
		tags[fmt.Sprintf("tag-%02d", i)] = strings.Repeat("v", 90)
	}
	var out bytes.Buffer
	for i := range n {
		name := fmt.Sprintf("bench-%06d", i)
		obj := map[string]any{
			"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
			"metadata": map[string]any{
				"name": name, "uid": "6f1c0d2e-9a7b-4c1d-8e2f-0123456789ab", "resourceVersion": fmt.Sprint(1000 + i),
				"generation": 1, "creationTimestamp": "2026-11-27T06:02:00Z",
				"annotations": map[string]any{"crossplane.io/external-name": name + "-7f3a"},
				"managedFields": []any{
					map[string]any{"manager": "bench", "operation": "Update", "apiVersion": "s3.aws.upbound.io/v1beta1", "time": "2026-11-27T06:02:00Z", "fieldsType": "FieldsV1",
						"fieldsV1": map[string]any{"f:metadata": map[string]any{"f:annotations": map[string]any{".": map[string]any{}, "f:crossplane.io/external-name": map[string]any{}}}, "f:spec": map[string]any{".": map[string]any{}, "f:forProvider": map[string]any{".": map[string]any{}, "f:region": map[string]any{}, "f:tags": map[string]any{}}}}},
					map[string]any{"manager": "bench", "operation": "Update", "apiVersion": "s3.aws.upbound.io/v1beta1", "time": "2026-11-27T06:02:00Z", "fieldsType": "FieldsV1", "subresource": "status",
						"fieldsV1": map[string]any{"f:status": map[string]any{".": map[string]any{}, "f:atProvider": map[string]any{".": map[string]any{}, "f:arn": map[string]any{}, "f:lastSeen": map[string]any{}}}}},
				},
			},
			"spec":   map[string]any{"forProvider": map[string]any{"region": "eu-west-1", "tags": tags}},
			"status": map[string]any{"atProvider": map[string]any{"arn": "arn:aws:s3:::" + name, "lastSeen": "2026-11-27T06:02:01Z"}},
		}
		e, err := json.Marshal(map[string]any{"type": "ADDED", "object": obj})
		if err != nil {
			b.Fatal(err)
		}
		out.Write(e)
		out.WriteByte('\n')
	}
	return out.Bytes()
}
