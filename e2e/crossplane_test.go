package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

var (
	claimGVR = schema.GroupVersionResource{Group: "platform.example.org", Version: "v1alpha1", Resource: "databases"}
	xrGVR    = schema.GroupVersionResource{Group: "platform.example.org", Version: "v1alpha1", Resource: "xdatabases"}
	vpcGVR   = schema.GroupVersionResource{Group: "ec2.aws.upbound.io", Version: "v1beta1", Resource: "vpcs"}
	bktGVR   = schema.GroupVersionResource{Group: "s3.aws.upbound.io", Version: "v1beta1", Resource: "buckets"}
)

const externalName = "crossplane.io/external-name"

// crossplane simulates Crossplane on one plane: the claim binds to a
// composite (XR) under a generated name, the XR composes managed resources
// (MRs) under generated names with ownerReferences and composition labels,
// and the provider creates a cloud resource for an MR without an external
// name or adopts the one it names.
type crossplane struct {
	dyn   dynamic.Interface
	cloud *cloud
	// composed counts XRs and MRs created by composition.
	composed *counter
	provider *counter
}

func (x *crossplane) controllers() []controller {
	return []controller{
		{name: "claim", gvr: claimGVR, reconcile: x.reconcileClaim},
		{name: "composite", gvr: xrGVR, reconcile: x.reconcileXR},
		{name: "provider-vpc", gvr: vpcGVR, reconcile: x.reconcileMR("vpc")},
		{name: "provider-bucket", gvr: bktGVR, reconcile: x.reconcileMR("bucket")},
	}
}

// suffix is Crossplane's random name suffix, deterministic enough here.
func suffix() string { return fmt.Sprintf("%05x", time.Now().UnixNano()&0xfffff) }

func (x *crossplane) reconcileClaim(ctx context.Context, claim *unstructured.Unstructured) error {
	ref, _, _ := unstructured.NestedString(claim.Object, "spec", "resourceRef", "name")
	if ref != "" {
		if _, err := x.dyn.Resource(xrGVR).Get(ctx, ref, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return err
		}
		// Bound to an XR that is gone: compose it again under that name.
		return x.createXR(ctx, claim, ref)
	}
	name := claim.GetName() + "-" + suffix()
	if err := x.createXR(ctx, claim, name); err != nil {
		return err
	}
	_ = unstructured.SetNestedMap(claim.Object, map[string]any{"apiVersion": "platform.example.org/v1alpha1", "kind": "XDatabase", "name": name}, "spec", "resourceRef")
	_, err := x.dyn.Resource(claimGVR).Namespace(claim.GetNamespace()).Update(ctx, claim, metav1.UpdateOptions{FieldManager: "crossplane"})
	return err
}

func (x *crossplane) createXR(ctx context.Context, claim *unstructured.Unstructured, name string) error {
	xr := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "platform.example.org/v1alpha1", "kind": "XDatabase",
		"metadata": map[string]any{"name": name, "labels": map[string]any{
			"crossplane.io/claim-name": claim.GetName(), "crossplane.io/claim-namespace": claim.GetNamespace()}},
		"spec": map[string]any{
			"claimRef":   map[string]any{"apiVersion": claim.GetAPIVersion(), "kind": claim.GetKind(), "name": claim.GetName(), "namespace": claim.GetNamespace()},
			"parameters": claim.Object["spec"].(map[string]any)["parameters"],
		},
	}}
	_, err := x.dyn.Resource(xrGVR).Create(ctx, xr, metav1.CreateOptions{FieldManager: "crossplane"})
	x.composed.inc()
	return err
}

// templates are what the composition makes of one XDatabase.
var templates = []struct {
	gvr  schema.GroupVersionResource
	kind string
}{{vpcGVR, "VPC"}, {bktGVR, "Bucket"}}

func (x *crossplane) reconcileXR(ctx context.Context, xr *unstructured.Unstructured) error {
	refs, _, _ := unstructured.NestedSlice(xr.Object, "spec", "resourceRefs")
	if len(refs) == 0 {
		for _, tm := range templates {
			name := xr.GetName() + "-" + suffix()
			if err := x.compose(ctx, xr, tm.gvr, tm.kind, name); err != nil {
				return err
			}
			refs = append(refs, map[string]any{"apiVersion": tm.gvr.GroupVersion().String(), "kind": tm.kind, "name": name})
		}
		_ = unstructured.SetNestedSlice(xr.Object, refs, "spec", "resourceRefs")
		_, err := x.dyn.Resource(xrGVR).Update(ctx, xr, metav1.UpdateOptions{FieldManager: "crossplane"})
		return err
	}
	for _, r := range refs {
		m := r.(map[string]any)
		tm := templates[0]
		if m["kind"] == templates[1].kind {
			tm = templates[1]
		}
		mr, err := x.dyn.Resource(tm.gvr).Get(ctx, m["name"].(string), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			// A composed resource that is gone is composed again, without an
			// external name: the provider will create a new cloud resource.
			if err := x.compose(ctx, xr, tm.gvr, tm.kind, m["name"].(string)); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if !ownedBy(mr, xr) {
			// Restored without ownerReferences (their UIDs were the lost
			// cluster's): Crossplane adopts its composed resources again.
			mr.SetOwnerReferences([]metav1.OwnerReference{controllerRef(xr)})
			if _, err := x.dyn.Resource(tm.gvr).Update(ctx, mr, metav1.UpdateOptions{FieldManager: "crossplane"}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (x *crossplane) compose(ctx context.Context, xr *unstructured.Unstructured, gvr schema.GroupVersionResource, kind, name string) error {
	mr := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": gvr.GroupVersion().String(), "kind": kind,
		"metadata": map[string]any{"name": name, "labels": map[string]any{
			"crossplane.io/composite":       xr.GetName(),
			"crossplane.io/claim-name":      xr.GetLabels()["crossplane.io/claim-name"],
			"crossplane.io/claim-namespace": xr.GetLabels()["crossplane.io/claim-namespace"]}},
		"spec": map[string]any{"forProvider": map[string]any{"region": "eu-west-1"}},
	}}
	mr.SetOwnerReferences([]metav1.OwnerReference{controllerRef(xr)})
	_, err := x.dyn.Resource(gvr).Create(ctx, mr, metav1.CreateOptions{FieldManager: "crossplane"})
	if err == nil {
		x.composed.inc()
	}
	return err
}

func (x *crossplane) reconcileMR(prefix string) func(ctx context.Context, mr *unstructured.Unstructured) error {
	return func(ctx context.Context, mr *unstructured.Unstructured) error {
		res := x.dyn.Resource(mr.GroupVersionKind().GroupVersion().WithResource(strings.ToLower(mr.GetKind()) + "s"))
		id := mr.GetAnnotations()[externalName]
		if id == "" {
			id = x.cloud.create(mr.GetKind(), prefix)
			ann := mr.GetAnnotations()
			if ann == nil {
				ann = map[string]string{}
			}
			ann[externalName] = id
			mr.SetAnnotations(ann)
			var err error
			if mr, err = res.Update(ctx, mr, metav1.UpdateOptions{FieldManager: "provider-aws"}); err != nil {
				return err
			}
		} else {
			x.cloud.ensure(mr.GetKind(), id)
		}
		if got, _, _ := unstructured.NestedString(mr.Object, "status", "atProvider", "id"); got != id {
			mr.Object["status"] = map[string]any{
				"atProvider": map[string]any{"id": id, "arn": "arn:aws:" + prefix + ":eu-west-1::" + id},
				"conditions": readyCondition(),
			}
			if _, err := res.UpdateStatus(ctx, mr, metav1.UpdateOptions{FieldManager: "provider-aws"}); err != nil {
				return err
			}
		}
		x.provider.firstSight(mr)
		return nil
	}
}

// crossplaneRules is the crossplane preset: claim binding, XRs and MRs
// (composed at run time, so kept whole), external names and their links.
const crossplaneRules = `presets:
- name: crossplane
rules:
- name: provider-status
  match: {apiGroups: ["*.aws.upbound.io"], kinds: ["*"]}
  includeOwned: true
  fields: [status.atProvider]
`

var crossplaneBase = map[string]string{
	"kustomization.yaml": "resources: [namespace.yaml, claim.yaml]\n",
	"namespace.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: xp\n",
	"claim.yaml":         "apiVersion: platform.example.org/v1alpha1\nkind: Database\nmetadata:\n  name: orders\n  namespace: xp\nspec:\n  parameters:\n    size: small\n",
}

// managed lists the MRs composed for the claim in namespace xp: name → external name.
func managed(t *testing.T, dyn dynamic.Interface) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tm := range templates {
		l, err := dyn.Resource(tm.gvr).List(context.Background(), metav1.ListOptions{LabelSelector: "crossplane.io/claim-namespace=xp"})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range l.Items {
			out[tm.kind+"/"+u.GetName()] = u.GetAnnotations()[externalName]
		}
	}
	return out
}

func TestCrossplaneRebuildCreatesNoCloudResources(t *testing.T) {
	cl := newCloud()
	xa := &crossplane{dyn: a.dyn, cloud: cl, composed: newCounter(), provider: newCounter()}
	stopA := run(a.dyn, xa.controllers()...)
	applyBase(t, a, "crossplane", crossplaneBase)
	var inA map[string]string
	eventually(t, 30*time.Second, "A: the claim composed and every MR has an external name", func() error {
		inA = managed(t, a.dyn)
		if len(inA) != len(templates) {
			return fmt.Errorf("%d MRs", len(inA))
		}
		for k, v := range inA {
			if v == "" || !xa.provider.hasSeen("", strings.SplitN(k, "/", 2)[1]) {
				return fmt.Errorf("%s not provisioned yet", k)
			}
		}
		return nil
	})
	stopA() // A's controllers stop with A
	createdInA := cl.creations()

	rec := rebuild(t, "crossplane", crossplaneBase, crossplaneRules)

	// B's Crossplane starts on the rebuilt cluster.
	xb := &crossplane{dyn: b.dyn, cloud: cl, composed: newCounter(), provider: newCounter()}
	stopB := run(b.dyn, xb.controllers()...)
	defer stopB()
	eventually(t, 30*time.Second, "B: the provider observed every MR and Crossplane re-owned them", func() error {
		for k := range inA {
			kind, name, _ := strings.Cut(k, "/")
			if !xb.provider.hasSeen("", name) {
				return fmt.Errorf("%s not reconciled in B", k)
			}
			gvr := vpcGVR
			if kind == "Bucket" {
				gvr = bktGVR
			}
			mr, err := b.dyn.Resource(gvr).Get(context.Background(), name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if len(mr.GetOwnerReferences()) == 0 {
				return fmt.Errorf("%s not re-owned by its XR yet", k)
			}
		}
		return nil
	})
	rec.settled(t)
	defer rec.adoptAndCompare(t)
	inB := managed(t, b.dyn)
	t.Logf("FIDELITY crossplane: %d cloud resource(s) created by the rebuilt cluster", cl.creations()-createdInA)
	if got := cl.creations() - createdInA; got != 0 {
		t.Errorf("the rebuild created %d new cloud resource(s), want 0", got)
	}
	if xb.composed.count() != 0 {
		t.Errorf("Crossplane in B composed %d new XR/MR(s), want 0", xb.composed.count())
	}
	for k, ext := range inA {
		if inB[k] != ext {
			t.Errorf("%s in B has external name %q, want A's %q", k, inB[k], ext)
		}
	}
	if len(inB) != len(inA) {
		t.Errorf("B holds MRs %v, A held %v", inB, inA)
	}
}
