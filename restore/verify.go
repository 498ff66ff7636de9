package restore

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/overlay"
)

// Mismatch is a captured field the cluster does not hold as Git does.
type Mismatch struct {
	Object string
	File   string
	Path   string
	Want   any
	// Got is nil when the field (or the object) is absent.
	Got any
}

// Verification is the check of every captured field against the cluster.
type Verification struct {
	Objects    int
	Fields     int
	Mismatches []Mismatch
}

// identityLeaves are not captured state: every file names its object.
var identityLeaves = map[string]bool{"apiVersion": true, "kind": true, "metadata.name": true, "metadata.namespace": true}

// Verify checks every captured field of the overlay's patches, resources,
// status and unmatched files against the live objects. Live objects may hold more
// (defaults, fields the capture excluded); every captured value must be there.
func Verify(ctx context.Context, c *Cluster, o *overlay.Overlay) Verification {
	var v Verification
	check := func(files []overlay.File, statusOnly bool) {
		found := make([]Verification, len(files))
		each(len(files), func(i int) { found[i] = verifyOne(ctx, c, files[i], statusOnly) })
		for _, f := range found {
			v.Objects += f.Objects
			v.Fields += f.Fields
			v.Mismatches = append(v.Mismatches, f.Mismatches...)
		}
	}
	check(o.Patches, false)
	check(o.Resources, false)
	check(o.Status, true)
	check(o.Unmatched, false)
	return v
}

// verifyOne checks one file's captured leaves against its live object.
func verifyOne(ctx context.Context, c *Cluster, f overlay.File, statusOnly bool) Verification {
	v := Verification{Objects: 1}
	var want []Leaf
	for _, l := range capture.Leaves("", f.Object.Object) {
		if identityLeaves[l.Path] || (statusOnly && (len(l.At) == 0 || l.At[0] != "status")) {
			continue
		}
		want = append(want, l)
	}
	v.Fields = len(want)
	res, err := c.resource(f.Object, f.Namespace())
	var live map[string]any
	if err == nil {
		u, getErr := res.Get(ctx, f.Name(), metav1.GetOptions{})
		if err = getErr; err == nil {
			live = u.Object
		}
	}
	if err != nil {
		got := any(nil)
		if !apierrors.IsNotFound(err) {
			got = fmt.Sprintf("error: %v", err)
		}
		v.Mismatches = append(v.Mismatches, Mismatch{Object: f.Describe(), File: f.Path, Path: "(object)", Want: "exists", Got: got})
		return v
	}
	for _, l := range want {
		got, ok := capture.Get(live, l.At)
		if !ok || !contains(got, l.Value) {
			v.Mismatches = append(v.Mismatches, Mismatch{Object: f.Describe(), File: f.Path, Path: l.Path, Want: l.Value, Got: got})
		}
	}
	return v
}
