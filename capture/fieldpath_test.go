package capture

import (
	"reflect"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		in      string
		want    []segment
		wantErr string
	}{
		{in: "status", want: []segment{{key: "status"}}},
		{in: "spec.forProvider.region", want: []segment{{key: "spec"}, {key: "forProvider"}, {key: "region"}}},
		{in: `metadata.annotations["crossplane.io/external-name"]`, want: []segment{{key: "metadata"}, {key: "annotations"}, {key: "crossplane.io/external-name"}}},
		{in: `status.conditions[*].lastTransitionTime`, want: []segment{{key: "status"}, {key: "conditions"}, {wildcard: true}, {key: "lastTransitionTime"}}},
		{in: `metadata.labels["a\"b"]`, want: []segment{{key: "metadata"}, {key: "labels"}, {key: `a"b`}}},
		{in: "", wantErr: "empty field path"},
		{in: "spec..x", wantErr: "unexpected '.'"},
		{in: "spec.", wantErr: "unexpected '.'"},
		{in: `metadata.annotations[crossplane.io/x]`, wantErr: "double-quoted key"},
		{in: `metadata.annotations["x"`, wantErr: "must end with"},
		{in: `metadata.annotations["x`, wantErr: "unterminated"},
		{in: `[*].x`, wantErr: "must start with a field name"},
		{in: `spec/x`, wantErr: "expected '.' or"},
		{in: `/x`, wantErr: "unexpected"},
		{in: `spec["x"]y`, wantErr: "expected '.' or '['"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePath(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParsePath(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "allowed:") {
					t.Errorf("error %q does not say what is allowed", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(p.segs, tt.want) {
				t.Errorf("segments = %+v, want %+v", p.segs, tt.want)
			}
			if p.String() != tt.in {
				t.Errorf("String() = %q, want %q", p.String(), tt.in)
			}
		})
	}
}

func obj() map[string]any {
	return map[string]any{
		"metadata": map[string]any{
			"name": "b",
			"annotations": map[string]any{
				"crossplane.io/external-name": "bucket-123",
				"other":                       "x",
			},
		},
		"status": map[string]any{
			"atProvider": map[string]any{"arn": "arn:aws:s3:::bucket-123"},
			"conditions": []any{
				map[string]any{"type": "Ready", "status": "True", "lastTransitionTime": "t1"},
				map[string]any{"type": "Synced", "status": "True", "lastTransitionTime": "t2"},
			},
		},
	}
}

func TestCopyInto(t *testing.T) {
	tests := []struct {
		paths []string
		want  map[string]any
		found bool
	}{
		{
			paths: []string{`metadata.annotations["crossplane.io/external-name"]`},
			want:  map[string]any{"metadata": map[string]any{"annotations": map[string]any{"crossplane.io/external-name": "bucket-123"}}},
			found: true,
		},
		{
			paths: []string{`status.conditions[*].type`, `status.atProvider`},
			want: map[string]any{"status": map[string]any{
				"atProvider": map[string]any{"arn": "arn:aws:s3:::bucket-123"},
				"conditions": []any{map[string]any{"type": "Ready"}, map[string]any{"type": "Synced"}},
			}},
			found: true,
		},
		{paths: []string{`spec.missing`}, want: map[string]any{}, found: false},
		{paths: []string{`metadata.name.deeper`}, want: map[string]any{}, found: false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.paths, ","), func(t *testing.T) {
			src := obj()
			dst := map[string]any{}
			found := false
			for _, p := range tt.paths {
				found = MustParsePath(p).CopyInto(dst, src) || found
			}
			if found != tt.found {
				t.Errorf("found = %v, want %v", found, tt.found)
			}
			if !reflect.DeepEqual(dst, tt.want) {
				t.Errorf("got %#v\nwant %#v", dst, tt.want)
			}
			if !reflect.DeepEqual(src, obj()) {
				t.Error("CopyInto modified its source")
			}
		})
	}
}

func TestDelete(t *testing.T) {
	o := obj()
	MustParsePath(`status.conditions[*].lastTransitionTime`).Delete(o)
	MustParsePath(`metadata.annotations["other"]`).Delete(o)
	MustParsePath(`status.atProvider.arn`).Delete(o)
	MustParsePath(`spec.not.there`).Delete(o)
	want := map[string]any{
		"metadata": map[string]any{"name": "b", "annotations": map[string]any{"crossplane.io/external-name": "bucket-123"}},
		"status": map[string]any{"conditions": []any{
			map[string]any{"type": "Ready", "status": "True"},
			map[string]any{"type": "Synced", "status": "True"},
		}},
	}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("got %#v\nwant %#v", o, want)
	}
}
