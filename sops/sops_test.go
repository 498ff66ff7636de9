package sops

import (
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"sigs.k8s.io/yaml"
)

func TestRoundTrip(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := age.GenerateX25519Identity()
	const canary = "canary-7f3a9c"
	doc := map[string]any{
		"apiVersion": "example.com/v1", "kind": "Thing",
		"metadata": map[string]any{"name": "t", "namespace": "default"},
		"status":   map[string]any{"adminPassword": canary, "phase": "Ready", "tokens": map[string]any{"n": int64(3), "on": true, "list": []any{"a", "b"}}, "empty": ""},
	}
	if err := Encrypt(doc, []string{"adminPassword", "tokens"}, []string{id.Recipient().String()}, time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), canary) || !strings.Contains(string(b), "phase: Ready") || !strings.Contains(string(b), "name: t") {
		t.Fatalf("encrypted document:\n%s", b)
	}
	read := func() map[string]any {
		var d map[string]any
		if err := yaml.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	if err := Decrypt(read(), nil); err != ErrNoIdentity {
		t.Errorf("no identity: %v", err)
	}
	if err := Decrypt(read(), []age.Identity{other}); err != ErrNoIdentity {
		t.Errorf("wrong identity: %v", err)
	}
	d := read()
	if err := Decrypt(d, []age.Identity{id}); err != nil {
		t.Fatal(err)
	}
	st := d["status"].(map[string]any)
	if st["adminPassword"] != canary || st["tokens"].(map[string]any)["on"] != true || st["tokens"].(map[string]any)["n"] != int64(3) || IsEncrypted(d) {
		t.Errorf("decrypted: %v", d)
	}
	// A value moved to another field, or the MAC changed, is refused.
	tampered := read()
	s := tampered["status"].(map[string]any)
	s["tokens"].(map[string]any)["list"] = []any{s["adminPassword"], s["adminPassword"]}
	if err := Decrypt(tampered, []age.Identity{id}); err == nil {
		t.Error("a moved value decrypted")
	}
}
