// Command image is `make image`: it builds driftback for each platform and
// writes one OCI image layout (a multi-platform index) from a base assembled
// here, without Docker and without pulling anything (internal/image).
//
//	go run ./hack/image --version v0.3.0 --out bin/image [--platforms linux/amd64,linux/arm64]
//
// SOURCE_DATE_EPOCH (seconds) is the time recorded in the image; the
// Makefile sets it to the commit time, so a rebuild of one commit gives the
// same digest.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/driftback/driftback/internal/image"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		version   = flag.String("version", "", "tag the image and the binary carry (required)")
		revision  = flag.String("revision", "", "source commit, for the org.opencontainers.image.revision label")
		out       = flag.String("out", "bin/image", "OCI image layout directory to write")
		platforms = flag.String("platforms", "linux/"+runtime.GOARCH, "comma-separated platforms, e.g. linux/amd64,linux/arm64")
		caDir     = flag.String("ca-dir", "/usr/share/ca-certificates/mozilla", "certificates of Debian's ca-certificates package")
	)
	flag.Parse()
	created := time.Unix(0, 0).UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH: %q is not allowed: seconds since 1970", s)
		}
		created = time.Unix(sec, 0).UTC()
	}
	certs, err := image.DebianCACerts(*caDir)
	if err != nil {
		return err
	}
	o := image.Options{Version: *version, Revision: *revision, Created: created, CACerts: certs}
	imgs := map[string]v1.Image{}
	for _, p := range strings.Split(*platforms, ",") {
		plat, err := v1.ParsePlatform(p)
		if err != nil || plat.OS != "linux" {
			return fmt.Errorf("--platforms: %q is not allowed: linux/<arch>", p)
		}
		bin, err := image.BuildBinary(context.Background(), ".", plat.Architecture, *version)
		if err != nil {
			return err
		}
		if imgs[p], err = image.Image(bin, *plat, o); err != nil {
			return err
		}
	}
	idx, err := image.Index(imgs, o)
	if err != nil {
		return err
	}
	if err := image.WriteLayout(*out, idx, *version); err != nil {
		return err
	}
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("image %s (%s) written to %s as an OCI layout, digest %s\n", *version, *platforms, *out, d)
	return nil
}
