// Package sopsinterop proves that the files driftback's sops package writes
// are read by sops itself (github.com/getsops/sops/v3/decrypt, the code
// Flux's kustomize-controller and KSOPS call), with an age identity from
// SOPS_AGE_KEY_FILE. It is a module of its own: sops/v3 pulls the SDK of
// every cloud's KMS, which the product does not carry.
package sopsinterop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	"github.com/getsops/sops/v3/decrypt"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/sops"
)

func TestSopsDecryptsWhatDriftbackWrites(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "keys.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOPS_AGE_KEY_FILE", keyFile)
	const canary = "canary-5e1d"
	doc := map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "app", "namespace": "default"},
		"data":     map[string]any{"token": canary, "url": "https://db"},
		"status":   map[string]any{"adminPassword": canary + "-2", "port": int64(5432), "ready": true, "list": []any{"x", canary + "-3"}},
	}
	if err := sops.Encrypt(doc, []string{"token", "adminPassword", "port", "ready", "list"}, []string{id.Recipient().String()}, time.Now()); err != nil {
		t.Fatal(err)
	}
	enc, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(enc), canary) {
		t.Fatalf("the canary is in clear:\n%s", enc)
	}
	plain, err := decrypt.DataWithFormat(enc, formats.Yaml)
	if err != nil {
		t.Fatalf("sops cannot decrypt driftback's file: %v\n%s", err, enc)
	}
	var got map[string]any
	if err := yaml.Unmarshal(plain, &got); err != nil {
		t.Fatal(err)
	}
	st := got["status"].(map[string]any)
	if got["data"].(map[string]any)["token"] != canary || st["adminPassword"] != canary+"-2" || st["port"] != float64(5432) || st["ready"] != true || st["list"].([]any)[1] != canary+"-3" {
		t.Errorf("sops decrypted:\n%s", plain)
	}
	// A value moved to another field is refused by sops.
	var d map[string]any
	_ = yaml.Unmarshal(enc, &d)
	s := d["status"].(map[string]any)
	s["adminPassword"] = d["data"].(map[string]any)["token"]
	moved, _ := yaml.Marshal(d)
	if _, err := decrypt.DataWithFormat(moved, formats.Yaml); err == nil {
		t.Error("sops decrypted a value moved to another field")
	}
}
