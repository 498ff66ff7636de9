package live

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Captured is a metav1.Object so that the informer's key function and
// store (meta.Accessor) read its name, namespace and resourceVersion. The
// rest of the metadata is not kept: those getters return zero values and
// those setters do nothing (client-go never sets metadata on a cached
// object).
var _ metav1.Object = (*Captured)(nil)

func (c *Captured) GetNamespace() string                          { return c.namespace }
func (c *Captured) SetNamespace(ns string)                        { c.namespace = ns }
func (c *Captured) GetName() string                               { return c.name }
func (c *Captured) SetName(name string)                           { c.name = name }
func (c *Captured) GetResourceVersion() string                    { return c.resourceVersion }
func (c *Captured) SetResourceVersion(rv string)                  { c.resourceVersion = rv }
func (c *Captured) GetGenerateName() string                       { return "" }
func (c *Captured) SetGenerateName(string)                        {}
func (c *Captured) GetUID() types.UID                             { return "" }
func (c *Captured) SetUID(types.UID)                              {}
func (c *Captured) GetGeneration() int64                          { return 0 }
func (c *Captured) SetGeneration(int64)                           {}
func (c *Captured) GetSelfLink() string                           { return "" }
func (c *Captured) SetSelfLink(string)                            {}
func (c *Captured) GetCreationTimestamp() metav1.Time             { return metav1.Time{} }
func (c *Captured) SetCreationTimestamp(metav1.Time)              {}
func (c *Captured) GetDeletionTimestamp() *metav1.Time            { return nil }
func (c *Captured) SetDeletionTimestamp(*metav1.Time)             {}
func (c *Captured) GetDeletionGracePeriodSeconds() *int64         { return nil }
func (c *Captured) SetDeletionGracePeriodSeconds(*int64)          {}
func (c *Captured) GetLabels() map[string]string                  { return nil }
func (c *Captured) SetLabels(map[string]string)                   {}
func (c *Captured) GetAnnotations() map[string]string             { return nil }
func (c *Captured) SetAnnotations(map[string]string)              {}
func (c *Captured) GetFinalizers() []string                       { return nil }
func (c *Captured) SetFinalizers([]string)                        {}
func (c *Captured) GetOwnerReferences() []metav1.OwnerReference   { return nil }
func (c *Captured) SetOwnerReferences([]metav1.OwnerReference)    {}
func (c *Captured) GetManagedFields() []metav1.ManagedFieldsEntry { return nil }
func (c *Captured) SetManagedFields([]metav1.ManagedFieldsEntry)  {}
