package overlay

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// File names for any legal object name.
//
// The apiserver accepts names that make poor file names: up to 253
// characters for most kinds (a file system allows 255 bytes a component,
// some 143), and for kinds validated as path segments only (ClusterRole,
// Role, bindings…) any character but '/' and '%': space, tab, newline, NUL,
// "...". kustomize's in-memory file system, which every build driftback
// runs goes through, refuses any file name outside [a-zA-Z0-9-_.:] or
// holding ".." (kyaml filesys/fsnode.go, isLegalFileNameForCreation), so
// one such name used to fail the whole overlay.
//
// A name segment is therefore written one of three ways:
//
//   - plain: the name itself, when it is made of [a-zA-Z0-9-.:_], does not
//     start with '_', holds no "..", does not end with '.', and fits. Every
//     DNS-1123 name is plain, so existing branches keep their file names.
//   - escaped: '_' then the name with every other byte written _XX (upper
//     case hex; '_' itself is _5F, and a '.' that would start the name,
//     follow a '.' or end it is _2E). Reversible: ParsePath decodes it.
//   - escaped and truncated, when the escaped form is longer than
//     MaxFileName: its first bytes (cut at an escape boundary), "__", and 16
//     hex digits of the SHA-256 of the whole name. "__" never occurs in an
//     escaped body (each '_' there is followed by a hex digit), so the
//     three forms cannot be confused. The real name is then inside the
//     file: a first line `# driftback-name: "<Go-quoted name>"` (render
//     writes it; a patch's metadata may address the object by another name
//     under Flux's namePrefix), else its metadata.name, and the hash proves
//     which (Entry.NameIn).

// MaxFileName bounds every directory and file name driftback writes below
// the overlay's object directories, in bytes, extension included: under the
// 143 bytes of the most restrictive common file system (eCryptfs).
const MaxFileName = 128

// hashLen is how many hex digits of the SHA-256 a truncated name keeps.
const hashLen = 16

// NameHeaderPrefix starts the comment line holding an object's real name in
// a file whose name is truncated.
const NameHeaderPrefix = "# driftback-name: "

func plainByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ':' || c == '_'
}

func isPlain(s, ext string) bool {
	if s == "" || s[0] == '_' || s[len(s)-1] == '.' || strings.Contains(s, "..") || len(s)+len(ext) > MaxFileName {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !plainByte(s[i]) {
			return false
		}
	}
	return true
}

// nameHash is the stable suffix of a truncated name.
func nameHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:hashLen]
}

// escape is the escaped form of s: '_' then s with _XX escapes.
func escape(s string) string {
	var b strings.Builder
	b.WriteByte('_')
	last := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && plainByte(c) && !(c == '.' && (i == 0 || i == len(s)-1 || last == '.')) {
			b.WriteByte(c)
			last = c
			continue
		}
		fmt.Fprintf(&b, "_%02X", c)
		last = 0
	}
	return b.String()
}

// truncated reports whether s is written in the truncated form.
func truncated(s, ext string) bool {
	return !isPlain(s, ext) && len(escape(s))+len(ext) > MaxFileName
}

// encodeSegment writes s as a file or directory name ending in ext.
func encodeSegment(s, ext string) string {
	if isPlain(s, ext) {
		return s + ext
	}
	enc := escape(s)
	if len(enc)+len(ext) <= MaxFileName {
		return enc + ext
	}
	cut := MaxFileName - len(ext) - 2 - hashLen
	// Never cut inside an escape: the kept prefix is still escaped text.
	for _, back := range []int{1, 2} {
		if enc[cut-back] == '_' {
			cut -= back
			break
		}
	}
	return enc[:cut] + "__" + nameHash(s) + ext
}

// decodeSegment reads a name written by encodeSegment (ext already
// removed). truncated names return the decoded prefix and the hash; ok is
// false for anything encodeSegment cannot have written.
func decodeSegment(f, ext string) (name, hash string, ok bool) {
	if f == "" {
		return "", "", false
	}
	if f[0] != '_' {
		if !isPlain(f, ext) {
			return "", "", false
		}
		return f, "", true
	}
	body := f[1:]
	if i := strings.Index(body, "__"); i >= 0 {
		body, hash = body[:i], body[i+2:]
		if len(hash) != hashLen || strings.Trim(hash, "0123456789abcdef") != "" || len(f)+len(ext) > MaxFileName {
			return "", "", false
		}
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '_' {
			if !plainByte(c) {
				return "", "", false
			}
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(body) {
			return "", "", false
		}
		v, err := strconv.ParseUint(body[i+1:i+3], 16, 8)
		if err != nil || strings.ToUpper(body[i+1:i+3]) != body[i+1:i+3] {
			return "", "", false
		}
		b.WriteByte(byte(v))
		i += 2
	}
	name = b.String()
	if hash == "" && encodeSegment(name, ext) != f+ext {
		return "", "", false // not canonical: two files would name one object
	}
	return name, hash, true
}

// NameIn returns the real name of the object a file of this entry holds:
// the name the path spells, or for a truncated path the name inside the
// file (its driftback-name line, else its metadata.name) whose hash the
// path carries.
func (e Entry) NameIn(content []byte) (string, error) {
	if e.NameHash == "" {
		return e.Name, nil
	}
	var candidates []string
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 0, 1024), 64*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "#") {
			break
		}
		if q, ok := strings.CutPrefix(line, NameHeaderPrefix); ok {
			if n, err := strconv.Unquote(q); err == nil {
				candidates = append(candidates, n)
			}
		}
	}
	var md struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(content, &md); err == nil && md.Metadata.Name != "" {
		candidates = append(candidates, md.Metadata.Name)
	}
	for _, n := range candidates {
		if nameHash(n) == e.NameHash && strings.HasPrefix(n, e.Name) {
			return n, nil
		}
	}
	return "", fmt.Errorf("%s: the file name is truncated (hash %s) and the file holds no name with that hash (a %q line or metadata.name)", e.Dir+"/"+e.Key(), e.NameHash, strings.TrimSpace(NameHeaderPrefix))
}

// NameHeader is the first line of an object's file: its real name when the
// file name is truncated (see NameIn), else nothing.
func NameHeader(name string) []byte {
	if !truncated(name, ".yaml") {
		return nil
	}
	return []byte(NameHeaderPrefix + strconv.Quote(name) + "\n")
}
