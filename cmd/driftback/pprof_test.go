package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestServePprof(t *testing.T) {
	t.Run("off by default", func(t *testing.T) {
		stop, bound, err := servePprof("")
		if err != nil || bound != "" {
			t.Fatalf("servePprof(\"\") = %q, %v; want nothing served", bound, err)
		}
		stop()
	})
	t.Run("serves the profiles", func(t *testing.T) {
		stop, bound, err := servePprof("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		resp, err := http.Get("http://" + bound + "/debug/pprof/cmdline")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Fatalf("/debug/pprof/cmdline = %d %q", resp.StatusCode, body)
		}
	})
	t.Run("a bad address names the flag", func(t *testing.T) {
		_, _, err := servePprof("not an address")
		if err == nil || !strings.Contains(err.Error(), "--pprof-addr") {
			t.Fatalf("err = %v, want one naming --pprof-addr", err)
		}
	})
}
