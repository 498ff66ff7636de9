package gitsync_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/gitserver"
)

func TestSignedCommitVerifies(t *testing.T) {
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

	if _, err := gitsync.OpenPGPSigner([]byte("not a key"), ""); err == nil || !strings.Contains(err.Error(), "signing key") {
		t.Errorf("a bad key: err = %v, want one naming the signing key", err)
	}
	signer, err := gitsync.OpenPGPSigner(priv.Bytes(), "")
	if err != nil {
		t.Fatal(err)
	}
	srv := gitserver.New(t, gitserver.Options{})
	url, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
	tg := target("driftback/c1", "main", dir)
	tg.Signer = signer
	publish(t, open(t, url), tg, whole(map[string]string{"a.yaml": "a1"}))
	_, c := files(t, repoDir, "driftback/c1")
	if c.PGPSignature == "" {
		t.Fatal("the commit is not signed")
	}
	signedBy, err := c.Verify(pub.String())
	if err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	if signedBy.PrimaryKey.KeyId != e.PrimaryKey.KeyId {
		t.Errorf("signed by %X, want %X", signedBy.PrimaryKey.KeyId, e.PrimaryKey.KeyId)
	}
}
