package overlay_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/overlay"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// legalSegment is what kustomize's in-memory file system accepts as a file
// name (kyaml filesys/fsnode.go, legalFileNamePattern), besides holding no "..".
var legalSegment = regexp.MustCompile(`^[a-zA-Z0-9-_.:]+$`)

// checkRoundTrip asserts what FileName promises for one object: every
// segment legal for kustomize and Git and at most MaxFileName bytes, and
// the path (plus, for a truncated name, the file's content) naming the
// object back.
func checkRoundTrip(t *testing.T, ref capture.ObjectRef) string {
	t.Helper()
	fn := overlay.FileName(ref)
	for _, seg := range strings.Split(fn, "/") {
		if len(seg) > overlay.MaxFileName || !legalSegment.MatchString(seg) || strings.Contains(seg, "..") {
			t.Fatalf("FileName(%q) = %q: segment %q is not a legal file name (%d bytes)", ref.Name, fn, seg, len(seg))
		}
	}
	e, ok := overlay.ParsePath(overlay.StatusDir + "/" + fn)
	if !ok {
		t.Fatalf("ParsePath(%q) refuses what FileName(%q) wrote", fn, ref.Name)
	}
	if e.Namespace != ref.Namespace || e.Key() != overlay.LegacyFileName(ref) || e.Legacy {
		t.Fatalf("ParsePath(%q) = %+v, want namespace %q, key %q", fn, e, ref.Namespace, overlay.LegacyFileName(ref))
	}
	// The same object in a branch written before buckets.
	if l, ok := overlay.ParsePath(overlay.StatusDir + "/" + overlay.LegacyFileName(ref)); !ok || !l.Legacy || l.Key() != e.Key() || l.Name != e.Name || l.NameHash != e.NameHash {
		t.Fatalf("ParsePath(legacy %q) = %+v, %v; want the same object as %+v", overlay.LegacyFileName(ref), l, ok, e)
	}
	wantGroup := ref.Group
	if wantGroup == "" {
		wantGroup = "core"
	}
	if e.Kind != "" && (e.Group != wantGroup || e.Kind != ref.Kind) {
		t.Fatalf("ParsePath(%q) = group %q kind %q, want %q %q", fn, e.Group, e.Kind, wantGroup, ref.Kind)
	}
	if e.NameHash == "" {
		if e.Name != ref.Name {
			t.Fatalf("ParsePath(%q).Name = %q, want %q", fn, e.Name, ref.Name)
		}
		return fn
	}
	// Truncated: the real name is in the file, by its header line or its
	// metadata.name (a status or resource file).
	header := string(overlay.NameHeader(ref.Name))
	if header == "" {
		t.Fatalf("FileName(%q) is truncated but NameHeader writes nothing", ref.Name)
	}
	contents := []string{header + "metadata:\n  name: other\n"}
	// An apiserver's names are JSON strings; YAML cannot carry some of
	// them (control characters such as DEL): such a file holds the name
	// only in its header line.
	if utf8.ValidString(ref.Name) {
		if b, err := yaml.Marshal(map[string]any{"metadata": map[string]any{"name": ref.Name}}); err == nil {
			contents = append(contents, string(b))
		}
	}
	for _, content := range contents {
		got, err := e.NameIn([]byte(content))
		if err != nil || got != ref.Name {
			t.Fatalf("NameIn(%q) = %q, %v, want %q", content, got, err, ref.Name)
		}
	}
	if got, err := e.NameIn([]byte("metadata:\n  name: other\n")); err == nil {
		t.Fatalf("NameIn accepted a file whose name does not match the hash: %q", got)
	}
	return fn
}

func TestFileNamesForAnyLegalName(t *testing.T) {
	long := strings.Repeat("a", 253)
	tests := []struct {
		name      string
		want      string // the file name; "" checks only the round trip
		truncated bool
	}{
		{"payments", "payments.yaml", false},
		{"system:controller:job-controller", "system:controller:job-controller.yaml", false},
		{"my_role", "my_role.yaml", false},
		{long, "", true},
		{strings.Repeat("b", 123), strings.Repeat("b", 123) + ".yaml", false},
		{strings.Repeat("b", 124), "", true},
		{"a b", "_a_20b.yaml", false},
		{"a\tb", "_a_09b.yaml", false},
		{"a\nb", "_a_0Ab.yaml", false},
		{"a\x00b", "_a_00b.yaml", false},
		{"...", "__2E._2E.yaml", false},
		{"a..b", "_a._2Eb.yaml", false},
		{"a.", "_a_2E.yaml", false},
		{".hidden", ".hidden.yaml", false},
		{"_x", "__5Fx.yaml", false},
		{"x__y z", "_x_5F_5Fy_20z.yaml", false},
		{"ünïcode", "", false},
		{strings.Repeat(" ", 253), "", true},
		{strings.Repeat("é", 120), "", true},
	}
	seen := map[string]string{}
	for _, tc := range tests {
		ref := capture.ObjectRef{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Name: tc.name}
		fn := checkRoundTrip(t, ref)
		base := fn[strings.LastIndex(fn, "/")+1:]
		if tc.want != "" && base != tc.want {
			t.Errorf("file of %q = %q, want %q", tc.name, base, tc.want)
		}
		if e, _ := overlay.ParsePath("status/" + fn); (e.NameHash != "") != tc.truncated {
			t.Errorf("file of %q = %q: truncated %v, want %v", tc.name, base, e.NameHash != "", tc.truncated)
		}
		if other, dup := seen[fn]; dup {
			t.Errorf("%q and %q share the file %q", tc.name, other, fn)
		}
		seen[fn] = tc.name
	}
	// Namespaces and kinds go through the same encoding.
	checkRoundTrip(t, capture.ObjectRef{Group: strings.Repeat("g", 200) + ".example.com", Kind: "Thing", Namespace: "_cluster", Name: "x"})
}

// FuzzFileNameRoundTrip: name → file → name, for any bytes in any part of
// the identity. Run by `make fuzz`.
func FuzzFileNameRoundTrip(f *testing.F) {
	for _, s := range []string{"payments", "a b", "a\nb", "...", strings.Repeat("a", 253), "_x", "a.", "x__0123456789abcdef"} {
		f.Add(s, "default", "example.com")
	}
	f.Fuzz(func(t *testing.T, name, ns, group string) {
		if name == "" || strings.Contains(group, "_") || ns != "" && len(validation.IsDNS1123Label(ns)) > 0 {
			return // the apiserver gives every object a name; groups are DNS names, namespaces DNS labels
		}
		ref := capture.ObjectRef{Group: group, Version: "v1", Kind: "Kind", Namespace: ns, Name: name}
		checkRoundTrip(t, ref)
		// Two names never share a file.
		other := ref
		other.Name = name + "x"
		if overlay.FileName(other) == overlay.FileName(ref) {
			t.Fatalf("%q and %q share the file %q", name, other.Name, overlay.FileName(ref))
		}
	})
}
