package capture

import (
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
	return credentialLike.MatchString(key) && !notAValue.MatchString(key)
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
