package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// tookLine reads the phases of a publish from driftback's committed log
// line (writeback: took.fetch=… took.prepare=… took.build=… took.push=…).
var tookLine = regexp.MustCompile(`took\.(fetch|prepare|build|push)=(\S+)`)

// publishPhases summarizes where the publishes after the first commit
// spent their time: p50 and max of each phase over the committed lines of
// logs, for a table row or a log line.
func publishPhases(logs string) string {
	phases := map[string][]time.Duration{}
	first := true
	for _, l := range strings.Split(logs, "\n") {
		if !strings.Contains(l, "msg=committed") {
			continue
		}
		if first { // the first commit of every object: not a steady-state publish
			first = false
			continue
		}
		for _, m := range tookLine.FindAllStringSubmatch(l, -1) {
			if d, err := time.ParseDuration(m[2]); err == nil {
				phases[m[1]] = append(phases[m[1]], d)
			}
		}
	}
	var out []string
	for _, p := range []string{"fetch", "prepare", "build", "push"} {
		ds := phases[p]
		if len(ds) == 0 {
			continue
		}
		slices.Sort(ds)
		out = append(out, fmt.Sprintf("%s p50 %s max %s", p, ds[len(ds)/2], ds[len(ds)-1]))
	}
	return fmt.Sprintf("%d publishes: %s", len(phases["push"]), strings.Join(out, "; "))
}
