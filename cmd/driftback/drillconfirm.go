package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// isTerminal says whether r is an interactive terminal a person types into.
// A variable so tests can stand in for a person.
var isTerminal = func(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// confirmTarget makes a person confirm the drill's target before anything is
// force-applied to it: the UID check only knows the clusters the branch
// records, not every production cluster. --yes is that confirmation given in
// advance (scripts, CI, the demo); without it a terminal is asked, and
// anything else (a pipe, a cron job) is refused rather than guessed.
func confirmTarget(in io.Reader, out io.Writer, yes bool, host, uid string) error {
	if yes {
		return nil
	}
	if !isTerminal(in) {
		return fmt.Errorf("refusing to drill into %s (kube-system UID %s) without confirmation: stdin is not a terminal; drill force-applies, so check that this is a scratch cluster and pass --yes", host, uid)
	}
	fmt.Fprintf(out, "drill force-applies the overlay to %s (kube-system UID %s). Is this a scratch cluster? Type yes to continue: ", host, uid)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("refusing to drill into %s: no confirmation read: %w", host, err)
	}
	if a := strings.ToLower(strings.TrimSpace(line)); a != "yes" && a != "y" {
		return fmt.Errorf("refusing to drill into %s: not confirmed (answer %q; type yes, or pass --yes)", host, strings.TrimSpace(line))
	}
	return nil
}
