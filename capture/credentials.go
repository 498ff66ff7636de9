package capture

import (
	"bytes"
	"regexp"
	"sort"
)

// credentialLike matches map keys whose values look like credentials,
// whatever object holds them (a CR's status.adminPassword, a ConfigMap's
// data.token). Such a value reaches Git only encrypted (a rule with
// encrypt: true) or when a rule explicitly allows clear text
// (allowClearText: true); otherwise capture withholds it. describe hides
// the same keys in commit messages and summaries, discover in its output.
var credentialLike = regexp.MustCompile(`(?i)(password|passwd|passphrase|secret|token|credential|private.?key|api.?key|access.?key|connection.?string|conn.?str|cert.?data|kubeconfig|bearer)`)

// notAValue are key endings that name a reference to a credential, not the
// credential (writeConnectionSecretToRef, secretName, tokenTTL).
var notAValue = regexp.MustCompile(`(?i)(ref|refs|reference|name|names|namespace|selector|path|file|mode|ttl|type|policy|expiry|expiration|expirationseconds)$`)

// LooksLikeCredential reports whether a map key names a credential-looking
// value.
func LooksLikeCredential(key string) bool {
	if !mayLookLikeCredential(key) {
		return false
	}
	return credentialLike.MatchString(key) && !notAValue.MatchString(key)
}

// credentialAnchors holds a piece of every credentialLike alternative, in
// lower case: an ASCII key that holds none of them, in any case, cannot
// match it.
var credentialAnchors = [][]byte{
	[]byte("pass"), []byte("secret"), []byte("token"), []byte("credential"), []byte("key"),
	[]byte("conn"), []byte("cert"), []byte("kubeconfig"), []byte("bearer"),
}

// mayLookLikeCredential is false for a key credentialLike cannot match,
// found without the regular expression, which the transform ran on every
// key of every captured field (half of building a status capture): most
// keys are short ASCII names with none of the anchors. A key with a
// non-ASCII byte (case folding reaches past ASCII: the Kelvin sign folds
// to k) or too long for the buffer goes to the expression.
func mayLookLikeCredential(key string) bool {
	var buf [64]byte
	if len(key) > len(buf) {
		return true
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 0x80 {
			return true
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	lower := buf[:len(key)]
	for _, a := range credentialAnchors {
		if bytes.Contains(lower, a) {
			return true
		}
	}
	return false
}

// LastKey is the last map key a path names ("" for a path ending in [*]).
func (p Path) LastKey() string {
	if len(p.segs) == 0 || p.segs[len(p.segs)-1].wildcard {
		return ""
	}
	return p.segs[len(p.segs)-1].key
}

// credentialLeaves lists the leaves of v below a credential-looking key:
// their paths (prefix-relative, the field path syntax) and the keys.
func credentialLeaves(prefix string, v any) (paths []string, keys []string) {
	seen := map[string]bool{}
	WalkLeaves(prefix, v, func(l Leaf) {
		for _, s := range l.At {
			if k, ok := s.(string); ok && LooksLikeCredential(k) {
				paths = append(paths, l.Path)
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
				return
			}
		}
	})
	sort.Strings(keys)
	return paths, keys
}

// withhold deletes from obj every leaf below a credential-looking key and
// returns their paths (under prefix).
func withhold(prefix string, obj map[string]any) []string {
	paths, _ := credentialLeaves(prefix, obj)
	if len(paths) == 0 {
		return nil
	}
	deleteCredentials(obj)
	return paths
}

func deleteCredentials(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if LooksLikeCredential(k) {
				delete(t, k)
				continue
			}
			deleteCredentials(e)
		}
	case []any:
		for _, e := range t {
			deleteCredentials(e)
		}
	}
}
