package live

import (
	"context"
	"log/slog"
	"path"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

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
		err := c.eachObject(ctx, r.GVR, func(u *unstructured.Unstructured) {
			if o.IncludeOwned || !capture.HasControllerOwner(u) {
				report.Add(u)
			}
		})
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

func excluded(globs []string, kind string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, kind); ok {
			return true
		}
	}
	return false
}
