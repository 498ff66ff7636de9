package live

import (
	"context"
	"fmt"
	"log/slog"
	"path"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/driftback/driftback/capture"
)

// DiscoverOptions select what Discover lists.
type DiscoverOptions struct {
	// APIGroups and Kinds are globs; empty lists match everything.
	APIGroups []string
	Kinds     []string
	// ExcludeKinds are globs of kinds not worth listing (events, leases).
	ExcludeKinds []string
	// IncludeOwned also reports controller-owned objects, which rules skip
	// by default (their controller recreates them).
	IncludeOwned bool
	// GitOpsManagers are the field managers whose fields are in Git.
	GitOpsManagers []string
}

// Discover lists every object of the selected kinds once and reports the
// fields runtime managers own that no GitOps manager does. Kinds that cannot
// be listed (RBAC) are logged and skipped: discover is a survey, and a
// partial one is still useful.
func (c *Cluster) Discover(ctx context.Context, o DiscoverOptions) (*capture.UnownedReport, error) {
	probe := capture.Rule{Match: capture.Match{APIGroups: o.APIGroups, Kinds: o.Kinds}}
	res, err := c.Resources([]capture.Rule{probe})
	if err != nil {
		return nil, err
	}
	report := capture.NewUnownedReport(o.GitOpsManagers)
	for _, r := range res {
		if excluded(o.ExcludeKinds, r.Kind) {
			continue
		}
		add := func(u *unstructured.Unstructured) {
			if o.IncludeOwned || !capture.HasControllerOwner(u) {
				report.Add(u)
			}
		}
		var err error
		if r.GVR.Group == "" && r.Kind == "Secret" {
			// The report never shows a Secret's values, so they are not
			// even fetched: managedFields, in the metadata, say which
			// fields a manager wrote.
			err = c.eachMetadata(ctx, r, add)
		} else {
			err = c.eachObject(ctx, r.GVR, add)
		}
		if apierrors.IsForbidden(err) || apierrors.IsMethodNotSupported(err) || apierrors.IsNotFound(err) {
			slog.Warn("cannot list; skipped", "resource", r.GVR.String(), "err", err)
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	return report, nil
}

// eachMetadata lists a resource's objects as metadata only, in pages.
func (c *Cluster) eachMetadata(ctx context.Context, r Resource, fn func(*unstructured.Unstructured)) error {
	gvk := r.GVR.GroupVersion().WithKind(r.Kind)
	opts := metav1.ListOptions{Limit: 500}
	for {
		l, err := c.meta.Resource(r.GVR).List(ctx, opts)
		if err != nil {
			return fmt.Errorf("list %s: %w", r.GVR, err)
		}
		for i := range l.Items {
			md, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&l.Items[i].ObjectMeta)
			if err != nil {
				return fmt.Errorf("list %s: convert metadata of %s: %w", r.GVR, l.Items[i].Name, err)
			}
			u := &unstructured.Unstructured{Object: map[string]any{"metadata": md}}
			u.SetGroupVersionKind(gvk)
			fn(u)
		}
		if l.GetContinue() == "" {
			return nil
		}
		opts.Continue = l.GetContinue()
	}
}

func excluded(globs []string, kind string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, kind); ok {
			return true
		}
	}
	return false
}
