package restore

import (
	"errors"
	"fmt"
	"os"

	"filippo.io/age"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/sops"
)

// LoadIdentities reads the age identity file at path, or, when path is
// empty, the one SOPS_AGE_KEY_FILE names (as sops and Flux do); neither:
// no identity (encrypted files then fail to decrypt, saying so).
func LoadIdentities(path string) ([]age.Identity, error) {
	flag := "--age-identity-file"
	if path == "" {
		path, flag = os.Getenv("SOPS_AGE_KEY_FILE"), "SOPS_AGE_KEY_FILE"
	}
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	defer f.Close()
	ids, err := sops.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return ids, nil
}

// DecryptOverlay decrypts, in place, every file of the overlay that holds
// SOPS-encrypted fields (rules with encrypt: true), with ids.
func DecryptOverlay(o *overlay.Overlay, ids []age.Identity) error {
	var errs []error
	for _, files := range [][]overlay.File{o.Patches, o.Resources, o.Status, o.Unmatched} {
		for _, f := range files {
			if err := sops.Decrypt(f.Object.Object, ids); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.Path, err))
			}
		}
	}
	return errors.Join(errs...)
}

// DecryptObjects decrypts built objects that carry SOPS metadata, as Flux's
// kustomize-controller does after its kustomize build.
func DecryptObjects(objs []*unstructured.Unstructured, ids []age.Identity) error {
	var errs []error
	for _, u := range objs {
		if err := sops.Decrypt(u.Object, ids); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err))
		}
	}
	return errors.Join(errs...)
}
