package gitsync

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"golang.org/x/crypto/ssh"
)

// FuzzVerifySSH: signatures come from whoever can push to the branch, so
// the parser must not crash on any input, and a signature must never
// verify for a message other than the one signed.
func FuzzVerifySSH(f *testing.F) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		f.Fatal(err)
	}
	signed := []byte("tree 0123\nauthor driftback\n\nstatus\n")
	sig, err := sshSign(s, signed)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := verifySSH(sig, signed); err != nil {
		f.Fatalf("the seed does not verify: %v", err)
	}
	f.Add(sig, signed)
	f.Add(sig, []byte("tree 0123\nauthor someone\n"))
	f.Add(sshsigBegin+"\nU1NIU0lH\n"+sshsigEnd, []byte{})
	f.Fuzz(func(t *testing.T, armored string, msg []byte) {
		pub, err := verifySSH(armored, msg)
		if err == nil && armored == sig && !bytes.Equal(msg, signed) {
			t.Fatalf("the signature verified a message it was not made for: %q", msg)
		}
		if err == nil && pub == nil {
			t.Fatal("verified without a key")
		}
		_, _ = ParseTrustedKeys([]byte(armored))
	})
}
