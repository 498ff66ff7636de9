package main

import (
	"strings"
	"testing"
)

func TestLogFormat(t *testing.T) {
	if _, err := runCLI(t, "--log-format", "json", "version"); err != nil {
		t.Errorf("--log-format json: %v", err)
	}
	if _, err := runCLI(t, "--log-format", "yaml", "version"); err == nil || !strings.Contains(err.Error(), "--log-format") {
		t.Errorf("--log-format yaml: err = %v, want the flag named", err)
	}
}
