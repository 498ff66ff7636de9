package image

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildBinary compiles ./cmd/driftback of the module in moduleDir for
// linux/goarch into a file and returns its bytes: static (no cgo), paths
// trimmed and no VCS stamp, so the same source and toolchain give the same
// bytes; the version is injected as `make build` does.
func BuildBinary(ctx context.Context, moduleDir, goarch, version string) ([]byte, error) {
	out, err := os.MkdirTemp("", "driftback-image-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	bin := filepath.Join(out, "driftback")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -buildid= -X main.version="+version, "-o", bin, "./cmd/driftback")
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build linux/%s: %w: %s", goarch, err, stderr.String())
	}
	return os.ReadFile(bin)
}
