// Package memlimit gives Go's garbage collector the container's memory
// limit. Without it the heap may grow to twice what is live before a
// collection (GOGC=100), and a pod whose first publish of a large cluster
// briefly holds much live memory is killed for exceeding its limit although
// its live heap fits: the kubelet restarts it, it publishes the same first
// commit again, and is killed again. With a soft limit the collector works
// harder near the limit instead.
package memlimit

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Share is the part of the container's limit given to Go's heap and
// runtime: the rest is for what Go does not count (the binary's mapped
// pages, thread stacks outside the heap).
const Share = 0.9

// Files the limit is read from, relative to /sys/fs/cgroup, as a container
// sees its own cgroup: cgroup v2's memory.max, then cgroup v1's.
var files = []string{"memory.max", "memory/memory.limit_in_bytes"}

// unlimitedV1 is where cgroup v1 reports no limit: it prints the largest
// page-aligned int64 (9223372036854771712); anything that large is none.
const unlimitedV1 = int64(1) << 62

// FromCgroup reads the container's memory limit in bytes from fsys, the
// root of the cgroup file system; ok is false when there is none (no
// such file, "max", or cgroup v1's unlimited value).
func FromCgroup(fsys fs.FS) (limit int64, ok bool, err error) {
	for _, name := range files {
		b, err := fs.ReadFile(fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, false, fmt.Errorf("read the cgroup memory limit %s: %w", name, err)
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0, false, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return 0, false, fmt.Errorf("cgroup memory limit %s: %q is not a number of bytes or \"max\"", name, s)
		}
		if n >= unlimitedV1 {
			return 0, false, nil
		}
		return n, true, nil
	}
	return 0, false, nil
}

// Apply sets Go's memory limit to Share of the container's limit read from
// fsys, unless GOMEMLIMIT is set (Go honours that itself, and a person's
// choice wins). It returns the limit set, 0 when it set none.
func Apply(fsys fs.FS) (int64, error) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0, nil
	}
	limit, ok, err := FromCgroup(fsys)
	if err != nil || !ok {
		return 0, err
	}
	soft := int64(math.Floor(float64(limit) * Share))
	debug.SetMemoryLimit(soft)
	return soft, nil
}
