package kube

import (
	"bytes"
	"fmt"
	"io"
)

// The byte scans behind watchJSON. They find where things end and never
// judge whether the bytes between are valid JSON: the decoders that read
// those bytes next do, and anything the scans do not recognise goes to
// client-go's own decoding.

// jsonFrames reads a stream of JSON objects one object at a time, as a
// runtime.Framer's reader: a Read returns one whole frame, or as much of
// it as fits with io.ErrShortBuffer and the rest on the next Reads
// (streaming.Decoder then grows its buffer), like client-go's JSON framer.
// It finds an object's end by counting brackets outside strings.
type jsonFrames struct {
	r io.ReadCloser
	// buf[off:] has been read and not yet cut into frames.
	buf []byte
	off int
	// remaining is the part of the last frame a short buffer did not take.
	remaining []byte
	// err is the reader's error, returned once the bytes before it are
	// used up.
	err error
}

// frameReadSize is how much a read asks for: an event is 1–10 KiB.
const frameReadSize = 32 << 10

// maxFrame bounds a frame, as streaming.Decoder bounds what it decodes: an
// object is at most etcd's 1.5 MiB, so a frame past this is a stream that
// is not JSON (a string never closed), which would otherwise be held
// until the watch ends.
const maxFrame = 16 << 20

func newJSONFrames(r io.ReadCloser) *jsonFrames {
	return &jsonFrames{r: r, buf: make([]byte, 0, frameReadSize)}
}

func (f *jsonFrames) Read(data []byte) (int, error) {
	if len(f.remaining) == 0 {
		frame, err := f.next()
		if err != nil {
			return 0, err
		}
		f.remaining = frame
	}
	n := copy(data, f.remaining)
	f.remaining = f.remaining[n:]
	if len(f.remaining) > 0 {
		return n, io.ErrShortBuffer
	}
	return n, nil
}

func (f *jsonFrames) Close() error { return f.r.Close() }

// next returns the next frame, valid until the next call.
func (f *jsonFrames) next() ([]byte, error) {
	var s bracketScan
	start, i := -1, f.off
	for {
		if start < 0 {
			for i < len(f.buf) && isSpace(f.buf[i]) {
				i++
			}
			if i < len(f.buf) {
				if c := f.buf[i]; c != '{' && c != '[' {
					return nil, fmt.Errorf("watch stream: invalid character %q looking for the beginning of an object", c)
				}
				start = i
			}
		}
		if start >= 0 {
			if end := s.scan(f.buf, i); end >= 0 {
				f.off = end
				return f.buf[start:end], nil
			}
			i = len(f.buf)
		}
		if f.err != nil {
			if f.err == io.EOF && start >= 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, f.err
		}
		if start >= 0 && len(f.buf)-start > maxFrame {
			return nil, fmt.Errorf("watch stream: an event of more than %d bytes", maxFrame)
		}
		// Keep the frame begun (or nothing), then read more.
		keep := i
		if start >= 0 {
			keep = start
		}
		n := copy(f.buf, f.buf[keep:])
		f.buf, f.off = f.buf[:n], 0
		if start >= 0 {
			start, i = 0, i-keep
		} else {
			i = 0
		}
		if cap(f.buf)-len(f.buf) < frameReadSize/2 {
			f.buf = append(make([]byte, 0, 2*cap(f.buf)), f.buf...)
		}
		m, err := f.r.Read(f.buf[len(f.buf):cap(f.buf)])
		f.buf = f.buf[:len(f.buf)+m]
		if err != nil {
			f.err = err
		}
	}
}

// bracketScan follows a JSON value's brackets through bytes that may
// arrive in several pieces.
type bracketScan struct {
	depth         int
	inString, esc bool
}

// scan reads b from i (the value's first byte, or where the last call
// stopped) and returns the offset just past the value's closing bracket,
// or -1 if b ends first.
func (s *bracketScan) scan(b []byte, i int) int {
	for i < len(b) {
		if s.inString {
			if s.esc {
				s.esc = false
				i++
				continue
			}
			// Most of an object is strings: jump to the next quote and
			// look for an escape before it.
			rest := b[i:]
			q := bytes.IndexByte(rest, '"')
			if q < 0 {
				q = len(rest)
			}
			if e := bytes.IndexByte(rest[:q], '\\'); e >= 0 {
				s.esc = true
				i += e + 1
				continue
			}
			i += q
			if i < len(b) {
				s.inString = false
				i++
			}
			continue
		}
		switch b[i] {
		case '"':
			s.inString = true
		case '{', '[':
			s.depth++
		case '}', ']':
			s.depth--
			if s.depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return -1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// splitEvent reads a watch event's envelope, {"type":…,"object":{…}} in
// either order with any whitespace, and returns its type and its object's
// bytes. It returns false for anything else: another key, an escaped or
// non-ASCII key or type, an object that is not a JSON object.
func splitEvent(b []byte) (typ string, obj []byte, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return "", nil, false
	}
	i++
	var haveType, haveObject bool
	for {
		key, j, ok := plainString(b, skipSpace(b, i))
		if !ok {
			return "", nil, false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return "", nil, false
		}
		i = skipSpace(b, i+1)
		switch string(key) {
		case "type":
			t, j, ok := plainString(b, i)
			if !ok {
				return "", nil, false
			}
			typ, haveType, i = eventType(t), true, j
		case "object":
			if i >= len(b) || b[i] != '{' {
				return "", nil, false
			}
			var s bracketScan
			end := s.scan(b, i)
			if end < 0 {
				return "", nil, false
			}
			obj, haveObject, i = b[i:end], true, end
		default:
			return "", nil, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return "", nil, false
		}
		if b[i] == ',' {
			i++
			continue
		}
		if b[i] != '}' {
			return "", nil, false
		}
		if skipSpace(b, i+1) != len(b) || !haveType || !haveObject {
			return "", nil, false
		}
		return typ, obj, true
	}
}

// plainString reads a JSON string at b[i] made only of printable ASCII
// with no escapes, which decodes to its own bytes, and returns them and
// the offset past its closing quote.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c > 0x7e:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// eventType returns the watch event types as the constants' strings, so
// an event does not allocate its type.
func eventType(t []byte) string {
	switch string(t) {
	case "ADDED":
		return "ADDED"
	case "MODIFIED":
		return "MODIFIED"
	case "DELETED":
		return "DELETED"
	case "BOOKMARK":
		return "BOOKMARK"
	case "ERROR":
		return "ERROR"
	}
	return string(t)
}
