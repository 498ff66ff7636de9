package kube

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// decodeList decodes a list response (a LIST page) into l as client-go's
// unstructured serializer does, reading each item's bytes once.
//
// client-go's decodeToList (apimachinery unstructured/helpers.go) reads
// the whole page three times: an encoding/json pass that copies every
// item out as raw bytes, a decode of the whole page into the list's map
// (items included, deleted right after), and a decode of each item. One
// scan here cuts the items out (splitList); the rest of the list and each
// item are decoded once, with the decoder client-go uses for both.
//
// It reports false, and leaves l untouched, for anything it is not sure
// of: l not empty, a key that is not plain ASCII or that only differs
// from "items", "kind" or "apiVersion" in case (encoding/json folds
// case), items that are not an array of objects, no kind or an apiVersion
// that does not parse (client-go's errors), invalid JSON. The caller
// then decodes with client-go's serializer, which gives its own result or
// its own error.
func decodeList(data []byte, l *unstructured.UnstructuredList) (schema.GroupVersionKind, bool) {
	if l.Object != nil || l.Items != nil {
		return schema.GroupVersionKind{}, false
	}
	rest, items, ok := splitList(data)
	if !ok {
		return schema.GroupVersionKind{}, false
	}
	var obj map[string]any
	if err := utiljson.Unmarshal(rest, &obj); err != nil || obj == nil {
		return schema.GroupVersionKind{}, false
	}
	// client-go reads items, apiVersion and kind with encoding/json
	// (decodeToList, json.SimpleMetaFactory.Interpret), which folds case,
	// and fails on an apiVersion or kind that is not a string. The rest
	// holds every key but the one "items" splitList cut out.
	for k, v := range obj {
		switch {
		case strings.EqualFold(k, "items"):
			return schema.GroupVersionKind{}, false
		case strings.EqualFold(k, "kind") || strings.EqualFold(k, "apiVersion"):
			if _, s := v.(string); (k != "kind" && k != "apiVersion") || !s && v != nil {
				return schema.GroupVersionKind{}, false
			}
		}
	}
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	// The kind Decode reports is UnstructuredList.GroupVersionKind's,
	// empty (client-go's error) when apiVersion does not parse.
	gv, err := schema.ParseGroupVersion(apiVersion)
	if kind == "" || err != nil {
		return schema.GroupVersionKind{}, false
	}
	itemKind := strings.TrimSuffix(kind, "List")
	out := make([]unstructured.Unstructured, len(items))
	for i, b := range items {
		var m map[string]any
		if err := utiljson.Unmarshal(b, &m); err != nil {
			return schema.GroupVersionKind{}, false
		}
		out[i].Object = m
		// As client-go: a typed list's items (a PodList's) carry no
		// apiVersion or kind; they are the list's.
		if out[i].GetKind() == "" && out[i].GetAPIVersion() == "" {
			out[i].SetKind(itemKind)
			out[i].SetAPIVersion(apiVersion)
		}
	}
	l.Object, l.Items = obj, out
	return gv.WithKind(kind), true
}

// splitList cuts a JSON object's "items" member out: rest is the object
// without it, items each element's bytes (a part of b). It reports false
// for anything but a JSON object of plain keys with one "items", an array
// of JSON objects. Values other than items are only skipped here, checked
// when rest is decoded; each item is checked when it is decoded.
func splitList(b []byte) (rest []byte, items [][]byte, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, nil, false
	}
	i++
	// cut is the member to take out, with one comma beside it.
	cutFrom, cutTo := -1, -1
	prevComma := -1
	seen := false
	for first := true; ; first = false {
		i = skipSpace(b, i)
		if first && i < len(b) && b[i] == '}' {
			break // {}: no items
		}
		keyAt := i
		key, j, ok := plainString(b, i)
		if !ok {
			return nil, nil, false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return nil, nil, false
		}
		i = skipSpace(b, i+1)
		isItems := string(key) == "items"
		var end int
		if isItems {
			if seen {
				return nil, nil, false
			}
			seen = true
			items, end, ok = splitItems(b, i)
			if !ok {
				return nil, nil, false
			}
		} else if end = skipValue(b, i); end < 0 {
			return nil, nil, false
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return nil, nil, false
		}
		if isItems {
			switch {
			case prevComma >= 0:
				cutFrom, cutTo = prevComma, end
			case b[i] == ',':
				cutFrom, cutTo = keyAt, i+1
			default:
				cutFrom, cutTo = keyAt, end
			}
		}
		if b[i] == ',' {
			prevComma = i
			i++
			continue
		}
		if b[i] != '}' {
			return nil, nil, false
		}
		break
	}
	if skipSpace(b, i+1) != len(b) || !seen {
		return nil, nil, false
	}
	rest = make([]byte, 0, len(b)-(cutTo-cutFrom))
	rest = append(append(rest, b[:cutFrom]...), b[cutTo:]...)
	return rest, items, true
}

// splitItems reads an array of JSON objects at b[i] and returns each
// object's bytes and the offset past the array.
func splitItems(b []byte, i int) (items [][]byte, end int, ok bool) {
	if i >= len(b) || b[i] != '[' {
		return nil, 0, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return [][]byte{}, i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '{' {
			return nil, 0, false
		}
		var s bracketScan
		e := s.scan(b, i)
		if e < 0 {
			return nil, 0, false
		}
		items = append(items, b[i:e])
		i = skipSpace(b, e)
		if i >= len(b) {
			return nil, 0, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return items, i + 1, true
		default:
			return nil, 0, false
		}
	}
}

// skipValue returns the offset past the JSON value at b[i], or -1: an
// object or array by its brackets, a string by its quotes, anything else
// up to the next comma, closing brace or space. It does not check the
// value; the decode of what holds it does.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '{', '[':
		var s bracketScan
		return s.scan(b, i)
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return -1
	}
	for j := i; j < len(b); j++ {
		if c := b[j]; c == ',' || c == '}' || c == ']' || isSpace(c) {
			if j == i {
				return -1
			}
			return j
		}
	}
	return -1
}
