package capture

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

func TestCredentialLooking(t *testing.T) {
	for k, want := range map[string]bool{
		"adminPassword": true, "passwd": true, "token": true, "apiKey": true, "privateKey": true, "connectionString": true,
		"clientSecret": true, "credentials": true,
		"writeConnectionSecretToRef": false, "secretName": false, "tokenTTL": false, "key": false, "region": false, "arn": false,
	} {
		if got := LooksLikeCredential(k); got != want {
			t.Errorf("LooksLikeCredential(%q) = %v, want %v", k, got, want)
		}
	}
}

// A credential-looking value is withheld unless a rule encrypts it (then
// it is marked for encryption) or allows clear text.
func TestBuildWithholdsOrEncryptsCredentials(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "infra.example.com/v1", "kind": "Cluster",
		"metadata": map[string]any{"name": "c", "namespace": "d"},
		"status":   map[string]any{"url": "https://c", "adminPassword": "pw", "nested": map[string]any{"token": "t"}},
	}}
	rule := func(name string, enc, clear bool, fields ...string) Rule {
		r := Rule{Name: name, Mode: ModePatch, Match: Match{Kinds: []string{"Cluster"}}, Encrypt: enc, AllowClearText: clear}
		for _, f := range fields {
			r.Fields = append(r.Fields, MustParsePath(f))
		}
		return r
	}
	tests := []struct {
		name         string
		rules        []Rule
		wantStatus   map[string]any
		wantEncrypt  []string
		wantWithheld []string
	}{
		{"withheld", []Rule{rule("a", false, false, "status")},
			map[string]any{"url": "https://c"}, nil, []string{"status.adminPassword", "status.nested.token"}},
		{"clear text allowed", []Rule{rule("a", false, true, "status")},
			map[string]any{"url": "https://c", "adminPassword": "pw", "nested": map[string]any{"token": "t"}}, nil, nil},
		{"encrypted", []Rule{rule("a", false, false, "status.url"), rule("b", true, false, "status.adminPassword")},
			map[string]any{"url": "https://c", "adminPassword": "pw"}, []string{"adminPassword"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := Build(tt.rules, u)
			if !ok {
				t.Fatal("nothing captured")
			}
			if !reflect.DeepEqual(c.Status, tt.wantStatus) || !reflect.DeepEqual(c.EncryptKeys, tt.wantEncrypt) || !reflect.DeepEqual(c.Withheld, tt.wantWithheld) {
				t.Errorf("status %v encrypt %v withheld %v; want %v %v %v", c.Status, c.EncryptKeys, c.Withheld, tt.wantStatus, tt.wantEncrypt, tt.wantWithheld)
			}
		})
	}
}

// discover never prints a credential-looking value, nor a subtree holding one.
func TestExampleRedactsCredentials(t *testing.T) {
	obj := map[string]any{"status": map[string]any{"adminPassword": "pw", "url": "u"}, "data": map[string]any{"token": "t"}}
	for p, want := range map[string]string{
		"status.adminPassword": Redacted, "status": Redacted, "data.token": Redacted, "status.url": `"u"`,
	} {
		path, err := fieldpath.MakePath(toAny(p)...)
		if err != nil {
			t.Fatal(err)
		}
		if got := example(obj, path); got != want {
			t.Errorf("example(%s) = %s, want %s", p, got, want)
		}
	}
}

func toAny(p string) []any {
	var out []any
	for _, s := range splitDots(p) {
		out = append(out, s)
	}
	return out
}

func splitDots(p string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '.' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return out
}

// TestCredentialPrefilter: the prefilter never hides a key the regular
// expression matches, over random keys made of the expression's pieces in
// any case, separators, other words and non-ASCII letters that fold to
// ASCII (the Kelvin sign, the long s).
func TestCredentialPrefilter(t *testing.T) {
	pieces := []string{"pass", "word", "wd", "phrase", "secret", "token", "credential", "private", "key", "api", "access",
		"connection", "string", "conn", "str", "cert", "data", "kubeconfig", "bearer", "ref", "name", "ttl",
		"_", "-", ".", " ", "K", "\u212a", "\u017f", "é", "ey", "ecret", "arn", "status", "external", "x"}
	rnd := rand.New(rand.NewPCG(1, 2))
	matched := 0
	for range 200000 {
		var b strings.Builder
		for range 1 + rnd.IntN(6) {
			p := pieces[rnd.IntN(len(pieces))]
			if rnd.IntN(3) == 0 {
				p = strings.ToUpper(p)
			}
			b.WriteString(p)
		}
		k := b.String()
		want := credentialLike.MatchString(k) && !notAValue.MatchString(k)
		if got := LooksLikeCredential(k); got != want {
			t.Fatalf("LooksLikeCredential(%q) = %v, the expressions say %v", k, got, want)
		}
		if want {
			matched++
		}
	}
	if matched < 10000 {
		t.Fatalf("only %d of the random keys look like credentials: the test does not reach the expression", matched)
	}
}
