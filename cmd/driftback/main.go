// Command driftback records the runtime state that Git lacks as a Kustomize
// overlay on a Git branch. This file and its siblings only wire flags to the
// capture, render and gitsync packages.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
