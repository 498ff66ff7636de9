package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/driftback/driftback/internal/moto"
)

var ackVPCGVR = schema.GroupVersionResource{Group: "ec2.services.k8s.aws", Version: "v1alpha1", Resource: "vpcs"}

// ackFinalizer is the finalizer ACK's runtime adds before it creates the AWS
// resource (setResourceManaged, through the resource descriptor's
// MarkManaged: "finalizers.<group>/<Kind>").
const ackFinalizer = "finalizers.ec2.services.k8s.aws/VPC"

// errNotFound is ACK's ackerr.NotFound: ReadOne found no AWS resource.
var errNotFound = errors.New("resource not found")

// ackVPC decides whether a VPC exists the way ACK's ec2-controller does, and
// calls the fake AWS (moto) through aws-sdk-go-v2 as ACK calls AWS.
// Re-written after the upstream logic, not copied:
//
//   - aws-controllers-k8s/runtime pkg/runtime/reconciler.go,
//     resourceReconciler.Sync: rm.ReadOne(desired); on ackerr.NotFound (and
//     not adopted) createResource, else updateResource. createResource
//     first marks the object managed (setResourceManaged: the finalizer),
//     then rm.Create, rm.ReadOne(latest), patchResourceMetadataAndSpec;
//     HandleReconcileError always patches the status of the latest state
//     (patchResourceStatus, a merge patch on /status).
//   - aws-controllers-k8s/ec2-controller pkg/resource/vpc/sdk.go, sdkFind:
//     requiredFieldsMissingFromReadManyInput is `Status.VPCID == nil`, and
//     then sdkFind returns ackerr.NotFound WITHOUT calling AWS; otherwise
//     newListRequestPayload puts status.vpcID in DescribeVpcs' VpcIds, and
//     InvalidVpcID.NotFound or an empty answer is NotFound. sdkCreate calls
//     CreateVpc with the first of spec.cidrBlocks
//     (applyPrimaryCIDRBlockInCreateRequest) and copies resp.Vpc.VpcId into
//     status.vpcID; setStatusDefaults fills status.ackResourceMetadata's
//     region and ownerAccountID.
//
// Left out, as they do not decide "exists or create": tags, DNS attributes,
// secondary CIDR blocks, late initialisation, deletion.
type ackVPC struct {
	dyn dynamic.Interface
	ec2 *ec2.Client
	// account is the owner account the controller runs as.
	account string
	// namespace is the only namespace it reconciles (ACK's
	// --watch-namespace), so that no other test's VPC objects reach moto.
	namespace string

	mu      sync.Mutex
	lastErr error
	creates int
}

func (c *ackVPC) controller() controller {
	return controller{name: "ack-ec2-vpc", gvr: ackVPCGVR, reconcile: func(ctx context.Context, u *unstructured.Unstructured) error {
		if u.GetNamespace() != c.namespace {
			return nil
		}
		err := c.sync(ctx, u)
		c.mu.Lock()
		c.lastErr = err
		c.mu.Unlock()
		return err
	}}
}

// err is the last reconcile's error, for the test's failure messages (a
// real controller logs it and requeues).
func (c *ackVPC) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

func (c *ackVPC) createCalls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.creates
}

// sync is resourceReconciler.Sync followed by patchResourceStatus.
func (c *ackVPC) sync(ctx context.Context, desired *unstructured.Unstructured) error {
	if desired.GetDeletionTimestamp() != nil {
		return nil
	}
	latest, err := c.readOne(ctx, desired)
	if errors.Is(err, errNotFound) {
		latest, err = c.createResource(ctx, desired)
	} else if err == nil {
		err = c.setResourceManaged(ctx, desired)
	}
	if err != nil {
		return err
	}
	status, _, _ := unstructured.NestedMap(latest.Object, "status")
	status["conditions"] = []any{map[string]any{"type": "ACK.ResourceSynced", "status": "True"}}
	patch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return err
	}
	_, err = c.dyn.Resource(ackVPCGVR).Namespace(desired.GetNamespace()).Patch(ctx, desired.GetName(), types.MergePatchType, patch,
		metav1.PatchOptions{FieldManager: "ack-ec2-controller"}, "status")
	return err
}

// readOne is sdkFind.
func (c *ackVPC) readOne(ctx context.Context, r *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	id, _, _ := unstructured.NestedString(r.Object, "status", "vpcID")
	if id == "" { // requiredFieldsMissingFromReadManyInput
		return nil, errNotFound
	}
	out, err := c.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidVpcID.NotFound" {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("DescribeVpcs: %w", err)
	}
	if len(out.Vpcs) == 0 {
		return nil, errNotFound
	}
	latest := r.DeepCopy()
	v := out.Vpcs[0]
	_ = unstructured.SetNestedField(latest.Object, aws.ToString(v.VpcId), "status", "vpcID")
	_ = unstructured.SetNestedField(latest.Object, string(v.State), "status", "state")
	c.setStatusDefaults(latest)
	return latest, nil
}

// createResource: setResourceManaged, then sdkCreate, then ReadOne.
func (c *ackVPC) createResource(ctx context.Context, desired *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if err := c.setResourceManaged(ctx, desired); err != nil {
		return nil, err
	}
	cidrs, _, _ := unstructured.NestedStringSlice(desired.Object, "spec", "cidrBlocks")
	if len(cidrs) == 0 {
		return nil, fmt.Errorf("spec.cidrBlocks: required")
	}
	c.mu.Lock()
	c.creates++
	c.mu.Unlock()
	out, err := c.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidrs[0])})
	if err != nil {
		return nil, fmt.Errorf("CreateVpc: %w", err)
	}
	created := desired.DeepCopy()
	_ = unstructured.SetNestedField(created.Object, aws.ToString(out.Vpc.VpcId), "status", "vpcID")
	c.setStatusDefaults(created)
	return c.readOne(ctx, created)
}

// setStatusDefaults is the generated setStatusDefaults.
func (c *ackVPC) setStatusDefaults(u *unstructured.Unstructured) {
	md, _, _ := unstructured.NestedMap(u.Object, "status", "ackResourceMetadata")
	if md == nil {
		md = map[string]any{}
	}
	if _, ok := md["region"]; !ok {
		md["region"] = moto.Region
	}
	if _, ok := md["ownerAccountID"]; !ok {
		md["ownerAccountID"] = c.account
	}
	_ = unstructured.SetNestedMap(u.Object, md, "status", "ackResourceMetadata")
}

// setResourceManaged adds ACK's finalizer (a merge patch of metadata).
func (c *ackVPC) setResourceManaged(ctx context.Context, u *unstructured.Unstructured) error {
	fs := u.GetFinalizers()
	for _, f := range fs {
		if f == ackFinalizer {
			return nil
		}
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": append(fs, ackFinalizer), "resourceVersion": u.GetResourceVersion()}})
	if err != nil {
		return err
	}
	_, err = c.dyn.Resource(ackVPCGVR).Namespace(u.GetNamespace()).Patch(ctx, u.GetName(), types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "ack-ec2-controller"})
	return err
}

// nonDefaultVPCs is what the cloud holds: moto's DescribeVpcs, without the
// region's default VPC.
func nonDefaultVPCs(t *testing.T, c *ec2.Client) []string {
	t.Helper()
	out, err := c.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatalf("DescribeVpcs: %v", err)
	}
	var ids []string
	for _, v := range out.Vpcs {
		if !aws.ToBool(v.IsDefault) {
			ids = append(ids, aws.ToString(v.VpcId))
		}
	}
	return ids
}

func ackBase(ns, cidr string) map[string]string {
	return map[string]string{
		"kustomization.yaml": "resources: [namespace.yaml, vpc.yaml]\n",
		"namespace.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + ns + "\n",
		"vpc.yaml": `apiVersion: ec2.services.k8s.aws/v1alpha1
kind: VPC
metadata:
  name: main
  namespace: ` + ns + `
spec:
  cidrBlocks: [` + cidr + `]
  enableDNSSupport: true
`,
	}
}

var verifiedLine = regexp.MustCompile(`(?m)^verified:\s+(\d+) field`)

// TestACKRebuildCreatesNoSecondVPC: a VPC that ACK created from cluster A is
// found again by ACK on the rebuilt cluster B, which creates no second VPC
// in the cloud (moto's DescribeVpcs). The control case keeps what the ack
// preset kept before (status.ackResourceMetadata only): its drill passes,
// yet ACK on B creates a second VPC — the failure issue 12 reported.
func TestACKRebuildCreatesNoSecondVPC(t *testing.T) {
	srv, err := moto.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	cloud := ec2.NewFromConfig(srv.AWSConfig())

	tests := []struct {
		name, cidr, capture string
		// newVPCs is how many VPCs ACK on B creates in the cloud.
		newVPCs int
	}{
		{name: "ack", cidr: "10.42.0.0/16", capture: "presets:\n- name: ack\n", newVPCs: 0},
		{name: "ack-metadata-only", cidr: "10.43.0.0/16", newVPCs: 1, capture: `rules:
- name: ack-resource-metadata
  match:
    apiGroups: ["*.services.k8s.aws"]
    kinds: ["*"]
    hasFields: [status.ackResourceMetadata]
  fields: [status.ackResourceMetadata]
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			ns := tt.name
			get := func(p *plane) (*unstructured.Unstructured, error) {
				return p.dyn.Resource(ackVPCGVR).Namespace(ns).Get(ctx, "main", metav1.GetOptions{})
			}
			t.Cleanup(func() { releaseACKObjects(t, ns) })

			before := nonDefaultVPCs(t, cloud)
			ctlA := &ackVPC{dyn: a.dyn, ec2: cloud, account: "123456789012", namespace: ns}
			stopA := run(a.dyn, ctlA.controller())
			applyBase(t, a, tt.name, ackBase(ns, tt.cidr))
			var vpcA string
			eventually(t, 60*time.Second, "A: ACK created the VPC and wrote status.vpcID", func() error {
				u, err := get(a)
				if err != nil {
					return err
				}
				if vpcA, _, _ = unstructured.NestedString(u.Object, "status", "vpcID"); vpcA == "" {
					return fmt.Errorf("no status.vpcID yet (last reconcile: %v)", ctlA.err())
				}
				return nil
			})
			stopA()
			afterA := nonDefaultVPCs(t, cloud)
			if len(afterA) != len(before)+1 {
				t.Fatalf("the cloud holds %d VPCs after A, want %d (one created by A): %v", len(afterA), len(before)+1, afterA)
			}

			rec := rebuild(t, tt.name, ackBase(ns, tt.cidr), tt.capture)
			m := verifiedLine.FindStringSubmatch(rec.out)
			if m == nil {
				t.Fatalf("the drill printed no verified count:\n%s", rec.out)
			}
			if n, _ := strconv.Atoi(m[1]); n == 0 {
				t.Fatalf("the drill verified 0 fields:\n%s", rec.out)
			}

			// Runbook step 2: the controllers start after the drill.
			ctlB := &ackVPC{dyn: b.dyn, ec2: cloud, account: "123456789012", namespace: ns}
			stopB := run(b.dyn, ctlB.controller())
			eventually(t, 60*time.Second, "B: ACK synced the VPC", func() error {
				u, err := get(b)
				if err != nil {
					return err
				}
				if conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions"); len(conds) == 0 {
					return fmt.Errorf("not synced yet (last reconcile: %v)", ctlB.err())
				}
				return nil
			})
			stopB()
			rec.settled(t)

			afterB := nonDefaultVPCs(t, cloud)
			created := len(afterB) - len(afterA)
			t.Logf("FIDELITY %s: %d VPC(s) created in moto's EC2 by the rebuilt cluster (%d CreateVpc call(s) by ACK on B)", tt.name, created, ctlB.createCalls())
			if created != tt.newVPCs {
				t.Errorf("ACK on B created %d VPC(s) in the cloud, want %d; DescribeVpcs: %v", created, tt.newVPCs, afterB)
			}
			u, err := get(b)
			if err != nil {
				t.Fatal(err)
			}
			vpcB, _, _ := unstructured.NestedString(u.Object, "status", "vpcID")
			if tt.newVPCs == 0 {
				if vpcB != vpcA {
					t.Errorf("B's VPC has status.vpcID %q, want A's %q", vpcB, vpcA)
				}
				rec.adoptAndCompare(t)
			} else if vpcB == vpcA {
				t.Errorf("the control case's B found A's VPC %s; it should reproduce the duplicate", vpcA)
			}
		})
	}
}

// releaseACKObjects deletes a case's VPC objects on both planes, removing
// ACK's finalizer first (no controller runs any more to remove it), so that
// no later test meets them.
func releaseACKObjects(t *testing.T, ns string) {
	for _, p := range []*plane{a, b} {
		r := p.dyn.Resource(ackVPCGVR).Namespace(ns)
		if _, err := r.Patch(context.Background(), "main", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Logf("release %s/main in %s: %v", ns, p.name, err)
		}
		if err := r.Delete(context.Background(), "main", metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Logf("delete %s/main in %s: %v", ns, p.name, err)
		}
	}
}
