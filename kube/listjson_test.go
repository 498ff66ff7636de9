package kube

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// listDecoded is what a decoder made of a list page, or that it failed.
type listDecoded struct {
	List *unstructured.UnstructuredList
	GVK  *schema.GroupVersionKind
	Err  bool
}

// decodeListWith decodes a list page as rest.Result.Into does for the
// dynamic client's List: the JSON decoder a client of ns negotiates,
// into an empty UnstructuredList.
func decodeListWith(t testing.TB, ns runtime.NegotiatedSerializer, data []byte) listDecoded {
	t.Helper()
	dec, err := runtime.NewClientNegotiator(ns, schema.GroupVersion{}).Decoder(runtime.ContentTypeJSON, nil)
	if err != nil {
		t.Fatal(err)
	}
	var l unstructured.UnstructuredList
	out, gvk, err := dec.Decode(data, nil, &l)
	if err != nil {
		return listDecoded{Err: true}
	}
	if out != &l {
		t.Fatalf("decoded into a new %T", out)
	}
	return listDecoded{List: &l, GVK: gvk}
}

// TestListJSONDecodesLikeClientGo: over random list pages — as an
// apiserver writes them (a custom resource's, whose items carry their
// kind, and a typed list's, whose items do not), and in every shape the
// fast path must hand to client-go — watchJSON's decoder returns what
// client-go's returns, or fails where it fails.
func TestListJSONDecodesLikeClientGo(t *testing.T) {
	base := clientGoSerializer()
	lean := newWatchJSON(base)
	rnd := rand.New(rand.NewPCG(1, 2))
	fast := 0
	const pages = 3000
	for n := range pages {
		page := randomList(rnd)
		want := decodeListWith(t, base, page)
		got := decodeListWith(t, lean, page)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("page %d %s\nclient-go: %+v\nwatchJSON: %+v", n, page, want, got)
		}
		var l unstructured.UnstructuredList
		if _, ok := decodeList(page, &l); ok {
			fast++
		}
	}
	// Most pages are plain: the test must exercise the fast path, not
	// only its hand-backs.
	if fast < pages/4 {
		t.Errorf("the fast path decoded %d of %d pages", fast, pages)
	}
}

// TestListJSONTakesTheFastPath: a plain page is decoded by decodeList; a
// page it is not sure of is not, and leaves the list untouched.
func TestListJSONTakesTheFastPath(t *testing.T) {
	plain := ` {"apiVersion":"v1","items":[ {"metadata":{"name":"a]}"}} , {"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"}}],"kind":"PodList","metadata":{"resourceVersion":"7","continue":"x"}} `
	var l unstructured.UnstructuredList
	gvk, ok := decodeList([]byte(plain), &l)
	if !ok || gvk.Kind != "PodList" || len(l.Items) != 2 || l.GetResourceVersion() != "7" || l.GetContinue() != "x" {
		t.Fatalf("decodeList = %v, %v, %+v", gvk, ok, l)
	}
	if l.Items[0].GetKind() != "Pod" || l.Items[0].GetName() != "a]}" || l.Items[1].GetName() != "b" {
		t.Errorf("items = %+v", l.Items)
	}
	if _, has := l.Object["items"]; has {
		t.Error("the list's map keeps items")
	}
	for _, slow := range []string{
		`{"apiVersion":"v1","Items":[],"kind":"PodList"}`,
		`{"apiVersion":"v1","items":[],"items":[],"kind":"PodList"}`,
		`{"apiVersion":"v1","items":null,"kind":"PodList"}`,
		`{"apiVersion":"v1","items":[1],"kind":"PodList"}`,
		`{"apiVersion":"v1","items":[{}],"kind":""}`,
		`{"apiVersion":"v1","it\u0065ms":[],"kind":"PodList"}`,
		`{"apiVersion":"v1","items":[{"a":}],"kind":"PodList"}`,
		`{"apiVersion":"v1","items":[],"kind":"PodList"} x`,
		`{"apiVersion":"v1","items":[],"Items":[{"a":1}],"kind":"PodList"}`,
		`{"apiVersion":"v1","kind":"PodList"}`,
	} {
		var l unstructured.UnstructuredList
		if _, ok := decodeList([]byte(slow), &l); ok || l.Object != nil || l.Items != nil {
			t.Errorf("%s was decoded by the fast path: %+v", slow, l)
		}
	}
	// client-go decodes into a list that holds something by merging
	// into its map: left to client-go.
	full := unstructured.UnstructuredList{Object: map[string]any{"kept": true}}
	if _, ok := decodeList([]byte(plain), &full); ok || len(full.Items) != 0 || len(full.Object) != 1 {
		t.Errorf("a list that held something was decoded into by the fast path: %+v", full)
	}
}

// randomList is one list page's JSON.
func randomList(rnd *rand.Rand) []byte {
	typed := rnd.IntN(3) == 0
	var items []string
	for range rnd.IntN(5) {
		o := randomObject(rnd)
		if typed && rnd.IntN(4) != 0 {
			delete(o, "apiVersion")
			delete(o, "kind")
		}
		b, err := json.Marshal(o)
		if err != nil {
			panic(err)
		}
		items = append(items, string(b))
	}
	switch rnd.IntN(30) {
	case 0:
		items = append(items, "null")
	case 1:
		items = append(items, `[{"a":1}]`)
	case 2:
		items = append(items, `{"a":}`)
	case 3:
		items = append(items, `{"a":1`)
	}
	itemsText := "[" + strings.Join(items, []string{",", " , ", ",\n"}[rnd.IntN(3)]) + "]"
	if rnd.IntN(4) == 0 {
		var b bytes.Buffer
		if json.Indent(&b, []byte(itemsText), "", "  ") == nil {
			itemsText = b.String()
		}
	}
	kinds := []string{"BucketList", "PodList", "List", "Bucket", `""`, "12"}
	kind := `"` + kinds[rnd.IntN(2)] + `"`
	if rnd.IntN(8) == 0 {
		kind = kinds[rnd.IntN(len(kinds))]
		if !strings.HasPrefix(kind, `"`) && kind != "12" {
			kind = `"` + kind + `"`
		}
	}
	fields := []string{
		`"apiVersion":"` + []string{"example.com/v1", "v1", "a/b/c", ""}[max(rnd.IntN(12)-8, 0)] + `"`,
		`"items":` + itemsText,
		`"kind":` + kind,
		fmt.Sprintf(`"metadata":{"resourceVersion":"%d","continue":%q}`, rnd.IntN(1<<20), randomString(rnd)),
	}
	switch rnd.IntN(25) {
	case 0:
		fields = append(fields[:1], fields[2:]...) // no items
	case 1:
		fields[1] = `"Items":` + itemsText
	case 2:
		fields = append(fields, `"items":[]`) // a repeated key
	case 3:
		fields[1] = `"items":null`
	case 4:
		fields[1] = `"it\u0065ms":` + itemsText
	case 5:
		fields = append(fields, `"extra":[1,"]",{"x":null}]`, `"n":-1.5e3`, `"t":true`)
	case 6:
		fields[0] = `"apiVersion":7`
	case 7:
		fields[1] = `"items":{"a":1}`
	case 8:
		fields = append(fields, `"Items":[{"kind":"X"}]`) // encoding/json folds case: the last wins
	}
	rnd.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
	page := "{" + strings.Join(fields, []string{",", " ,\n ", ", "}[rnd.IntN(3)]) + "}"
	switch rnd.IntN(30) {
	case 0:
		page = page[:len(page)/2]
	case 1:
		page += " {}"
	case 2:
		page = "  " + page + "\n"
	case 3:
		page = `{}`
	}
	return []byte(page)
}
