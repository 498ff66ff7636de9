// Package benchenv reads the settings benchmarks take from the environment,
// so every benchmark reads them one way.
package benchenv

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ObjectsVar overrides a benchmark's object counts: "10000" or "2000,10000".
const ObjectsVar = "DRIFTBACK_BENCH_OBJECTS"

// Objects returns the object counts ObjectsVar names, or def when it is
// unset; an entry that is not a positive number is an error naming it.
func Objects(def ...int) ([]int, error) {
	s := os.Getenv(ObjectsVar)
	if s == "" {
		return def, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s=%q: %q is not allowed: positive numbers separated by commas, such as 10000,50000", ObjectsVar, s, f)
		}
		out = append(out, n)
	}
	return out, nil
}
