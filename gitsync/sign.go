package gitsync

import (
	"bytes"
	"fmt"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// OpenPGPSigner signs commits with the first key of an armored private key
// ring that can sign, decrypting it with passphrase when it is protected.
func OpenPGPSigner(armoredKey []byte, passphrase string) (Signer, error) {
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armoredKey))
	if err != nil {
		return nil, fmt.Errorf("signing key: not an armored OpenPGP key: %w", err)
	}
	var e *openpgp.Entity
	for _, cand := range ring {
		if cand.PrivateKey != nil {
			e = cand
			break
		}
	}
	if e == nil {
		return nil, fmt.Errorf("signing key: holds no private key (export it with gpg --export-secret-keys --armor)")
	}
	if e.PrivateKey.Encrypted {
		if passphrase == "" {
			return nil, fmt.Errorf("signing key: it is protected by a passphrase; give the passphrase file")
		}
		if err := e.DecryptPrivateKeys([]byte(passphrase)); err != nil {
			return nil, fmt.Errorf("signing key: wrong passphrase: %w", err)
		}
	}
	return func(msg []byte) (string, error) {
		var b bytes.Buffer
		if err := openpgp.ArmoredDetachSign(&b, e, bytes.NewReader(msg), nil); err != nil {
			return "", err
		}
		return b.String(), nil
	}, nil
}
