package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"
)

// FuzzWatchJSON: for any bytes a server could send as a watch response,
// watchJSON's decoder returns what client-go's returns, event for event;
// on bytes that are not a stream of JSON values both fail at the same
// event, each in its own words.
func FuzzWatchJSON(f *testing.F) {
	for _, seed := range []string{
		`{"type":"ADDED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}}`,
		`{"object":{"apiVersion":"v1","kind":"Status","code":410},"type":"ERROR"}` + "\n" + `{"type":"BOOKMARK","object":{"kind":"X","apiVersion":"v1"}}`,
		`{"type":"MODIFIED","object":{"apiVersion":"a/v1","kind":"B","items":[],"s":"}{\"\\"}}`,
		`{"type":"ADDED","object":{"apiVersion":"a/v1","Kind":"Status","kind":"B","n":1e400}}`,
		`{"typ\u0065":"ADDED","object":{"apiVersion":"v1","kind":"B"}}`,
		`  {"type":"DELETED" , "object" : { "apiVersion":"v1", "kind":"B", "n": 9223372036854775808 } }  `,
	} {
		f.Add([]byte(seed))
	}
	base := clientGoSerializer()
	lean := newWatchJSON(base)
	f.Fuzz(func(t *testing.T, stream []byte) {
		want := decodeStream(t, base, bytes.NewReader(stream))
		got := decodeStream(t, lean, bytes.NewReader(stream))
		if !jsonValues(stream) && len(got) == len(want) && got[len(got)-1].Err != "" && want[len(want)-1].Err != "" {
			got[len(got)-1].Err, want[len(want)-1].Err = "failed", "failed"
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("stream %q\nclient-go: %s\nwatchJSON: %s", stream, show(want), show(got))
		}
	})
}

// jsonValues reports whether b is a sequence of whole JSON values.
func jsonValues(b []byte) bool {
	d := json.NewDecoder(bytes.NewReader(b))
	for {
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return errors.Is(err, io.EOF)
		}
	}
}

// FuzzListJSON: for any bytes a server could send as a LIST page,
// watchJSON's decoder returns what client-go's returns into an
// UnstructuredList, or fails where it fails.
func FuzzListJSON(f *testing.F) {
	for _, seed := range []string{
		`{"apiVersion":"v1","items":[{"metadata":{"name":"a"}}],"kind":"ConfigMapList","metadata":{"resourceVersion":"7","continue":"x"}}`,
		`{"kind":"BucketList","apiVersion":"a/v1","items":[{"apiVersion":"a/v1","kind":"Bucket","s":"]}\"\\"}],"metadata":{}}`,
		`{"apiVersion":"v1","Items":[],"kind":"PodList"}`,
		`{"apiVersion":"v1","items":[],"items":[{}],"kind":"PodList"}`,
		` { "items" : [ { } , { "n" : 1e400 } ] , "kind" : "L" , "KIND" : 5 } `,
		`{"apiVersion":"a/b/c","items":[],"kind":"List"}`,
		`{"apiVersion":"v1","items":[{"a":1}],"Items":[],"kind":"PodList"}`,
	} {
		f.Add([]byte(seed))
	}
	base := clientGoSerializer()
	lean := newWatchJSON(base)
	f.Fuzz(func(t *testing.T, page []byte) {
		want := decodeListWith(t, base, page)
		got := decodeListWith(t, lean, page)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("page %q\nclient-go: %+v\nwatchJSON: %+v", page, want, got)
		}
	})
}
