package gitsync_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
)

// A Git server behind a private CA: refused until its CA is trusted, then
// fetched, published and pushed (the push goes through its own session),
// with the CA read as Flux reads it, from ca.crt of the Secret's folder.
func TestPrivateCA(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{TLS: true, User: "bot", Password: "tok"})
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
	secret := t.TempDir()
	for name, c := range map[string]string{"username": "bot", "password": "tok\n"} {
		if err := os.WriteFile(filepath.Join(secret, name), []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tg := target("driftback/c1", "main", "clusters/c1")
	ctx := context.Background()

	// Without the CA the server's certificate is not trusted.
	a, err := gitsync.Credentials{SecretDir: secret}.Auth()
	if err != nil {
		t.Fatal(err)
	}
	r, err := a.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	tg.Attempts = 1
	if _, err := r.Publish(ctx, tg, whole(map[string]string{"a.yaml": "a"})); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("publish without the CA: err = %v, want a certificate error", err)
	}

	// ca.crt in the folder: trusted.
	if err := os.WriteFile(filepath.Join(secret, "ca.crt"), srv.CACert, 0o600); err != nil {
		t.Fatal(err)
	}
	a, err = gitsync.Credentials{SecretDir: secret}.Auth()
	if err != nil {
		t.Fatal(err)
	}
	r, err = a.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, r, tg, whole(map[string]string{"a.yaml": "a"}))
	if got, _ := files(t, repoDir, "driftback/c1"); got["clusters/c1/a.yaml"] != "a" || got["apps/x.yaml"] != "x" {
		t.Fatalf("branch = %v", got)
	}

	// --git-ca-file holding no certificate is a clear error.
	bad := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err = gitsync.Credentials{SecretDir: secret, CAFile: bad}.Auth()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Open(url); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("open with a bad CA: err = %v", err)
	}
}
