// Package sops writes and reads the SOPS file format (github.com/getsops/sops,
// v3) with age recipients, for the fields a rule marks `encrypt: true`. The
// files it writes are the ones `sops --encrypt --age R --encrypted-regex RE
// --mac-only-encrypted` writes, so Flux's kustomize-controller (its SOPS
// decryption with an age key in the Kustomization's decryption secret) and
// Argo CD with KSOPS decrypt them; e2e/sops proves it with sops' own decrypt
// package. It is written here, over filippo.io/age, because sops/v3 pulls
// the SDK of every cloud's KMS into the binary.
//
// The format, from sops' source (sops.go Tree.Encrypt/Decrypt, aes/cipher.go,
// stores/stores.go, age/keysource.go, cmd/sops/common/common.go):
//   - each selected leaf becomes ENC[AES256_GCM,data:…,iv:…,tag:…,type:str|int|float|bool],
//     AES-256-GCM with a 32-byte nonce under one random 32-byte data key; the
//     additional data is the path of map keys to the leaf joined by ":" with
//     a trailing ":" (list indexes are not part of it); empty strings stay "";
//   - a leaf is selected when any map key on its path matches
//     sops.encrypted_regex;
//   - sops.mac is the upper-case hex SHA-512 over the selected leaves'
//     plaintext in file order (mac_only_encrypted: the hash starts with a
//     fixed 32-byte sequence), itself encrypted with the data key and the
//     lastmodified time (RFC 3339) as additional data;
//   - sops.age lists, per recipient, the data key encrypted with age,
//     ASCII-armored.
package sops

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// MetadataKey is the top-level key holding the SOPS metadata.
const MetadataKey = "sops"

// version is the sops version the files claim: mac_only_encrypted needs 3.9.
const version = "3.9.0"

// macOnlyEncryptedInit starts the MAC when mac_only_encrypted is set
// (sops.go, MACOnlyEncryptedInitialization).
var macOnlyEncryptedInit = []byte{0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0xb, 0xb, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69}

// ParseRecipients reads age public keys (age1…).
func ParseRecipients(keys []string) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, k := range keys {
		r, err := age.ParseX25519Recipient(strings.TrimSpace(k))
		if err != nil {
			return nil, fmt.Errorf("age recipient %q: %w (want an age public key, age1…)", k, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// ParseIdentities reads an age identity file (AGE-SECRET-KEY-1… lines, as
// age-keygen writes and SOPS_AGE_KEY_FILE names).
func ParseIdentities(r io.Reader) ([]age.Identity, error) {
	ids, err := age.ParseIdentities(r)
	if err != nil {
		// age's error may quote the line: it would be the secret key.
		return nil, errors.New("not an age identity file (AGE-SECRET-KEY-1… lines, as age-keygen writes)")
	}
	return ids, nil
}

// KeyRegex is the encrypted_regex selecting the given map keys exactly.
func KeyRegex(keys []string) string {
	q := make([]string, 0, len(keys))
	seen := map[string]bool{}
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			q = append(q, regexp.QuoteMeta(k))
		}
	}
	sort.Strings(q)
	return "^(" + strings.Join(q, "|") + ")$"
}

// Encrypt encrypts, in doc (a JSON-like tree; it is changed), every leaf
// below a map key named in keys, for the recipients, and adds the sops
// metadata. recipients are the age public keys as written in the config.
func Encrypt(doc map[string]any, keys []string, recipients []string, now time.Time) error {
	if len(recipients) == 0 {
		return errors.New("sops: no age recipient to encrypt for")
	}
	if _, ok := doc[MetadataKey]; ok {
		return errors.New("sops: the document has a sops key already")
	}
	rs, err := ParseRecipients(recipients)
	if err != nil {
		return err
	}
	re := KeyRegex(keys)
	sel := regexp.MustCompile(re)
	dataKey := make([]byte, 32)
	if _, err := rand.Read(dataKey); err != nil {
		return err
	}
	mac := sha512.New()
	mac.Write(macOnlyEncryptedInit)
	out, err := walk(doc, nil, false, sel, func(v any, path []string) (any, error) {
		plain, typ, err := toPlain(v)
		if err != nil {
			return nil, fmt.Errorf("sops: %s: %w", strings.Join(path, "."), err)
		}
		mac.Write(macBytes(v, plain))
		if plain == "" && typ == "str" {
			return "", nil
		}
		return encryptValue([]byte(plain), typ, dataKey, strings.Join(path, ":")+":")
	})
	if err != nil {
		return err
	}
	for k, v := range out.(map[string]any) {
		doc[k] = v
	}
	ts := now.UTC().Format(time.RFC3339)
	encMAC, err := encryptValue([]byte(macHex(mac)), "str", dataKey, ts)
	if err != nil {
		return err
	}
	var ages []any
	for i, r := range rs {
		var buf bytes.Buffer
		aw := armor.NewWriter(&buf)
		w, err := age.Encrypt(aw, r)
		if err != nil {
			return fmt.Errorf("sops: age: %w", err)
		}
		if _, err := w.Write(dataKey); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		if err := aw.Close(); err != nil {
			return err
		}
		ages = append(ages, map[string]any{"recipient": strings.TrimSpace(recipients[i]), "enc": buf.String()})
	}
	doc[MetadataKey] = map[string]any{
		"age":                ages,
		"lastmodified":       ts,
		"mac":                encMAC,
		"encrypted_regex":    re,
		"mac_only_encrypted": true,
		"version":            version,
	}
	return nil
}

// IsEncrypted reports whether doc carries sops metadata.
func IsEncrypted(doc map[string]any) bool {
	_, ok := doc[MetadataKey].(map[string]any)
	return ok
}

// ErrNoIdentity is returned when a document is encrypted and no identity
// was given, or none of them is one of its recipients.
var ErrNoIdentity = errors.New("encrypted with SOPS for age recipients, and no given age identity matches (pass --age-identity-file or set SOPS_AGE_KEY_FILE)")

// Decrypt decrypts doc in place (removing the sops metadata) with the first
// identity that opens its data key, and checks its MAC. A document without
// sops metadata is left as it is.
func Decrypt(doc map[string]any, ids []age.Identity) error {
	md, ok := doc[MetadataKey].(map[string]any)
	if !ok {
		return nil
	}
	if len(ids) == 0 {
		return ErrNoIdentity
	}
	re, _ := md["encrypted_regex"].(string)
	if re == "" {
		return errors.New("sops: only files with encrypted_regex are read (as driftback writes them)")
	}
	sel, err := regexp.Compile(re)
	if err != nil {
		return fmt.Errorf("sops: encrypted_regex: %w", err)
	}
	onlyEnc, _ := md["mac_only_encrypted"].(bool)
	var dataKey []byte
	ages, _ := md["age"].([]any)
	for _, a := range ages {
		m, _ := a.(map[string]any)
		enc, _ := m["enc"].(string)
		r, err := age.Decrypt(armor.NewReader(strings.NewReader(enc)), ids...)
		if err != nil {
			continue
		}
		if dataKey, err = io.ReadAll(r); err == nil && len(dataKey) == 32 {
			break
		}
		dataKey = nil
	}
	if dataKey == nil {
		return ErrNoIdentity
	}
	mac := sha512.New()
	if onlyEnc {
		mac.Write(macOnlyEncryptedInit)
	}
	delete(doc, MetadataKey)
	out, err := walk(doc, nil, false, sel, func(v any, path []string) (any, error) {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("sops: %s: an encrypted value must be a string", strings.Join(path, "."))
		}
		if s == "" {
			return "", nil
		}
		plain, err := decryptValue(s, dataKey, strings.Join(path, ":")+":")
		if err != nil {
			return nil, fmt.Errorf("sops: %s: %w", strings.Join(path, "."), err)
		}
		p, _, _ := toPlain(plain)
		mac.Write(macBytes(plain, p))
		return plain, nil
	})
	if err != nil {
		doc[MetadataKey] = md
		return err
	}
	if !onlyEnc {
		doc[MetadataKey] = md
		return errors.New("sops: only files with mac_only_encrypted are read (as driftback writes them)")
	}
	ts, _ := md["lastmodified"].(string)
	encMAC, _ := md["mac"].(string)
	want, err := decryptValue(encMAC, dataKey, ts)
	if err != nil || want != macHex(mac) {
		doc[MetadataKey] = md
		return errors.New("sops: the MAC does not match: the file was changed after it was encrypted")
	}
	for k, v := range out.(map[string]any) {
		doc[k] = v
	}
	return nil
}

// walk visits the leaves in the order sops reads them from the YAML
// driftback writes (map keys sorted, as sigs.k8s.io/yaml emits them) and
// replaces the selected ones.
func walk(v any, path []string, selected bool, sel *regexp.Regexp, f func(any, []string) (any, error)) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(map[string]any, len(t))
		for _, k := range keys {
			if len(path) == 0 && k == MetadataKey {
				out[k] = t[k]
				continue
			}
			nv, err := walk(t[k], append(append([]string(nil), path...), k), selected || sel.MatchString(k), sel, f)
			if err != nil {
				return nil, err
			}
			out[k] = nv
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			nv, err := walk(e, path, selected, sel, f)
			if err != nil {
				return nil, err
			}
			out[i] = nv
		}
		return out, nil
	case nil:
		return nil, nil
	default:
		if !selected {
			return v, nil
		}
		return f(v, path)
	}
}

// toPlain is a leaf's plaintext and sops type (aes/cipher.go, Encrypt).
func toPlain(v any) (string, string, error) {
	switch t := v.(type) {
	case string:
		return t, "str", nil
	case bool:
		return strconv.FormatBool(t), "bool", nil
	case int:
		return strconv.Itoa(t), "int", nil
	case int64:
		return strconv.FormatInt(t, 10), "int", nil
	case float64:
		if t == float64(int64(t)) && t < 1e15 && t > -1e15 {
			// JSON decoding gives float64 for every number; sops' YAML
			// store reads an integer literal as int.
			return strconv.FormatInt(int64(t), 10), "int", nil
		}
		return strconv.FormatFloat(t, 'f', -1, 64), "float", nil
	}
	return "", "", fmt.Errorf("cannot encrypt a %T", v)
}

// macBytes is what sops hashes for a value (sops.go ToBytes): booleans as
// True/False.
func macBytes(v any, plain string) []byte {
	if b, ok := v.(bool); ok {
		if b {
			return []byte("True")
		}
		return []byte("False")
	}
	return []byte(plain)
}

func macHex(h hash.Hash) string { return strings.ToUpper(fmt.Sprintf("%x", h.Sum(nil))) }

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithNonceSize(b, 32)
}

func encryptValue(plain []byte, typ string, key []byte, ad string) (string, error) {
	g, err := gcm(key)
	if err != nil {
		return "", err
	}
	iv := make([]byte, 32)
	if _, err := rand.Read(iv); err != nil {
		return "", err
	}
	sealed := g.Seal(nil, iv, plain, []byte(ad))
	data, tag := sealed[:len(sealed)-g.Overhead()], sealed[len(sealed)-g.Overhead():]
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("ENC[AES256_GCM,data:%s,iv:%s,tag:%s,type:%s]", b64(data), b64(iv), b64(tag), typ), nil
}

var encValue = regexp.MustCompile(`^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]`)

func decryptValue(s string, key []byte, ad string) (any, error) {
	m := encValue.FindStringSubmatch(s)
	if m == nil {
		return nil, errors.New("not a SOPS encrypted value")
	}
	var parts [3][]byte
	for i := range parts {
		b, err := base64.StdEncoding.DecodeString(m[i+1])
		if err != nil {
			return nil, errors.New("not a SOPS encrypted value: bad base64")
		}
		parts[i] = b
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCMWithNonceSize(b, len(parts[1]))
	if err != nil {
		return nil, err
	}
	plain, err := g.Open(nil, parts[1], append(parts[0], parts[2]...), []byte(ad))
	if err != nil {
		return nil, errors.New("cannot decrypt (wrong key, or the value was moved or changed)")
	}
	switch m[4] {
	case "str":
		return string(plain), nil
	case "int":
		return strconv.ParseInt(string(plain), 10, 64)
	case "float":
		return strconv.ParseFloat(string(plain), 64)
	case "bool":
		return strconv.ParseBool(string(plain))
	}
	return nil, fmt.Errorf("unknown SOPS value type %q", m[4])
}

// Selects reports whether doc has a leaf below one of keys: whether
// Encrypt would encrypt anything.
func Selects(doc map[string]any, keys []string) bool {
	if len(keys) == 0 {
		return false
	}
	sel := regexp.MustCompile(KeyRegex(keys))
	found := false
	_, _ = walk(doc, nil, false, sel, func(v any, _ []string) (any, error) {
		found = true
		return v, nil
	})
	return found
}
