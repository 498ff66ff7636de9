package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	restclientwatch "k8s.io/client-go/rest/watch"
)

// decoded is what a watch decoder made of one event, or how it failed.
type decoded struct {
	Type watch.EventType
	Obj  runtime.Object
	// Err is the failure's class: io.EOF and io.ErrUnexpectedEOF end a
	// watch quietly (watch.StreamWatcher), anything else is reported.
	Err string
}

// decodeStream reads a watch response body as rest.Request.Watch does,
// with the stream decoder a client of serializer ns negotiates for JSON.
func decodeStream(t *testing.T, ns runtime.NegotiatedSerializer, body io.Reader) []decoded {
	t.Helper()
	objects, stream, framer, err := runtime.NewClientNegotiator(ns, schema.GroupVersion{}).StreamDecoder(runtime.ContentTypeJSON, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := restclientwatch.NewDecoder(streaming.NewDecoder(framer.NewFrameReader(io.NopCloser(body)), stream), objects)
	var out []decoded
	for {
		typ, obj, err := d.Decode()
		if err != nil {
			class := "other"
			switch {
			case errors.Is(err, io.EOF):
				class = "EOF"
			case errors.Is(err, io.ErrUnexpectedEOF):
				class = "unexpected EOF"
			}
			return append(out, decoded{Err: class})
		}
		out = append(out, decoded{Type: typ, Obj: obj})
	}
}

// chunks hands out its bytes a few at a time, as a network does.
type chunks struct {
	b   []byte
	rnd *rand.Rand
}

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.b), 1+c.rnd.IntN(700))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

func clientGoSerializer() runtime.NegotiatedSerializer {
	return dynamic.ConfigFor(&rest.Config{}).NegotiatedSerializer
}

// TestWatchJSONDecodesLikeClientGo: over random watch streams — real-looking
// events, every envelope and object shape the fast path hands back to
// client-go, invalid JSON, bytes arriving in random pieces — watchJSON's
// decoder returns what client-go's returns, event for event, and fails
// where it fails.
func TestWatchJSONDecodesLikeClientGo(t *testing.T) {
	base := clientGoSerializer()
	lean := newWatchJSON(base)
	for seed := range uint64(3000) {
		rnd := rand.New(rand.NewPCG(seed, 15))
		var body bytes.Buffer
		valid := true
		for range 1 + rnd.IntN(4) {
			e, ok := randomEvent(rnd)
			body.Write(e)
			valid = valid && ok
			body.WriteString([]string{"\n", "", " \r\n\t", "\n\n"}[rnd.IntN(4)])
		}
		if rnd.IntN(10) == 0 {
			// A stream cut short.
			body.Truncate(rnd.IntN(body.Len() + 1))
		}
		want := decodeStream(t, base, bytes.NewReader(body.Bytes()))
		got := decodeStream(t, lean, &chunks{b: bytes.Clone(body.Bytes()), rnd: rnd})
		if !valid && len(got) == len(want) && got[len(got)-1].Err != "" && want[len(want)-1].Err != "" {
			// Bytes that are not JSON: client-go's framer stops at the
			// first invalid character, the bracket scan where the brackets
			// no longer match or the stream ends. Both fail at the same
			// event; how is theirs.
			got[len(got)-1].Err, want[len(want)-1].Err = "failed", "failed"
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: stream\n%s\nclient-go: %s\nwatchJSON: %s", seed, body.Bytes(), show(want), show(got))
		}
	}
}

func show(ds []decoded) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "\n  %s %T %+v err=%s", d.Type, d.Obj, d.Obj, d.Err)
	}
	return b.String()
}

// TestWatchJSONTakesTheFastPath: a plain event is read by the scans, not
// handed to client-go (whose result would be the same, so the equivalence
// test alone cannot tell).
func TestWatchJSONTakesTheFastPath(t *testing.T) {
	frame := []byte(` {"type":"MODIFIED","object":{"apiVersion":"example.com/v1","kind":"Bucket","metadata":{"name":"b{\"}"}}} `)
	typ, obj, ok := splitEvent(frame)
	if !ok || typ != "MODIFIED" || string(obj) != `{"apiVersion":"example.com/v1","kind":"Bucket","metadata":{"name":"b{\"}"}}` {
		t.Fatalf("splitEvent = %q, %s, %v", typ, obj, ok)
	}
	refuse := objectDecoder{Serializer: refusing{}}
	if _, _, err := refuse.Decode(obj, nil, nil); err != nil {
		t.Fatalf("a plain object went to client-go's decoder: %v", err)
	}
	for _, slow := range []string{
		`{"apiVersion":"v1","kind":"Status","status":"Failure","code":410}`,
		`{"apiVersion":"example.com/v1","kind":"BucketList","items":[]}`,
		`{"apiVersion":"example.com/v1","Kind":"Bucket","kind":"Bucket"}`,
		`{"kind":"Bucket"}`,
	} {
		if _, _, err := refuse.Decode([]byte(slow), nil, nil); err == nil {
			t.Errorf("%s was decoded by the fast path", slow)
		}
	}
}

// refusing is a decoder that fails every call.
type refusing struct{ runtime.Serializer }

func (refusing) Decode([]byte, *schema.GroupVersionKind, runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	return nil, nil, errors.New("refused")
}

// TestJSONFramesShortBuffer: a frame larger than the reader's buffer comes
// out in pieces with io.ErrShortBuffer, as streaming.Decoder expects.
func TestJSONFramesShortBuffer(t *testing.T) {
	big := `{"a":"` + strings.Repeat("x", 3000) + `"}`
	f := newJSONFrames(io.NopCloser(strings.NewReader(big + "\n" + `{"b":1}`)))
	var got []byte
	buf := make([]byte, 1024)
	for {
		n, err := f.Read(buf)
		got = append(got, buf[:n]...)
		if err == nil {
			break
		}
		if !errors.Is(err, io.ErrShortBuffer) {
			t.Fatal(err)
		}
	}
	if string(got) != big {
		t.Fatalf("first frame: %d bytes, want %d", len(got), len(big))
	}
	n, err := f.Read(buf)
	if err != nil || string(buf[:n]) != `{"b":1}` {
		t.Fatalf("second frame = %q, %v", buf[:n], err)
	}
	if _, err := f.Read(buf); err != io.EOF {
		t.Fatalf("after the last frame: %v, want EOF", err)
	}
}

// randomEvent is one watch event's JSON, most of them as an apiserver
// writes them, some in every shape the fast path must hand to client-go,
// and whether it is valid JSON.
func randomEvent(rnd *rand.Rand) ([]byte, bool) {
	obj := randomObject(rnd)
	objJSON, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	if rnd.IntN(4) == 0 {
		var b bytes.Buffer
		if json.Indent(&b, objJSON, "", "  ") == nil {
			objJSON = b.Bytes()
		}
	}
	types := []string{`"ADDED"`, `"MODIFIED"`, `"DELETED"`, `"BOOKMARK"`, `"ERROR"`, `"BOGUS"`, `"ADD\u0045D"`, `"added"`, `7`}
	typ := types[rnd.IntN(3)]
	if rnd.IntN(5) == 0 {
		typ = types[rnd.IntN(len(types))]
	}
	objText, valid := string(objJSON), true
	switch rnd.IntN(30) {
	case 0:
		objText = "null"
	case 1:
		objText = `[1,2]`
	case 2:
		objText = `"text"`
	case 3:
		objText, valid = objText[:len(objText)/2], false // unbalanced
	case 4:
		objText, valid = `{"apiVersion":"v1","kind":"ConfigMap","data":{"a":}}`, false // balanced
	case 5:
		objText, valid = `{"apiVersion":"v1","kind":"ConfigMap",}`, false
	}
	var fields []string
	fields = append(fields, `"type":`+typ, `"object":`+objText)
	switch rnd.IntN(25) {
	case 0:
		fields = fields[:1] // no object
	case 1:
		fields = fields[1:] // no type
	case 2:
		fields = append(fields, `"extra":{"x":[1]}`)
	case 3:
		fields[0] = `"typ\u0065":` + typ
	case 4:
		fields = append(fields, `"type":"DELETED"`) // a repeated key: the last wins
	case 5:
		fields[0] = `"Type":` + typ
	}
	if rnd.IntN(2) == 0 {
		fields[0], fields[len(fields)-1] = fields[len(fields)-1], fields[0]
	}
	sep := []string{",", " , ", ",\n  "}[rnd.IntN(3)]
	return []byte("{" + strings.Join(fields, sep) + "}"), valid
}

func randomObject(rnd *rand.Rand) map[string]any {
	kinds := []string{"Bucket", "ConfigMap", "Status", "BucketList", "WatchEvent", "APIGroup", ""}
	apiVersions := []string{"example.com/v1", "v1", "s3.aws.upbound.io/v1beta1", "a/b/c", "foo/", ""}
	kind, apiVersion := kinds[0], apiVersions[rnd.IntN(3)]
	if rnd.IntN(6) == 0 {
		kind = kinds[rnd.IntN(len(kinds))]
	}
	if rnd.IntN(10) == 0 {
		apiVersion = apiVersions[rnd.IntN(len(apiVersions))]
	}
	o := map[string]any{
		"metadata": map[string]any{
			"name":            randomString(rnd),
			"namespace":       "team-a",
			"resourceVersion": fmt.Sprint(rnd.IntN(1 << 30)),
			"annotations":     map[string]any{"crossplane.io/external-name": randomString(rnd)},
			"managedFields": []any{map[string]any{
				"manager": "crossplane", "operation": "Apply",
				"fieldsV1": map[string]any{"f:status": map[string]any{"f:atProvider": map[string]any{".": map[string]any{}}}},
			}},
		},
		"spec":   randomValue(rnd, 3),
		"status": map[string]any{"atProvider": map[string]any{"arn": "arn:aws:s3:::" + randomString(rnd)}, "n": randomValue(rnd, 0)},
	}
	if kind != "" {
		o["kind"] = kind
	}
	if apiVersion != "" {
		o["apiVersion"] = apiVersion
	}
	switch rnd.IntN(20) {
	case 0:
		o["Kind"] = "Status"
	case 1:
		o["items"] = []any{}
	case 2:
		o["kind"] = 12
	case 3:
		o["APIVERSION"] = "v1"
	case 4:
		o["code"], o["status"], o["reason"] = 410, "Failure", "Expired"
	}
	return o
}

func randomValue(rnd *rand.Rand, depth int) any {
	switch n := rnd.IntN(10); {
	case depth > 0 && n < 3:
		m := map[string]any{}
		for range rnd.IntN(4) {
			m[randomString(rnd)] = randomValue(rnd, depth-1)
		}
		return m
	case depth > 0 && n < 5:
		var l []any
		for range rnd.IntN(4) {
			l = append(l, randomValue(rnd, depth-1))
		}
		return l
	case n < 6:
		return []any{json.Number("9223372036854775807"), json.Number("9223372036854775808"), json.Number("-0"), json.Number("1.5"), json.Number("1e2"), json.Number("12")}[rnd.IntN(6)]
	case n < 7:
		return rnd.IntN(3) == 0
	case n < 8:
		return nil
	default:
		return randomString(rnd)
	}
}

func randomString(rnd *rand.Rand) string {
	parts := []string{"a", "bucket-1", "{", "}", "[", "]", `"`, `\`, "é", "😀", "<&>", "\u2028", "\t", "\x00", "\xff"}
	var b strings.Builder
	for range rnd.IntN(6) {
		b.WriteString(parts[rnd.IntN(len(parts))])
	}
	return b.String()
}

// TestJSONFramesBound: bytes that never close a frame (a string left open)
// end the watch with an error once past maxFrame instead of being held.
func TestJSONFramesBound(t *testing.T) {
	open := io.MultiReader(strings.NewReader(`{"type":"ADDED","object":{"a":"`), endless{})
	f := newJSONFrames(io.NopCloser(open))
	_, err := f.Read(make([]byte, 1024))
	if err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("err = %v", err)
	}
	if len(f.buf) > 2*maxFrame {
		t.Fatalf("held %d bytes", len(f.buf))
	}
}

// endless reads as an unending string.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}
