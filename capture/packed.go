package capture

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Packed is a capture in the compact form the watch cache keeps between
// publishes: its ref, mode, rules, encrypt keys and withheld paths as they
// are, and its four maps (Object, Applied, Whole, Status) encoded in one
// byte slice, unpacked only when rendered. A Go map costs about 300 bytes
// however little it holds, and a capture holds five or more: 50,000 cached
// captures took 111 MB as maps (2,225 bytes each), about a fifth of that
// packed. Most publishes render only the captures that changed; the others
// are read through the fields below and compared by their bytes.
//
// The fields and the encoding are read-only: a Packed is shared by the
// cache and every snapshot that holds it.
type Packed struct {
	Ref         ObjectRef
	Mode        Mode
	Rules       []string
	EncryptKeys []string
	Withheld    []string
	// data is the maps encoded (appendValue), keys sorted, so equal
	// captures pack to equal bytes; nil when plain holds the capture.
	data []byte
	// plain is the capture kept as it is, when its maps hold a value the
	// encoding does not know (anything but what JSON decodes to: nil,
	// bool, string, int64, float64, map[string]any, []any).
	plain *Capture
}

// Pack returns c in the cache's form. c's maps are not kept (unless c
// holds a value the encoding does not know): changing them later does not
// change what was packed.
func Pack(c Capture) *Packed {
	p := &Packed{Ref: c.Ref, Mode: c.Mode, Rules: c.Rules, EncryptKeys: c.EncryptKeys, Withheld: c.Withheld}
	var b []byte
	for _, m := range [...]map[string]any{c.Object, c.Applied, c.Whole, c.Status} {
		var ok bool
		if b, ok = appendValue(b, m); !ok {
			p.plain = &c
			return p
		}
	}
	// One allocation at the final size: the encoder's slice grew by
	// doubling and would keep up to twice the bytes.
	p.data = slices.Clone(b)
	return p
}

// PackAll packs each capture, in order.
func PackAll(caps []Capture) []*Packed {
	out := make([]*Packed, len(caps))
	for i, c := range caps {
		out[i] = Pack(c)
	}
	return out
}

// Unpack returns the capture. Like every capture, it is not changed after
// (render only reads it).
func (p *Packed) Unpack() Capture {
	if p.plain != nil {
		return *p.plain
	}
	c := Capture{Ref: p.Ref, Mode: p.Mode, Rules: p.Rules, EncryptKeys: p.EncryptKeys, Withheld: p.Withheld}
	d := decoder{b: p.data}
	for _, m := range [...]*map[string]any{&c.Object, &c.Applied, &c.Whole, &c.Status} {
		*m, _ = d.value().(map[string]any)
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes left over", len(d.b))
	}
	if d.err != nil {
		// The bytes were written by Pack in this process and nothing
		// writes them after: a failure is a bug in the encoding, which
		// FuzzPack looks for.
		panic(fmt.Sprintf("capture: unpack %s: %v", p.Ref, d.err))
	}
	return c
}

// Encoded returns the capture's maps in their encoded form, for a hash of
// them; ok is false when the capture is kept unencoded (Unpack it instead).
// Equal maps encode to equal bytes.
func (p *Packed) Encoded() (b []byte, ok bool) { return p.data, p.plain == nil }

// PackedEqual reports whether two packed captures hold equal captures (or
// are both nil), as Equal does for unpacked ones.
func PackedEqual(a, b *Packed) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.plain != nil || b.plain != nil {
		ua, ub := a.Unpack(), b.Unpack()
		return Equal(&ua, &ub)
	}
	return a.Ref == b.Ref && a.Mode == b.Mode && slices.Equal(a.Rules, b.Rules) &&
		slices.Equal(a.EncryptKeys, b.EncryptKeys) && slices.Equal(a.Withheld, b.Withheld) &&
		string(a.data) == string(b.data)
}

// SortedPacked returns caps sorted by ref: caps itself when it is already
// (a snapshot of the watch cache is), a sorted copy of the pointers
// otherwise.
func SortedPacked(caps []*Packed) []*Packed {
	less := func(a, b *Packed) int { return a.Ref.Compare(b.Ref) }
	if slices.IsSortedFunc(caps, less) {
		return caps
	}
	out := slices.Clone(caps)
	slices.SortStableFunc(out, less)
	return out
}

// The encoding: one tag byte per value, then for a string its length
// (uvarint) and bytes, for an int64 a varint, for a float64 its 8 bytes,
// for a map its entry count and each key (as a string, without tag) and
// value in key order, for a list its length and values. Not JSON, which
// encoding/json would also write with sorted keys: read back, a float64
// of 1.0 becomes an int64 (apimachinery's decoding) and a nil map or list
// becomes null, so a capture would not unpack to itself; and decoding it
// goes through reflection for every value.
const (
	tagNil byte = iota + 1
	tagFalse
	tagTrue
	tagString
	tagInt
	tagFloat
	tagMap
	tagNilMap
	tagList
	tagNilList
)

func appendValue(b []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case nil:
		return append(b, tagNil), true
	case bool:
		if v {
			return append(b, tagTrue), true
		}
		return append(b, tagFalse), true
	case string:
		return appendString(append(b, tagString), v), true
	case int64:
		return binary.AppendVarint(append(b, tagInt), v), true
	case float64:
		return binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(v)), true
	case map[string]any:
		if v == nil {
			return append(b, tagNilMap), true
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = binary.AppendUvarint(append(b, tagMap), uint64(len(v)))
		for _, k := range keys {
			var ok bool
			if b, ok = appendValue(appendString(b, k), v[k]); !ok {
				return b, false
			}
		}
		return b, true
	case []any:
		if v == nil {
			return append(b, tagNilList), true
		}
		b = binary.AppendUvarint(append(b, tagList), uint64(len(v)))
		for _, e := range v {
			var ok bool
			if b, ok = appendValue(b, e); !ok {
				return b, false
			}
		}
		return b, true
	default:
		return b, false
	}
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// decoder reads appendValue's encoding; the first failure is kept in err
// and every later read returns nil.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) any {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
	d.b = nil
	return nil
}

func (d *decoder) uvarint() uint64 {
	n, w := binary.Uvarint(d.b)
	if w <= 0 {
		d.fail("bad length")
		return 0
	}
	d.b = d.b[w:]
	return n
}

// count reads a length of at most what the remaining bytes can hold (one
// byte each at least), so a bad length cannot make a huge allocation.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("length %d past the end", n)
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.count()
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) value() any {
	if len(d.b) == 0 {
		return d.fail("value past the end")
	}
	tag := d.b[0]
	d.b = d.b[1:]
	switch tag {
	case tagNil:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagString:
		return d.string()
	case tagInt:
		v, w := binary.Varint(d.b)
		if w <= 0 {
			return d.fail("bad int")
		}
		d.b = d.b[w:]
		return v
	case tagFloat:
		if len(d.b) < 8 {
			return d.fail("float past the end")
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
		d.b = d.b[8:]
		return v
	case tagNilMap:
		return map[string]any(nil)
	case tagMap:
		n := d.count()
		m := make(map[string]any, n)
		for range n {
			k := d.string()
			m[k] = d.value()
		}
		return m
	case tagNilList:
		return []any(nil)
	case tagList:
		n := d.count()
		l := make([]any, n)
		for i := range l {
			l[i] = d.value()
		}
		return l
	default:
		return d.fail("unknown tag %d", tag)
	}
}
