package restore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/overlay"
)

// This is a small server-side applier on the dynamic client, in the way
// Flux's kustomize-controller applies: forced server-side apply under one
// field manager, CRDs and Namespaces first and waited for, then the rest.
// github.com/fluxcd/pkg/ssa is not used: its v0.79+ needs Go 1.27, and v0.78
// moves k8s.io/kube-openapi and k8s.io/utils and pulls in kubectl.

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// FieldManager owns the applied fields. Default: the first default GitOps
	// manager (capture.ApplyManager), so that the rebuilt cluster's capture
	// tells Git's fields from runtime state as it did in the lost cluster.
	FieldManager string
	// Wait bounds the wait for CRDs to be established. Default 1 minute.
	Wait time.Duration
	// Poll is the pause between checks. Default 200ms.
	Poll time.Duration
}

// SplitYAML decodes a multi-document YAML stream (a kustomize build).
func SplitYAML(b []byte) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	var out []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("split YAML stream: %w", err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		u, err := overlay.DecodeObject(doc)
		if err != nil {
			return nil, fmt.Errorf("object %d of the stream: %w", len(out)+1, err)
		}
		out = append(out, u)
	}
}

// Apply server-side applies objs in three stages, CRDs and Namespaces first
// (CRDs waited for until established, so the rest can be mapped), then
// storage classes, volumes and claims, then the rest, and
// returns the objects applied. It goes on past an object that fails and
// returns every failure joined.
func Apply(ctx context.Context, c *Cluster, objs []*unstructured.Unstructured, opts ApplyOptions) ([]string, error) {
	if opts.FieldManager == "" {
		opts.FieldManager = capture.ApplyManager(nil)
	}
	if opts.Wait <= 0 {
		opts.Wait = time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = 200 * time.Millisecond
	}
	var first, storage, rest []*unstructured.Unstructured
	for _, u := range objs {
		switch u.GroupVersionKind().GroupKind().String() {
		case "CustomResourceDefinition.apiextensions.k8s.io", "Namespace":
			first = append(first, u)
		case "StorageClass.storage.k8s.io", "PersistentVolume", "PersistentVolumeClaim":
			storage = append(storage, u)
		default:
			rest = append(rest, u)
		}
	}
	var applied []string
	var errs []error
	applyAll := func(us []*unstructured.Unstructured) {
		errOf := make([]error, len(us))
		each(len(us), func(i int) { errOf[i] = applyOne(ctx, c, us[i], opts.FieldManager) })
		for i, u := range us {
			if errOf[i] != nil {
				errs = append(errs, errOf[i])
				continue
			}
			applied = append(applied, overlay.ObjectName(u.GroupVersionKind().GroupKind().String(), u.GetNamespace(), u.GetName()))
		}
	}
	applyAll(first)
	for _, u := range first {
		if u.GetKind() != "CustomResourceDefinition" {
			continue
		}
		if err := waitEstablished(ctx, c, u.GetName(), opts); err != nil {
			errs = append(errs, err)
		}
	}
	c.Mapper.Reset() // the new CRDs' kinds
	// Volumes and claims before the workloads, as Argo CD (gitops-engine
	// pkg/sync/sync_tasks.go, kindOrder) and Flux (fluxcd/pkg/ssa, objects
	// sorted by kind) order them: a StatefulSet applied first would have
	// its controller create an empty claim where the recorded one, bound to
	// the old volume, belongs.
	applyAll(storage)
	applyAll(rest)
	return applied, errors.Join(errs...)
}

func applyOne(ctx context.Context, c *Cluster, u *unstructured.Unstructured, manager string) error {
	res, err := c.resource(u, u.GetNamespace())
	if err != nil {
		return fmt.Errorf("apply %s/%s: %w", u.GetKind(), u.GetName(), err)
	}
	_, err = res.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: manager, Force: true})
	if err != nil {
		return fmt.Errorf("apply %s/%s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}

// waitEstablished polls a CRD until its Established condition is True.
func waitEstablished(ctx context.Context, c *Cluster, name string, opts ApplyOptions) error {
	deadline := time.Now().Add(opts.Wait)
	for {
		crd, err := c.Dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("wait for CRD %s: %w", name, err)
		}
		if err == nil && established(crd) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("CRD %s not established after %s", name, opts.Wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(opts.Poll):
		}
	}
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
