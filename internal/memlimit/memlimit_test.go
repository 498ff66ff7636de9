package memlimit

import (
	"runtime/debug"
	"strings"
	"testing"
	"testing/fstest"
)

func TestFromCgroup(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   fstest.MapFS
		limit   int64
		ok      bool
		wantErr string
	}{
		{name: "no cgroup files", files: fstest.MapFS{}},
		{name: "v2 limit", files: fstest.MapFS{"memory.max": {Data: []byte("536870912\n")}}, limit: 536870912, ok: true},
		{name: "v2 no limit", files: fstest.MapFS{"memory.max": {Data: []byte("max\n")}}},
		{name: "v1 limit", files: fstest.MapFS{"memory/memory.limit_in_bytes": {Data: []byte("268435456\n")}}, limit: 268435456, ok: true},
		{name: "v1 no limit", files: fstest.MapFS{"memory/memory.limit_in_bytes": {Data: []byte("9223372036854771712\n")}}},
		{name: "v2 wins over v1", files: fstest.MapFS{
			"memory.max":                   {Data: []byte("1048576\n")},
			"memory/memory.limit_in_bytes": {Data: []byte("268435456\n")},
		}, limit: 1048576, ok: true},
		{name: "garbage", files: fstest.MapFS{"memory.max": {Data: []byte("lots\n")}}, wantErr: `memory.max: "lots" is not a number of bytes or "max"`},
		{name: "zero", files: fstest.MapFS{"memory.max": {Data: []byte("0\n")}}, wantErr: `memory.max: "0" is not a number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limit, ok, err := FromCgroup(tc.files)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || limit != tc.limit || ok != tc.ok {
				t.Fatalf("FromCgroup = %d, %v, %v; want %d, %v, nil", limit, ok, err, tc.limit, tc.ok)
			}
		})
	}
}

func TestApply(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	limited := fstest.MapFS{"memory.max": {Data: []byte("536870912\n")}}

	t.Run("sets Share of the container's limit", func(t *testing.T) {
		t.Setenv("GOMEMLIMIT", "")
		got, err := Apply(limited)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(483183820); got != want || debug.SetMemoryLimit(-1) != want {
			t.Fatalf("Apply = %d, runtime limit %d; want %d (90%% of 512 MiB)", got, debug.SetMemoryLimit(-1), want)
		}
	})
	t.Run("GOMEMLIMIT wins", func(t *testing.T) {
		debug.SetMemoryLimit(before)
		t.Setenv("GOMEMLIMIT", "300MiB")
		got, err := Apply(limited)
		if err != nil || got != 0 || debug.SetMemoryLimit(-1) != before {
			t.Fatalf("Apply = %d, %v with GOMEMLIMIT set; runtime limit %d, want it left at %d", got, err, debug.SetMemoryLimit(-1), before)
		}
	})
	t.Run("no limit leaves Go's", func(t *testing.T) {
		debug.SetMemoryLimit(before)
		t.Setenv("GOMEMLIMIT", "")
		got, err := Apply(fstest.MapFS{"memory.max": {Data: []byte("max\n")}})
		if err != nil || got != 0 || debug.SetMemoryLimit(-1) != before {
			t.Fatalf("Apply = %d, %v without a limit; runtime limit %d, want it left at %d", got, err, debug.SetMemoryLimit(-1), before)
		}
	})
}
