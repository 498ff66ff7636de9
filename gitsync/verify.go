package gitsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"
)

// Provenance: `restore` and restore-on-start can require that every commit
// that changed the overlay since the base carries a trusted signature.
// Flux's GitRepository verification (fluxcd/source-controller,
// internal/controller/gitrepository_controller.go, verifySignature) checks
// the signature of the HEAD commit (and/or its tag) against the OpenPGP key
// rings of a Secret and refuses the revision otherwise. A side branch is
// written commit by commit, so driftback checks every commit that touched
// the overlay's directory since the base, not only the tip: an unsigned
// commit under a signed one would otherwise slip through. Keys may be
// OpenPGP or SSH (what GitHub and GitLab verify).

// ErrUnverified marks a branch refused for its provenance.
var ErrUnverified = errors.New("provenance not verified")

// maxVerifyWalk bounds the commits read when verifying a branch.
const maxVerifyWalk = 100000

// TrustedKeys are the keys whose signatures restore accepts.
type TrustedKeys struct {
	pgp openpgp.EntityList
	ssh []ssh.PublicKey
}

// Len is the number of trusted keys.
func (k *TrustedKeys) Len() int { return len(k.pgp) + len(k.ssh) }

// LoadTrustedKeys reads a file of trusted public keys: armored OpenPGP
// public key blocks (gpg --export --armor) and SSH public keys one per line
// (authorized_keys format; # comments and blank lines skipped), mixed freely.
func LoadTrustedKeys(name string) (*TrustedKeys, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("--verify-signatures: %w", err)
	}
	k, err := ParseTrustedKeys(b)
	if err != nil {
		return nil, fmt.Errorf("--verify-signatures %s: %w", name, err)
	}
	return k, nil
}

// ParseTrustedKeys parses what LoadTrustedKeys reads.
func ParseTrustedKeys(b []byte) (*TrustedKeys, error) {
	const pgpBegin, pgpEnd = "-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----END PGP PUBLIC KEY BLOCK-----"
	if bytes.Contains(b, []byte("PRIVATE KEY")) {
		return nil, errors.New("holds a private key: give the public keys only (gpg --export --armor, or the .pub file)")
	}
	k := &TrustedKeys{}
	text := string(b)
	var rest strings.Builder
	for {
		i := strings.Index(text, pgpBegin)
		if i < 0 {
			rest.WriteString(text)
			break
		}
		j := strings.Index(text[i:], pgpEnd)
		if j < 0 {
			return nil, fmt.Errorf("an OpenPGP public key block has no %s line", pgpEnd)
		}
		rest.WriteString(text[:i])
		block := text[i : i+j+len(pgpEnd)]
		ring, err := openpgp.ReadArmoredKeyRing(strings.NewReader(block))
		if err != nil {
			return nil, fmt.Errorf("an OpenPGP public key block does not parse: %w", err)
		}
		k.pgp = append(k.pgp, ring...)
		text = text[i+j+len(pgpEnd):]
	}
	for n, line := range strings.Split(rest.String(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("line %d: neither an SSH public key (authorized_keys format: ssh-ed25519 AAAA... comment) nor part of an armored OpenPGP public key block: %w", n+1, err)
		}
		k.ssh = append(k.ssh, pub)
	}
	if k.Len() == 0 {
		return nil, errors.New("holds no key: give armored OpenPGP public keys and/or SSH public keys (authorized_keys lines)")
	}
	return k, nil
}

// Verified is one commit VerifyBranch accepted and the key that signed it.
type Verified struct {
	Commit Hash
	Signer string
}

// ReadBranchVerified is ReadBranch that first checks the provenance of dir:
// every commit reachable from the branch's tip but not from base's that
// changed dir must carry a good signature by one of keys. The first that
// does not is named in an ErrUnverified error, and nothing is returned to
// read. base may equal branch (direct mode): then every commit of the
// branch that changed dir is checked.
func (r *Repo) ReadBranchVerified(ctx context.Context, branch, base, dir string, keys *TrustedKeys) (fsys fs.FS, tip Hash, verified []Verified, err error) {
	r.mu.Lock() // the object storage is shared with Publish, Lag and the other readers
	defer r.mu.Unlock()
	err = r.again(func() error {
		var err error
		fsys, tip, verified, err = r.readBranchVerified(ctx, branch, base, dir, keys)
		return err
	})
	return fsys, tip, verified, err
}

func (r *Repo) readBranchVerified(ctx context.Context, branch, base, dir string, keys *TrustedKeys) (fs.FS, Hash, []Verified, error) {
	if err := validPath(dir); err != nil {
		return nil, "", nil, err
	}
	if keys == nil || keys.Len() == 0 {
		return nil, "", nil, fmt.Errorf("%w: no trusted keys", ErrUnverified)
	}
	want := []string{branch}
	if base != "" && base != branch {
		want = append(want, base)
	}
	tips, err := r.fetch(ctx, want...)
	if err != nil {
		return nil, "", nil, err
	}
	tip, ok := tips[branch]
	if !ok {
		return nil, "", nil, fmt.Errorf("branch %s: %w", branch, ErrNoBranch)
	}
	c, err := r.commit(tip)
	if err != nil {
		return nil, "", nil, err
	}
	stop := map[plumbing.Hash]bool{}
	if b, ok := tips[base]; ok && base != branch {
		bc, err := r.commit(b)
		if err != nil {
			return nil, "", nil, err
		}
		mbs, err := c.MergeBase(bc)
		if err != nil {
			return nil, "", nil, fmt.Errorf("merge base of %s and %s: %w", branch, base, err)
		}
		for _, m := range mbs {
			stop[m.Hash] = true
		}
	}
	verified, err := r.verifySince(c, stop, dir, keys)
	if err != nil {
		return nil, "", nil, err
	}
	t, err := c.Tree()
	if err != nil {
		return nil, "", nil, fmt.Errorf("read tree of %s: %w", tip, err)
	}
	return r.locked(t), hashOf(tip), verified, nil
}

// verifySince walks every commit from tip (all parents) until the stop
// commits and checks the signature of each that changed dir.
func (r *Repo) verifySince(tip *object.Commit, stop map[plumbing.Hash]bool, dir string, keys *TrustedKeys) ([]Verified, error) {
	parts := strings.Split(dir, "/")
	dirOf := func(c *object.Commit) (plumbing.Hash, error) {
		e, ok, err := r.tw.lookup(c.TreeHash, parts)
		if err != nil || !ok || e.Mode != filemode.Dir {
			return plumbing.ZeroHash, err
		}
		return e.Hash, nil
	}
	var out []Verified
	seen := map[plumbing.Hash]bool{tip.Hash: true}
	queue := []*object.Commit{tip}
	for n := 0; len(queue) > 0; n++ {
		if n == maxVerifyWalk {
			return nil, fmt.Errorf("%w: more than %d commits since the base; cannot check them all", ErrUnverified, maxVerifyWalk)
		}
		c := queue[0]
		queue = queue[1:]
		if stop[c.Hash] {
			continue
		}
		own, err := dirOf(c)
		if err != nil {
			return nil, err
		}
		touched := len(c.ParentHashes) == 0 && !own.IsZero()
		for i, ph := range c.ParentHashes {
			p, err := r.commit(ph)
			if err != nil {
				return nil, err
			}
			pd, err := dirOf(p)
			if err != nil {
				return nil, err
			}
			// A merge that took dir unchanged from one parent did not
			// write it: that parent's commits are checked themselves.
			if i == 0 {
				touched = pd != own
			} else if pd == own {
				touched = false
			}
			if !seen[ph] {
				seen[ph] = true
				queue = append(queue, p)
			}
		}
		if !touched {
			continue
		}
		who, err := keys.verifyCommit(c)
		if err != nil {
			return nil, fmt.Errorf("%w: commit %s (%s <%s>, %q) changed %s and %v; restore reads only a branch whose every change to the overlay since the base is signed by a trusted key",
				ErrUnverified, c.Hash, c.Author.Name, c.Author.Email, subject(c.Message), dir, err)
		}
		out = append(out, Verified{Commit: hashOf(c.Hash), Signer: who})
	}
	return out, nil
}

func subject(msg string) string {
	s, _, _ := strings.Cut(msg, "\n")
	if len(s) > 72 {
		s = s[:69] + "..."
	}
	return s
}

// verifyCommit checks c's signature against the keys and names the signer.
func (k *TrustedKeys) verifyCommit(c *object.Commit) (string, error) {
	sig := strings.TrimSpace(c.PGPSignature)
	if sig == "" {
		return "", errors.New("carries no signature")
	}
	o := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(o); err != nil {
		return "", err
	}
	rd, err := o.Reader()
	if err != nil {
		return "", err
	}
	msg, err := io.ReadAll(rd)
	if err != nil {
		return "", err
	}
	switch {
	case strings.HasPrefix(sig, "-----BEGIN PGP SIGNATURE-----"):
		e, err := openpgp.CheckArmoredDetachedSignature(k.pgp, bytes.NewReader(msg), strings.NewReader(sig), nil)
		if errors.Is(err, pgperrors.ErrUnknownIssuer) {
			return "", errors.New("is signed (OpenPGP) by a key that is not trusted")
		}
		if err != nil {
			return "", fmt.Errorf("has a bad OpenPGP signature: %w", err)
		}
		for name := range e.Identities {
			return fmt.Sprintf("OpenPGP %X (%s)", e.PrimaryKey.Fingerprint, name), nil
		}
		return fmt.Sprintf("OpenPGP %X", e.PrimaryKey.Fingerprint), nil
	case strings.HasPrefix(sig, sshsigBegin):
		pub, err := verifySSH(sig, msg)
		if err != nil {
			return "", fmt.Errorf("has a bad SSH signature: %w", err)
		}
		for _, t := range k.ssh {
			if bytes.Equal(t.Marshal(), pub.Marshal()) {
				return "SSH " + ssh.FingerprintSHA256(pub), nil
			}
		}
		return "", fmt.Errorf("is signed (SSH) by a key that is not trusted (%s)", ssh.FingerprintSHA256(pub))
	default:
		return "", errors.New("carries a signature of a kind restore cannot check (OpenPGP and SSH are)")
	}
}
