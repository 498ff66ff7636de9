package capture

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParsePath: the parser never panics, and what it accepts means the
// same once written back in canonical form (names bare, other keys quoted
// with \ escapes, [*]) and parsed again. make test runs it for a fixed time.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"status", "spec.forProvider.region", `metadata.annotations["crossplane.io/external-name"]`,
		`status.conditions[*].lastTransitionTime`, `metadata.labels["a\"b"]`, `a["\\"]`, `x[*][*]`, "spec..x", `a["`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			if !strings.Contains(err.Error(), "allowed:") {
				t.Errorf("ParsePath(%q) error does not say what is allowed: %v", s, err)
			}
			return
		}
		if len(p.segs) == 0 || p.segs[0].wildcard {
			t.Fatalf("ParsePath(%q) accepted a path without a leading name: %+v", s, p.segs)
		}
		canon := canonical(p.segs)
		q, err := ParsePath(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, s, err)
		}
		if !reflect.DeepEqual(p.segs, q.segs) {
			t.Fatalf("%q and its canonical form %q differ: %+v vs %+v", s, canon, p.segs, q.segs)
		}
	})
}

func canonical(segs []segment) string {
	var b strings.Builder
	for i, s := range segs {
		switch {
		case s.wildcard:
			b.WriteString("[*]")
		case bare(s.key):
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		default:
			b.WriteString(`["`)
			for j := 0; j < len(s.key); j++ {
				if c := s.key[j]; c == '"' || c == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(s.key[j])
			}
			b.WriteString(`"]`)
		}
	}
	return b.String()
}

func bare(k string) bool {
	for i := 0; i < len(k); i++ {
		if !isNameChar(k[i]) {
			return false
		}
	}
	return k != ""
}
