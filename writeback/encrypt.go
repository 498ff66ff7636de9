package writeback

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"time"

	"filippo.io/age"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/render"
	"github.com/driftback/driftback/sops"
)

// Fields a rule marks encrypt: true are written SOPS-encrypted for the
// configured age recipients (package sops), after render and before the
// build check. Encryption is random (data key, nonces, age), so a file
// whose plaintext did not change keeps its previous bytes: from this
// process's memory, or, when the writer holds an age identity, from the
// branch (decrypted and compared). Otherwise an unchanged value would make
// a commit on every publish.

type encrypted struct {
	sum [32]byte
	out []byte
}

// encryptTree encrypts, in tree, the files of captures with EncryptKeys,
// but for those in skip (indexes into caps): their files are the branch's,
// carried as they are.
func (w *Writer) encryptTree(parent fs.FS, dir string, tree render.Tree, caps []*capture.Packed, skip map[int]bool) error {
	recipients := w.cfg.Encryption.Age.Recipients
	for i, c := range caps {
		if len(c.EncryptKeys) == 0 || skip[i] {
			continue
		}
		key, legacy := overlay.FileName(c.Ref), overlay.LegacyFileName(c.Ref)
		for _, d := range overlay.ObjectDirs {
			p := path.Join(d, key)
			b, ok := tree[p]
			if !ok {
				continue
			}
			out, err := w.encryptFile(parent, path.Join(dir, p), path.Join(dir, d, legacy), b, c.EncryptKeys, recipients)
			if err != nil {
				return fmt.Errorf("encrypt %s: %w", p, err)
			}
			tree[p] = out
		}
	}
	return nil
}

// encryptFile encrypts plain, the new content of full, unless the parent's
// file (at full, or at legacy in a branch written before overlay.Bucket)
// already holds it encrypted: the ciphertext only changes with the content.
func (w *Writer) encryptFile(parent fs.FS, full, legacy string, plain []byte, keys, recipients []string) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(plain, &doc); err != nil {
		return nil, err
	}
	if !sops.Selects(doc, keys) {
		return plain, nil
	}
	sum := sha256.Sum256([]byte(string(plain) + "\x00" + strings.Join(keys, ",") + "\x00" + strings.Join(recipients, ",")))
	if e, ok := w.encrypted[full]; ok && e.sum == sum {
		return e.out, nil
	}
	old, err := fs.ReadFile(parent, full)
	if errors.Is(err, fs.ErrNotExist) {
		old, err = fs.ReadFile(parent, legacy)
	}
	if err == nil && len(w.opts.Identities) > 0 && samePlaintext(old, doc, w.opts.Identities) {
		w.remember(full, sum, old)
		return old, nil
	}
	// The header comment (a truncated file's real name) stays in clear.
	var header []byte
	for _, line := range bytes.SplitAfter(plain, []byte("\n")) {
		if !bytes.HasPrefix(line, []byte("#")) {
			break
		}
		header = append(header, line...)
	}
	if err := sops.Encrypt(doc, keys, recipients, time.Now()); err != nil {
		return nil, err
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	out := append(header, b...)
	w.remember(full, sum, out)
	return out, nil
}

func (w *Writer) remember(full string, sum [32]byte, out []byte) {
	if w.encrypted == nil || len(w.encrypted) > 100000 {
		w.encrypted = map[string]encrypted{}
	}
	w.encrypted[full] = encrypted{sum, out}
}

// samePlaintext reports whether the branch's encrypted file old decrypts
// to doc.
func samePlaintext(old []byte, doc map[string]any, ids []age.Identity) bool {
	var prev map[string]any
	if err := yaml.Unmarshal(old, &prev); err != nil || !sops.IsEncrypted(prev) {
		return false
	}
	if err := sops.Decrypt(prev, ids); err != nil {
		return false
	}
	return capture.JSONEqual(prev, doc)
}

// warnWithheld names, once per object and fields, the credential-looking
// values capture left out because no rule encrypts them or allows them in
// clear text.
func (w *Writer) warnWithheld(caps []*capture.Packed) {
	for _, c := range caps {
		if len(c.Withheld) == 0 {
			continue
		}
		gk := c.Ref.Kind
		if c.Ref.Group != "" {
			gk += "." + c.Ref.Group
		}
		obj := overlay.ObjectName(gk, c.Ref.Namespace, c.Ref.Name)
		key := obj + "\x00" + strings.Join(c.Withheld, ",")
		if w.warned[key] {
			continue
		}
		if w.warned == nil || len(w.warned) > 10000 {
			w.warned = map[string]bool{}
		}
		w.warned[key] = true
		slog.Warn("credential-looking fields not written to Git: set encrypt: true on the rule (SOPS for encryption.age.recipients) or allowClearText: true",
			"object", obj, "fields", strings.Join(c.Withheld, ", "), "rules", strings.Join(c.Rules, ","))
	}
}
