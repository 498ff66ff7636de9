package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestConfirmTarget(t *testing.T) {
	const host, uid = "https://prod.example:6443", "5f1c"
	for _, tc := range []struct {
		name     string
		yes, tty bool
		input    string
		wantErr  string // "" means confirmed
		wantAsk  bool
	}{
		{name: "--yes needs no terminal", yes: true},
		{name: "--yes on a terminal asks nothing", yes: true, tty: true},
		{name: "no terminal, no --yes", wantErr: "stdin is not a terminal"},
		{name: "person types yes", tty: true, input: "yes\n", wantAsk: true},
		{name: "person types y", tty: true, input: " Y \n", wantAsk: true},
		{name: "person types no", tty: true, input: "no\n", wantErr: "not confirmed", wantAsk: true},
		{name: "person just presses enter", tty: true, input: "\n", wantErr: "not confirmed", wantAsk: true},
		{name: "terminal closed", tty: true, input: "", wantErr: "no confirmation read", wantAsk: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := isTerminal
			isTerminal = func(io.Reader) bool { return tc.tty }
			defer func() { isTerminal = old }()
			var out bytes.Buffer
			err := confirmTarget(strings.NewReader(tc.input), &out, tc.yes, host, uid)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), host)):
				t.Fatalf("err = %v, want one naming %s and saying %q", err, host, tc.wantErr)
			}
			if asked := strings.Contains(out.String(), host); asked != tc.wantAsk {
				t.Errorf("asked = %v (%q), want %v", asked, out.String(), tc.wantAsk)
			}
		})
	}
}

// A pipe is not a person: without a terminal, isTerminal says no.
func TestIsTerminalOnAPipe(t *testing.T) {
	if isTerminal(strings.NewReader("yes\n")) {
		t.Fatal("a strings.Reader counted as a terminal")
	}
}
