package render

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// Strings chosen at the edges of what go-yaml writes plain: booleans and
// null in YAML 1.1, numbers, dates, indicators, digits in keys (go-yaml
// orders digit runs by value), letters against '_' (ordered by letter or
// not, not by code), quotes, spaces, line breaks, long keys, non-ASCII.
var yamlEdgeStrings = []string{
	"a", "b", "B", "a_b", "aB", "a-b", "a.b", "a/b", "a:b", "a:", ":a", "a: b", "a #b", "a#b", "-a", "a-",
	"y", "Y", "yes", "Yes", "YES", "n", "no", "NO", "on", "On", "off", "OFF", "true", "False", "null", "Null", "~",
	"yEs", "tRUE", "nulls", "yess", "onion", "offset",
	"1", "1a", "a1", "a10", "a9", "a09", "a1b", "a1-", "a1.", "a_1", "0x1F", "1e3", "1_000", ".inf", ".nan", "1:20",
	"2026-11-26", "2026-11-26T10:00:00Z", "arn:aws:s3:::bench-000001", "s3.aws.upbound.io/v1beta1", "crossplane.io/external-name",
	"", " ", " a", "a ", "a\nb", "a\tb", "'a'", "\"a\"", "a'b", "{a}", "[a]", "a,b", "a?b", "?a", "&a", "*a", "!a", "%a", "@a", "`a",
	"---", "...", "--a", "é", "aé", "a\u007fb", "<<", "=", strings.Repeat("k", 128), strings.Repeat("k", 129), strings.Repeat("v", 300),
	"apiVersion", "kind", "metadata", "name", "namespace", "status", "spec", "atProvider", "arn", "annotations",
}

func randString(r *rand.Rand) string {
	if r.IntN(8) == 0 {
		return yamlEdgeStrings[r.IntN(len(yamlEdgeStrings))]
	}
	chars := "abcXYZ019-._/:"
	if r.IntN(8) == 0 {
		chars += " #'\"\n{}"
	}
	n := 1 + r.IntN(12)
	var b strings.Builder
	if r.IntN(8) > 0 {
		b.WriteByte("abcXYZ"[r.IntN(6)])
	}
	for range n {
		b.WriteByte(chars[r.IntN(len(chars))])
	}
	return b.String()
}

func randValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(14); {
	case k < 5:
		return randString(r)
	case k == 5:
		return []any{int64(0), int64(-7), int64(1 << 40), 3, int32(12)}[r.IntN(5)]
	case k == 6:
		if r.IntN(4) == 0 {
			return []float64{1.5, 1e16, 1e21, 0.1}[r.IntN(4)]
		}
		return []float64{0, 3, -2, 1e15, -0.0}[r.IntN(5)]
	case k == 7:
		return r.IntN(2) == 0
	case k == 8:
		return nil
	case k < 11 && depth > 0:
		return randMap(r, depth-1)
	case depth > 0:
		l := make([]any, 1+r.IntN(3))
		for i := range l {
			l[i] = randValue(r, depth-1)
		}
		return l
	default:
		return randString(r)
	}
}

func randMap(r *rand.Rand, depth int) map[string]any {
	m := map[string]any{}
	for range 1 + r.IntN(5) {
		m[randString(r)] = randValue(r, depth)
	}
	return m
}

// TestDirectYAMLEqualsMarshal: wherever the direct encoder writes a
// document, it writes yaml.Marshal's bytes.
func TestDirectYAMLEqualsMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	direct := 0
	const n = 100000
	for i := range n {
		doc := randMap(r, 3)
		got, ok := appendYAML([]byte("#\n"), doc)
		if !ok {
			continue
		}
		direct++
		want, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatalf("doc %d: the direct encoder wrote what yaml.Marshal refuses (%v): %#v", i, err, doc)
		}
		if string(got) != "#\n"+string(want) {
			t.Fatalf("doc %d: %#v\ndirect:\n%s\nyaml.Marshal:\n%s", i, doc, got, want)
		}
	}
	// The test means something only if many documents took the direct way.
	if direct < n/20 {
		t.Fatalf("only %d of %d documents written directly", direct, n)
	}
	t.Logf("%d of %d random documents written directly", direct, n)
}

// TestDirectYAMLWritesOverlayFiles: the files a large cluster's overlay is
// made of take the direct way (the point of it).
func TestDirectYAMLWritesOverlayFiles(t *testing.T) {
	for i, doc := range []map[string]any{
		{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket", "metadata": map[string]any{"name": "bench-000001"},
			"status": map[string]any{"atProvider": map[string]any{"arn": "arn:aws:s3:::bench-000001"}}},
		{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket", "metadata": map[string]any{"name": "b", "namespace": "team-a",
			"annotations": map[string]any{"crossplane.io/external-name": "bench-000001-7f3a"}}},
		{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": map[string]any{"name": "data"},
			"spec": map[string]any{"volumeName": "pvc-0f3b", "resources": map[string]any{"requests": map[string]any{"storage": "Gi"}}},
			"x":    []any{map[string]any{"ip": "a", "ports": []any{int64(80), int64(443)}}, "b"}},
	} {
		got, ok := appendYAML(nil, doc)
		if !ok {
			t.Errorf("doc %d not written directly", i)
			continue
		}
		want, _ := yaml.Marshal(doc)
		if string(got) != string(want) {
			t.Errorf("doc %d:\n%s\nwant\n%s", i, got, want)
		}
	}
}

func BenchmarkEncodeFile(b *testing.B) {
	doc := map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket", "metadata": map[string]any{"name": "bench-000001"},
		"status": map[string]any{"atProvider": map[string]any{"arn": "arn:aws:s3:::bench-000001"}}}
	for _, way := range []string{"direct", "yaml.Marshal"} {
		b.Run(way, func(b *testing.B) {
			b.ReportAllocs()
			var scratch []byte
			for b.Loop() {
				var err error
				if way == "direct" {
					_, err = encodeFile(&scratch, nil, doc)
				} else {
					_, err = marshalYAML(doc)
				}
				if err != nil {
					b.Fatal(fmt.Errorf("encode: %w", err))
				}
			}
		})
	}
}
