package describe

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestShapeFixesLeafPaths: any two documents the shape accepts with the
// same shape have the same leaf paths (or both fail to parse), and a
// cached name is always the one parsing gives, over random documents
// whose values are drawn to break the structure (colons, dashes, quotes,
// flow collections, anchors, multi-line scalars, lists, comments).
func TestShapeFixesLeafPaths(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	byShape := map[string][]string{}
	var cached shapes
	accepted := 0
	for range 20000 {
		doc := randomDoc(rnd)
		var s shapes
		if s.shape([]byte(doc)) {
			accepted++
			k := string(s.buf)
			if others := byShape[k]; len(others) > 0 {
				want, got := sortedPaths(others[0]), sortedPaths(doc)
				if !slices.Equal(got, want) {
					t.Fatalf("one shape, two path sets:\n%s\n→ %v\n%s\n→ %v", others[0], want, doc, got)
				}
			}
			if len(byShape[k]) < 3 {
				byShape[k] = append(byShape[k], doc)
			}
		}
		if got, want := cached.addedWhat([]byte(doc)), patchWhat(changedPaths(nil, []byte(doc))); got != want {
			t.Fatalf("addedWhat = %q, parsing says %q:\n%s", got, want, doc)
		}
	}
	repeated := 0
	for _, docs := range byShape {
		if len(docs) > 1 {
			repeated++
		}
	}
	if accepted < 3000 || repeated < 50 {
		t.Fatalf("the generator reaches the cache too little: %d documents accepted, %d shapes seen twice", accepted, repeated)
	}
}

func sortedPaths(doc string) []string {
	p := changedPaths(nil, []byte(doc))
	if p == nil {
		return []string{"<does not parse>"}
	}
	slices.Sort(p)
	return p
}

func randomDoc(rnd *rand.Rand) string {
	keys := []string{"metadata", "annotations", "crossplane.io/external-name", "status", "atProvider", "arn", "id", "spec", "a", "b"}
	values := []string{"x", "arn:aws:s3:::b-1", "1", "-1", "a: b", "- x", "#c", "x #c", "'q'", `"q"`, `"a"b"`, "{a: 1}", "[1]",
		"{}", "[]", "|", ">", "&a", "*a", "!t", "a:", "null", "~", "yes", "é", `"a\"b"`, "'it''s'", "x\n  y", "x\n- y", "|\n  z", "", "on"}
	var b strings.Builder
	var write func(depth, indent int)
	write = func(depth, indent int) {
		for i := range 1 + rnd.IntN(3) {
			pad := strings.Repeat(" ", indent)
			k := keys[rnd.IntN(len(keys))]
			if rnd.IntN(2) == 0 {
				k = keys[(depth*3+i)%len(keys)] // shapes that repeat
			}
			switch n := rnd.IntN(10); {
			case depth < 3 && n < 3:
				b.WriteString(pad + k + ":\n")
				write(depth+1, indent+[]int{2, 2, 4}[rnd.IntN(3)])
			case n == 3:
				b.WriteString(pad + k + ":\n" + pad + "- " + values[rnd.IntN(len(values))] + "\n")
			default:
				v := values[rnd.IntN(4)]
				if rnd.IntN(3) == 0 {
					v = values[rnd.IntN(len(values))]
				}
				b.WriteString(pad + k + ": " + v + "\n")
			}
		}
	}
	write(0, 0)
	return b.String()
}

// FuzzShape: a document the shape accepts has the leaf paths of the same
// document with every value replaced by a plain word (the same shape, by
// construction), or both fail to parse: no value can change a shape's
// structure.
func FuzzShape(f *testing.F) {
	for _, seed := range []string{
		"apiVersion: v1\nkind: B\nmetadata:\n  name: a\n  annotations:\n    crossplane.io/external-name: x\n",
		"status:\n  atProvider:\n    arn: arn:aws:s3:::b\n  n: {}\n",
		"a: 'q'\nb: \"r\"\nc: []\n",
		"a:\nb: yes\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var s shapes
		if !s.shape(doc) {
			return
		}
		plain := strings.ReplaceAll(string(s.buf), "=\n", " x\n")
		var p shapes
		if !p.shape([]byte(plain)) || string(p.buf) != string(s.buf) {
			t.Fatalf("the plain document of %q has another shape: %q", doc, plain)
		}
		if got, want := sortedPaths(string(doc)), sortedPaths(plain); !slices.Equal(got, want) {
			t.Fatalf("%q → %v\nits shape's plain document %q → %v", doc, got, plain, want)
		}
	})
}
