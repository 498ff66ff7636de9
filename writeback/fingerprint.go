package writeback

import (
	"fmt"
	"hash/maphash"
	"math"

	"github.com/driftback/driftback/capture"
)

// A capture's fingerprint says whether it changed since the last publish,
// so only changed captures are rendered again (render is pure per object:
// same capture and layout, same bytes). It is a keyed 64-bit hash (a seed
// drawn at start, unknown to whoever writes the cluster's objects) of the
// packed capture's bytes (capture.Packed: map keys sorted, so key order
// does not matter), with no unpacking and no allocation; for a capture
// kept unpacked, walked over the values: a map is the sum of its entries'
// hashes. Two different captures share a fingerprint with probability
// 2⁻⁶⁴; a value of a type the walk does not know is hashed through its
// printed form.
var (
	fpSeed  = maphash.MakeSeed()
	fpOther = maphash.MakeSeed()
)

const (
	tagNil uint64 = iota + 1
	tagTrue
	tagFalse
	tagString
	tagInt
	tagFloat
	tagMap
	tagList
	tagOther
	tagEncoded
)

func mix(a, b uint64) uint64 { return maphash.Comparable(fpSeed, [2]uint64{a, b}) }

func fingerprint(c *capture.Packed) uint64 {
	r := c.Ref
	var id maphash.Hash
	id.SetSeed(fpSeed)
	for _, s := range [...]string{r.Group, r.Version, r.Kind, r.Namespace, r.Name, string(c.Mode)} {
		id.WriteString(s)
		id.WriteByte(0)
	}
	h := mix(tagString, id.Sum64())
	if b, ok := c.Encoded(); ok {
		// The packed maps' bytes (keys sorted: equal maps, equal bytes).
		h = mix(h, mix(tagEncoded, maphash.Bytes(fpSeed, b)))
	} else {
		// A capture holding a type the packing does not know: its maps.
		u := c.Unpack()
		h = mix(h, hashValue(u.Object))
		h = mix(h, hashValue(u.Applied))
		h = mix(h, hashValue(u.Whole))
		h = mix(h, hashValue(u.Status))
	}
	for _, k := range c.EncryptKeys {
		h = mix(h, maphash.String(fpSeed, k))
	}
	return h
}

func hashValue(v any) uint64 {
	switch v := v.(type) {
	case nil:
		return tagNil
	case map[string]any:
		if v == nil {
			return tagNil
		}
		var sum uint64
		for k, e := range v {
			sum += mix(maphash.String(fpSeed, k), hashValue(e))
		}
		return mix(tagMap, sum)
	case []any:
		if v == nil {
			return tagNil // null, as a nil map
		}
		h := mix(tagList, uint64(len(v)))
		for _, e := range v {
			h = mix(h, hashValue(e))
		}
		return h
	case string:
		return mix(tagString, maphash.String(fpSeed, v))
	case bool:
		if v {
			return tagTrue
		}
		return tagFalse
	case int64:
		return mix(tagInt, uint64(v))
	case int:
		return mix(tagInt, uint64(v))
	case int32:
		return mix(tagInt, uint64(v))
	case float64:
		return mix(tagFloat, math.Float64bits(v))
	default:
		return mix(tagOther, maphash.String(fpOther, fmt.Sprintf("%T\x00%#v", v, v)))
	}
}

// fileSum is a keyed hash of a file's bytes, to tell a re-rendered file
// that did not change from one that did.
func fileSum(b []byte) uint64 { return maphash.Bytes(fpSeed, b) }
