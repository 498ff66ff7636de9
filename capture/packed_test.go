package capture

import (
	"fmt"
	"reflect"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// TestPackRoundTrip: a packed capture unpacks to the capture packed, and
// two packed captures are equal exactly when Equal says the captures are.
func TestPackRoundTrip(t *testing.T) {
	ref := ObjectRef{Group: "g", Version: "v1", Kind: "K", Namespace: "ns", Name: "n"}
	var caps []Capture
	for _, tt := range []struct {
		name    string
		c       Capture
		encoded bool // false: kept unencoded, as it is
	}{
		{"identity only", Capture{Ref: ref, Mode: ModePatch, Object: map[string]any{"apiVersion": "g/v1", "kind": "K", "metadata": map[string]any{"name": "n"}}}, true},
		{"empty status", Capture{Ref: ref, Mode: ModePatch, Object: map[string]any{"apiVersion": "g/v1", "kind": "K", "metadata": map[string]any{"name": "n"}}, Status: map[string]any{}}, true},
		{"every JSON type and field", Capture{Ref: ref, Mode: ModeAuto, Rules: []string{"a", "b"}, EncryptKeys: []string{"k"}, Withheld: []string{"spec.password"},
			Object:  map[string]any{"spec": map[string]any{"l": []any{int64(1), 1.5, "s", true, false, nil, map[string]any{"x": int64(-3)}, []any{}}, "e": map[string]any{}, "nm": map[string]any(nil), "nl": []any(nil)}},
			Applied: map[string]any{"spec": map[string]any{"big": int64(1) << 62, "min": int64(-1) << 63, "f": -0.25}},
			Whole:   map[string]any{"a": ""},
			Status:  map[string]any{"atProvider": map[string]any{"arn": "arn:aws:s3:::b", "u": "é\x00\n"}}}, true},
		{"one rule, a list", Capture{Ref: ref, Mode: ModeAuto, Rules: []string{"a"}, Object: map[string]any{"spec": map[string]any{"l": []any{int64(1)}}}}, true},
		{"a struct", Capture{Ref: ref, Mode: ModeObject, Object: map[string]any{"x": struct{ A int }{1}}}, false},
		{"an int, not int64", Capture{Ref: ref, Mode: ModeObject, Object: map[string]any{"i": 7}}, false},
		{"no maps", Capture{Ref: ObjectRef{Kind: "ConfigMap", Version: "v1", Name: "n"}, Mode: ModePatch}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := Pack(tt.c)
			if got := p.Unpack(); !reflect.DeepEqual(got, tt.c) {
				t.Errorf("unpacked %#v, want %#v", got, tt.c)
			}
			if _, encoded := p.Encoded(); encoded != tt.encoded {
				t.Errorf("encoded %v, want %v", encoded, tt.encoded)
			}
		})
		caps = append(caps, tt.c)
	}
	for i := range caps {
		for j := range caps {
			if got, want := PackedEqual(Pack(caps[i]), Pack(caps[j])), Equal(&caps[i], &caps[j]); got != want {
				t.Errorf("captures %d and %d: PackedEqual %v, Equal %v", i, j, got, want)
			}
		}
	}
	if !PackedEqual(nil, nil) || PackedEqual(Pack(caps[0]), nil) || PackedEqual(nil, Pack(caps[0])) {
		t.Error("PackedEqual with nil")
	}
}

// TestPackIsCanonical: equal maps built in different orders pack to the
// same bytes, different ones to different bytes, and packing copies: a
// map changed after Pack does not change what was packed.
func TestPackIsCanonical(t *testing.T) {
	ref := ObjectRef{Version: "v1", Kind: "K", Name: "n"}
	a, b := map[string]any{}, map[string]any{}
	for i := range 20 {
		a[fmt.Sprint("k", i)] = int64(i)
		b[fmt.Sprint("k", 19-i)] = int64(19 - i)
	}
	pa, pb := Pack(Capture{Ref: ref, Object: a}), Pack(Capture{Ref: ref, Object: b})
	ea, _ := pa.Encoded()
	eb, _ := pb.Encoded()
	if string(ea) != string(eb) || !PackedEqual(pa, pb) {
		t.Error("equal maps packed apart differ")
	}
	b["k3"] = int64(4)
	if PackedEqual(pa, Pack(Capture{Ref: ref, Object: b})) {
		t.Error("different maps packed alike")
	}
	a["k3"] = "changed"
	if got := pa.Unpack().Object["k3"]; got != int64(3) {
		t.Errorf("a change after Pack reached the packed capture: %v", got)
	}
	// The same maps in another field differ.
	if PackedEqual(Pack(Capture{Ref: ref, Object: b}), Pack(Capture{Ref: ref, Status: b})) {
		t.Error("Object and Status packed alike")
	}
}

// TestSortedPacked: sorted input is returned as it is, other input sorted
// by ref in a copy.
func TestSortedPacked(t *testing.T) {
	p := func(name string) *Packed { return Pack(Capture{Ref: ObjectRef{Version: "v1", Kind: "K", Name: name}}) }
	in := []*Packed{p("a"), p("b"), p("c")}
	if out := SortedPacked(in); &out[0] != &in[0] {
		t.Error("a sorted slice was copied")
	}
	in = []*Packed{p("c"), p("a"), p("b")}
	out := SortedPacked(in)
	if out[0].Ref.Name != "a" || out[1].Ref.Name != "b" || out[2].Ref.Name != "c" || in[0].Ref.Name != "c" {
		t.Errorf("sorted %v %v %v; input now starts with %v", out[0].Ref, out[1].Ref, out[2].Ref, in[0].Ref)
	}
}

// FuzzPack: any JSON document, decoded as the apiserver's objects are,
// packs and unpacks to itself, and packs to the same bytes again.
func FuzzPack(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,2.5,"x",null,true,{"b":{}}],"c":-9223372036854775808}`, `{"status":{"arn":"arn:aws:s3:::b"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		// apimachinery's decode: numbers as int64 or float64, as in an
		// unstructured object.
		var m map[string]any
		if err := utiljson.Unmarshal(doc, &m); err != nil || m == nil {
			return
		}
		c := Capture{Ref: ObjectRef{Version: "v1", Kind: "K", Name: "n"}, Mode: ModePatch, Object: m, Status: m}
		p := Pack(c)
		if _, ok := p.Encoded(); !ok {
			t.Fatalf("a decoded JSON document was not encoded: %s", doc)
		}
		if got := p.Unpack(); !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip of %s: got %#v", doc, got)
		}
		if !PackedEqual(p, Pack(p.Unpack())) {
			t.Fatalf("packing the unpacked %s again gave other bytes", doc)
		}
	})
}
