package gitsync_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
)

// sshKey makes an ed25519 key pair with ssh-keygen: the private key's path
// and the public key's authorized_keys line.
func sshKey(t *testing.T, name string) (string, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", p).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(p + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return p, string(pub)
}

// pgpKey makes an OpenPGP key pair: armored private and public keys.
func pgpKey(t *testing.T) ([]byte, string) {
	t.Helper()
	e, err := openpgp.NewEntity("driftback", "", "driftback@localhost", nil)
	if err != nil {
		t.Fatal(err)
	}
	var priv, pub bytes.Buffer
	w, _ := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err := e.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w, _ = armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return priv.Bytes(), pub.String() + "\n"
}

// TestVerifySignatures: driftback's commits signed with an SSH key (read by
// `git verify-commit` too) and an OpenPGP key verify; a commit signed by
// ssh-keygen with a trusted key verifies; an unsigned commit outside the
// overlay is ignored; an unsigned commit, or one signed by an untrusted key,
// that changes the overlay is refused and named.
func TestVerifySignatures(t *testing.T) {
	sshPriv, sshPub := sshKey(t, "driftback")
	intruderPriv, intruderPub := sshKey(t, "intruder")
	pgpPriv, pgpPub := pgpKey(t)
	trusted, err := gitsync.ParseTrustedKeys([]byte("# driftback's keys\n" + pgpPub + sshPub))
	if err != nil {
		t.Fatal(err)
	}
	if trusted.Len() != 2 {
		t.Fatalf("trusted keys = %d, want 2", trusted.Len())
	}
	onlyIntruder, err := gitsync.ParseTrustedKeys([]byte(intruderPub))
	if err != nil {
		t.Fatal(err)
	}

	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "signed")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
	b, err := os.ReadFile(sshPriv)
	if err != nil {
		t.Fatal(err)
	}
	sshSigner, err := gitsync.SSHSigner(b, "")
	if err != nil {
		t.Fatal(err)
	}
	pgpSigner, err := gitsync.OpenPGPSigner(pgpPriv, "")
	if err != nil {
		t.Fatal(err)
	}
	r := open(t, url)
	tg := target("driftback/c1", "main", dir)
	tg.Signer = pgpSigner
	publish(t, r, tg, whole(map[string]string{"a.yaml": "a1"}))
	tg.Signer = sshSigner
	publish(t, r, tg, whole(map[string]string{"a.yaml": "a2"}))

	// git itself accepts driftback's SSH signature.
	allowed := filepath.Join(t.TempDir(), "allowed_signers")
	if err := os.WriteFile(allowed, []byte("* "+sshPub), 0o644); err != nil {
		t.Fatal(err)
	}
	gitserver.Run(t, repoDir, "git", "-c", "gpg.ssh.allowedSignersFile="+allowed, "verify-commit", "driftback/c1")

	verify := func(keys *gitsync.TrustedKeys) ([]gitsync.Verified, error) {
		_, _, v, err := open(t, url).ReadBranchVerified(t.Context(), "driftback/c1", "main", dir, keys)
		return v, err
	}
	v, err := verify(trusted)
	if err != nil || len(v) != 2 {
		t.Fatalf("driftback's signed branch: verified %v, err %v; want 2 commits", v, err)
	}
	if !strings.HasPrefix(v[0].Signer, "SSH SHA256:") || !strings.HasPrefix(v[1].Signer, "OpenPGP ") {
		t.Errorf("signers = %+v, want SSH (newest) then OpenPGP", v)
	}
	if _, err := verify(onlyIntruder); !errors.Is(err, gitsync.ErrUnverified) || !strings.Contains(err.Error(), "not trusted") {
		t.Errorf("with only another key trusted: err = %v, want not trusted", err)
	}

	// A person signs with the trusted key through git and ssh-keygen.
	sshSign := []string{"gpg.format=ssh", "user.signingkey=" + sshPriv, "commit.gpgsign=true"}
	gitserver.Commit(t, repoDir, "driftback/c1", "by hand, signed", map[string]string{dir + "/b.yaml": "b"}, sshSign...)
	// A commit outside the overlay needs no signature.
	gitserver.Commit(t, repoDir, "driftback/c1", "elsewhere", map[string]string{"docs/readme.md": "hi"})
	if v, err := verify(trusted); err != nil || len(v) != 3 {
		t.Fatalf("after a signed commit by hand and an unsigned one elsewhere: verified %d, err %v; want 3", len(v), err)
	}

	for _, tc := range []struct {
		name   string
		config []string
		want   string
	}{
		{"unsigned", nil, "carries no signature"},
		{"signed by an untrusted key", []string{"gpg.format=ssh", "user.signingkey=" + intruderPriv, "commit.gpgsign=true"}, "not trusted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := gitserver.Commit(t, repoDir, "driftback/c1", "status: a little help", map[string]string{dir + "/a.yaml": "forged " + tc.name}, tc.config...)
			_, err := verify(trusted)
			if !errors.Is(err, gitsync.ErrUnverified) || !strings.Contains(err.Error(), h) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrUnverified naming commit %s and %q", err, h, tc.want)
			}
			// Signed again on top: the forged commit stays in the history
			// and is still refused.
			gitserver.Commit(t, repoDir, "driftback/c1", "cover it up", map[string]string{dir + "/c.yaml": tc.name}, sshSign...)
			if _, err := verify(trusted); err == nil || !strings.Contains(err.Error(), h) {
				t.Fatalf("a signed commit on top hid commit %s: err = %v", h, err)
			}
		})
	}
}

func TestParseTrustedKeysErrors(t *testing.T) {
	pgpPriv, _ := pgpKey(t)
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "# nothing\n\n", "holds no key"},
		{"a private key", string(pgpPriv), "private key"},
		{"garbage", "ssh-ed25519 not-base64\n", "line 1"},
		{"unterminated block", "-----BEGIN PGP PUBLIC KEY BLOCK-----\nabc\n", "END PGP PUBLIC KEY BLOCK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := gitsync.ParseTrustedKeys([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
