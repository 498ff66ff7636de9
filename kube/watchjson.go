package kube

import (
	"io"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// Why this file exists: with status rules, most of driftback's CPU from
// start to its first commit is client-go decoding watch events (63% in a
// profile at 50,000 objects, BENCHMARKS.md "Watch memory and CPU"). The
// dynamic client's JSON path reads each event's bytes about a dozen times:
// the framer scans and copies the frame (encoding/json into a RawMessage);
// the stream serializer runs SimpleMetaFactory.Interpret over the envelope
// (a validity scan and a decode with encoding/json) and then unmarshals it
// into a WatchEvent, copying the object into a RawExtension (two more
// scans); the object decoder runs Interpret over the object (two scans) and
// sigs.k8s.io/json over it, which validates the whole input, skips the
// value to hand it to Unstructured.UnmarshalJSON, which validates and
// decodes it again (four).
//
// watchJSON keeps every request's serializers and replaces only how a JSON
// watch stream is read: frames are cut by one byte scan (jsonFrames), the
// envelope's two keys are found by another (splitEvent), and the object is
// decoded once into the map Unstructured holds, with the same decoder and
// the same number handling Unstructured.UnmarshalJSON uses. Anything the
// fast path is not sure to read as client-go would (an escaped key, an
// extra envelope key, a kind the dynamic client decodes into a typed
// object such as the Status of an ERROR event, a list) goes to client-go's
// own serializer, so the result is always the one client-go gives.
// TestWatchJSONDecodesLikeClientGo holds it to that. A LIST page is read
// the same way (listjson.go; TestListJSONDecodesLikeClientGo): capture/live
// lists whole objects page by page.

// newDynamic is dynamic.NewForConfig with watchJSON as the serializer.
func newDynamic(cfg *rest.Config) (*dynamic.DynamicClient, error) {
	config := dynamic.ConfigFor(cfg)
	config.NegotiatedSerializer = newWatchJSON(config.NegotiatedSerializer)
	// The apiserver gzips every response past 128 KiB a client accepts
	// gzip for, which Go's transport asks for by default: each LIST page
	// of whole objects (capture/live lists page by page) would cost the
	// apiserver a compression and driftback a decompression, over what is
	// in a cluster a fast network.
	config.DisableCompression = true
	// As dynamic.NewForConfigAndClient: every request names its path.
	config.GroupVersion = nil
	config.APIPath = "/if-you-see-this-search-for-the-break"
	rc, err := rest.UnversionedRESTClientFor(config)
	if err != nil {
		return nil, err
	}
	return dynamic.New(rc), nil
}

// watchJSON is a negotiated serializer whose JSON entry reads watch streams
// with fewer passes; every other entry and every encoder is the wrapped
// serializer's.
type watchJSON struct {
	runtime.NegotiatedSerializer
	infos []runtime.SerializerInfo
}

func newWatchJSON(base runtime.NegotiatedSerializer) watchJSON {
	infos := slices.Clone(base.SupportedMediaTypes())
	for i, info := range infos {
		if info.MediaType != runtime.ContentTypeJSON || info.StreamSerializer == nil {
			continue
		}
		stream := *info.StreamSerializer
		stream.Serializer = eventDecoder{stream.Serializer}
		stream.Framer = jsonFramer{stream.Framer}
		infos[i].StreamSerializer = &stream
		infos[i].Serializer = objectDecoder{info.Serializer}
	}
	return watchJSON{NegotiatedSerializer: base, infos: infos}
}

func (s watchJSON) SupportedMediaTypes() []runtime.SerializerInfo { return s.infos }

// watchEventKind is what client-go's stream serializer reports decoding.
var watchEventKind = metav1.SchemeGroupVersion.WithKind("WatchEvent")

// eventDecoder reads a watch event's envelope: its type, and its object's
// bytes left for objectDecoder. Any other shape goes to client-go's stream
// serializer.
type eventDecoder struct{ runtime.Serializer }

func (d eventDecoder) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	e, ok := into.(*metav1.WatchEvent)
	if !ok || defaults != nil {
		return d.Serializer.Decode(data, defaults, into)
	}
	typ, obj, ok := splitEvent(data)
	if !ok {
		return d.Serializer.Decode(data, defaults, into)
	}
	// obj is part of the stream's frame buffer, read again for the next
	// event: rest/watch.Decoder decodes it before reading another frame,
	// and objectDecoder copies what it keeps.
	e.Type, e.Object = typ, runtime.RawExtension{Raw: obj}
	gvk := watchEventKind
	return e, &gvk, nil
}

// typedKinds are the kinds client-go's dynamic client decodes into typed
// objects rather than Unstructured (its scheme's: metav1.Status and the
// like; runtime.Scheme.New matches unversioned kinds by name in any group).
// An object of one of them goes to client-go's serializer.
var typedKinds = func() map[string]bool {
	s := runtime.NewScheme()
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	kinds := map[string]bool{}
	for gvk := range s.AllKnownTypes() {
		kinds[gvk.Kind] = true
	}
	return kinds
}()

// objectDecoder decodes an object with no type asked for (a watch event's)
// straight into Unstructured: the map sigs.k8s.io/json makes, as
// Unstructured.UnmarshalJSON makes it; and a list page asked for as an
// UnstructuredList (decodeList, listjson.go). Everything else, and every
// object that would not come out of client-go's serializer as that same
// Unstructured, is client-go's.
type objectDecoder struct{ runtime.Serializer }

func (d objectDecoder) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	if l, ok := into.(*unstructured.UnstructuredList); ok && defaults == nil {
		// A LIST page (the dynamic client's List): listjson.go.
		if gvk, ok := decodeList(data, l); ok {
			return l, &gvk, nil
		}
	}
	if into != nil || defaults != nil {
		return d.Serializer.Decode(data, defaults, into)
	}
	var m map[string]any
	if err := utiljson.Unmarshal(data, &m); err != nil {
		// client-go's words for the same error.
		return d.Serializer.Decode(data, defaults, into)
	}
	gvk, ok := plainObjectKind(m)
	if !ok {
		return d.Serializer.Decode(data, defaults, into)
	}
	return &unstructured.Unstructured{Object: m}, &gvk, nil
}

// plainObjectKind is the kind of a decoded object that client-go would
// decode into Unstructured with that same map, and false for any other:
// no apiVersion or kind (client-go's error), a list ("items", which
// Unstructured.UnmarshalJSON turns into a list), a typed kind, or a key
// that only differs from apiVersion or kind in case (client-go finds the
// kind with encoding/json, which folds case).
func plainObjectKind(m map[string]any) (schema.GroupVersionKind, bool) {
	apiVersion, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	if apiVersion == "" || kind == "" || typedKinds[kind] {
		return schema.GroupVersionKind{}, false
	}
	if _, list := m["items"]; list {
		return schema.GroupVersionKind{}, false
	}
	for k := range m {
		if (len(k) == len("kind") && k != "kind" && strings.EqualFold(k, "kind")) ||
			(len(k) == len("apiVersion") && k != "apiVersion" && strings.EqualFold(k, "apiVersion")) {
			return schema.GroupVersionKind{}, false
		}
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil || gv.Version == "" {
		return schema.GroupVersionKind{}, false
	}
	return gv.WithKind(kind), true
}

// jsonFramer cuts a JSON stream into frames with jsonFrames; writing is
// the wrapped framer's.
type jsonFramer struct{ runtime.Framer }

func (f jsonFramer) NewFrameReader(r io.ReadCloser) io.ReadCloser { return newJSONFrames(r) }
