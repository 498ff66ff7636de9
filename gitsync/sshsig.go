package gitsync

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"

	"golang.org/x/crypto/ssh"
)

// SSH signatures of commits follow OpenSSH's PROTOCOL.sshsig, which is what
// `git -c gpg.format=ssh` writes and `git verify-commit` reads, and what
// GitHub and GitLab show as verified: the signer signs a blob made of a
// magic preamble, a namespace ("git" for commits), a hash algorithm and the
// hash of the commit; the signature carries the public key. No served Go
// module implements the format, and go-git verifies OpenPGP only.

const (
	sshsigMagic     = "SSHSIG"
	sshsigVersion   = 1
	sshsigNamespace = "git"
	sshsigBegin     = "-----BEGIN SSH SIGNATURE-----"
	sshsigEnd       = "-----END SSH SIGNATURE-----"
)

// sshsigSigned is the blob that is signed (PROTOCOL.sshsig, §3), after the
// magic preamble.
type sshsigSigned struct {
	Namespace     string
	Reserved      string
	HashAlgorithm string
	Hash          []byte
}

// sshsigBlob is the signature (§2), after the magic preamble.
type sshsigBlob struct {
	Version       uint32
	PublicKey     []byte
	Namespace     string
	Reserved      string
	HashAlgorithm string
	Signature     []byte
}

// SSHSigner signs commits with an OpenSSH private key (ed25519, ECDSA or
// RSA, the latter with rsa-sha2-512), decrypting it with passphrase when it
// is protected.
func SSHSigner(privateKey []byte, passphrase string) (Signer, error) {
	var s ssh.Signer
	var err error
	if passphrase != "" {
		s, err = ssh.ParsePrivateKeyWithPassphrase(privateKey, []byte(passphrase))
	} else {
		s, err = ssh.ParsePrivateKey(privateKey)
	}
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, fmt.Errorf("signing key: it is protected by a passphrase; give the passphrase file")
	case err != nil:
		// x/crypto's messages never quote the key or the passphrase.
		return nil, fmt.Errorf("signing key: not a usable SSH private key: %w", err)
	}
	return func(msg []byte) (string, error) { return sshSign(s, msg) }, nil
}

func sshSign(s ssh.Signer, msg []byte) (string, error) {
	h := sha512.Sum512(msg)
	signed := append([]byte(sshsigMagic), ssh.Marshal(sshsigSigned{Namespace: sshsigNamespace, HashAlgorithm: "sha512", Hash: h[:]})...)
	var sig *ssh.Signature
	var err error
	if as, ok := s.(ssh.AlgorithmSigner); ok && s.PublicKey().Type() == ssh.KeyAlgoRSA {
		sig, err = as.SignWithAlgorithm(rand.Reader, signed, ssh.KeyAlgoRSASHA512)
	} else {
		sig, err = s.Sign(rand.Reader, signed)
	}
	if err != nil {
		return "", err
	}
	blob := append([]byte(sshsigMagic), ssh.Marshal(sshsigBlob{
		Version: sshsigVersion, PublicKey: s.PublicKey().Marshal(), Namespace: sshsigNamespace,
		HashAlgorithm: "sha512", Signature: ssh.Marshal(sig),
	})...)
	var b strings.Builder
	b.WriteString(sshsigBegin + "\n")
	enc := base64.StdEncoding.EncodeToString(blob)
	for len(enc) > 70 {
		b.WriteString(enc[:70] + "\n")
		enc = enc[70:]
	}
	b.WriteString(enc + "\n" + sshsigEnd + "\n")
	return b.String(), nil
}

// verifySSH checks an armored SSH signature of msg in the "git" namespace
// and returns the public key that made it; the caller decides whether it is
// trusted.
func verifySSH(armored string, msg []byte) (ssh.PublicKey, error) {
	body := strings.TrimSpace(armored)
	if !strings.HasPrefix(body, sshsigBegin) || !strings.HasSuffix(body, sshsigEnd) {
		return nil, errors.New("not an armored SSH signature")
	}
	body = strings.Join(strings.Fields(strings.TrimSuffix(strings.TrimPrefix(body, sshsigBegin), sshsigEnd)), "")
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("SSH signature: %w", err)
	}
	rest, ok := bytes.CutPrefix(raw, []byte(sshsigMagic))
	if !ok {
		return nil, errors.New("SSH signature: no SSHSIG preamble")
	}
	var b sshsigBlob
	if err := ssh.Unmarshal(rest, &b); err != nil {
		return nil, fmt.Errorf("SSH signature: %w", err)
	}
	if b.Version != sshsigVersion {
		return nil, fmt.Errorf("SSH signature: version %d, want %d", b.Version, sshsigVersion)
	}
	if b.Namespace != sshsigNamespace {
		return nil, fmt.Errorf("SSH signature: namespace %q, want %q (a signature made for something else than a Git object)", b.Namespace, sshsigNamespace)
	}
	var h hash.Hash
	switch b.HashAlgorithm {
	case "sha512":
		h = sha512.New()
	case "sha256":
		h = sha256.New()
	default:
		return nil, fmt.Errorf("SSH signature: hash algorithm %q is not allowed (sha256, sha512)", b.HashAlgorithm)
	}
	pub, err := ssh.ParsePublicKey(b.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("SSH signature: public key: %w", err)
	}
	var sig ssh.Signature
	if err := ssh.Unmarshal(b.Signature, &sig); err != nil {
		return nil, fmt.Errorf("SSH signature: %w", err)
	}
	if pub.Type() == ssh.KeyAlgoRSA && sig.Format == ssh.KeyAlgoRSA {
		// PROTOCOL.sshsig: SHA-1 RSA signatures are not accepted.
		return nil, errors.New("SSH signature: ssh-rsa (SHA-1) signatures are not accepted; sign with rsa-sha2-512")
	}
	h.Write(msg)
	signed := append([]byte(sshsigMagic), ssh.Marshal(sshsigSigned{Namespace: b.Namespace, Reserved: b.Reserved, HashAlgorithm: b.HashAlgorithm, Hash: h.Sum(nil)})...)
	if err := pub.Verify(signed, &sig); err != nil {
		return nil, fmt.Errorf("SSH signature does not match the commit: %w", err)
	}
	return pub, nil
}
