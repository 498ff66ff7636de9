package config

import "path"

// globToken is one element of a path.Match pattern: a literal byte, '?'
// (any one character), a character class, or '*' (any run).
type globToken struct {
	star, any bool
	class     string // "[...]" as written, for path.Match
	lit       byte
}

func (t globToken) single() bool { return !t.star }

// tokenize splits a path.Match pattern. Patterns are validated at load
// (path.Match syntax), so a malformed class is kept as a class that may
// match anything.
func tokenize(p string) []globToken {
	var out []globToken
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			if len(out) == 0 || !out[len(out)-1].star {
				out = append(out, globToken{star: true})
			}
		case '?':
			out = append(out, globToken{any: true})
		case '\\':
			if i+1 < len(p) {
				i++
			}
			out = append(out, globToken{lit: p[i]})
		case '[':
			j := i + 1
			if j < len(p) && p[j] == '^' {
				j++
			}
			if j < len(p) && p[j] == ']' {
				j++
			}
			for j < len(p) && p[j] != ']' {
				if p[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(p) {
				j = len(p) - 1
			}
			out = append(out, globToken{class: p[i : j+1]})
			i = j
		default:
			out = append(out, globToken{lit: c})
		}
	}
	return out
}

// tokensMeet reports whether one character can match both tokens; two
// classes (or a class and '?') are assumed to share one, which errs on the
// side of "may overlap".
func tokensMeet(a, b globToken) bool {
	switch {
	case a.any || b.any:
		return true
	case a.class != "" && b.class != "":
		return true
	case a.class != "":
		ok, _ := path.Match(a.class, string(b.lit))
		return ok
	case b.class != "":
		ok, _ := path.Match(b.class, string(a.lit))
		return ok
	}
	return a.lit == b.lit
}

// GlobsIntersect reports whether some string matches both path.Match
// patterns a and b ("*.aws.upbound.io" and "s3.*" do, "*.aws.upbound.io"
// and "*.gcp.upbound.io" do not). Character classes are compared only
// against literals; two classes count as overlapping.
func GlobsIntersect(a, b string) bool {
	x, y := tokenize(a), tokenize(b)
	memo := map[[2]int]bool{}
	var meet func(i, j int) bool
	meet = func(i, j int) bool {
		k := [2]int{i, j}
		if v, ok := memo[k]; ok {
			return v
		}
		var r bool
		switch {
		case i == len(x) && j == len(y):
			r = true
		case i < len(x) && x[i].star:
			// The star matches nothing more, or one more character of
			// whatever y's next token produces.
			r = meet(i+1, j) || (j < len(y) && meet(i, j+1))
		case j < len(y) && y[j].star:
			r = meet(i, j+1) || (i < len(x) && meet(i+1, j))
		case i == len(x) || j == len(y):
			r = false
		default:
			r = x[i].single() && y[j].single() && tokensMeet(x[i], y[j]) && meet(i+1, j+1)
		}
		memo[k] = r
		return r
	}
	return meet(0, 0)
}
