package image

import (
	"archive/tar"
	"context"
	"crypto/x509"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const testVersion = "v9.8.7-imagetest"

var (
	binOnce sync.Once
	binData []byte
	binErr  error
)

// testBinary is driftback built as `make image` builds it, once per run.
func testBinary(t *testing.T) []byte {
	t.Helper()
	binOnce.Do(func() { binData, binErr = BuildBinary(context.Background(), "../..", runtime.GOARCH, testVersion) })
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binData
}

func testOptions(t *testing.T) Options {
	t.Helper()
	certs, err := DebianCACerts("/usr/share/ca-certificates/mozilla")
	if err != nil {
		t.Fatal(err)
	}
	return Options{Version: testVersion, Revision: "0123456789abcdef", Created: time.Unix(1700000000, 0).UTC(), CACerts: certs}
}

func platform() string { return "linux/" + runtime.GOARCH }

func buildLayout(t *testing.T, bin []byte, o Options) (string, v1.Hash) {
	t.Helper()
	p, err := v1.ParsePlatform(platform())
	if err != nil {
		t.Fatal(err)
	}
	img, err := Image(bin, *p, o)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := Index(map[string]v1.Image{platform(): img}, o)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "image")
	if err := WriteLayout(dir, idx, o.Version); err != nil {
		t.Fatal(err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return dir, d
}

// openImage reads the layout back as a registry client would: index.json
// names the tag, the index holds this platform's image.
func openImage(t *testing.T, dir string) v1.Image {
	t.Helper()
	top, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != testVersion {
		t.Fatalf("index.json = %+v, want one index named %s", im.Manifests, testVersion)
	}
	if im.Manifests[0].MediaType != types.OCIImageIndex {
		t.Fatalf("index.json points to %s, want an OCI image index", im.Manifests[0].MediaType)
	}
	idx, err := top.ImageIndex(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.OS+"/"+d.Platform.Architecture == platform() {
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			return img
		}
	}
	t.Fatalf("no %s image in %+v", platform(), m.Manifests)
	return nil
}

// The image as a cluster runs it: config, files, and the binary itself.
func TestImageRunsTheTaggedBinary(t *testing.T) {
	o := testOptions(t)
	dir, _ := buildLayout(t, testBinary(t), o)
	img := openImage(t, dir)

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cf.Config.Entrypoint, " "); got != Entrypoint {
		t.Errorf("entrypoint = %q, want %q", got, Entrypoint)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user = %q, want 65532:65532 (the Deployment's runAsUser)", cf.Config.User)
	}
	if cf.OS+"/"+cf.Architecture != platform() {
		t.Errorf("platform = %s/%s, want %s", cf.OS, cf.Architecture, platform())
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.version":  testVersion,
		"org.opencontainers.image.revision": "0123456789abcdef",
		"org.opencontainers.image.source":   Source,
		"org.opencontainers.image.title":    "driftback",
		"org.opencontainers.image.created":  "2023-11-14T22:13:20Z",
	} {
		if got := cf.Config.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	if !cf.Created.Time.Equal(o.Created) {
		t.Errorf("created = %v, want SOURCE_DATE_EPOCH %v", cf.Created, o.Created)
	}

	files := extract(t, img)
	want := map[string]bool{"etc/passwd": true, "etc/group": true, strings.TrimPrefix(CAFile, "/"): true, strings.TrimPrefix(Entrypoint, "/"): true}
	for name := range files {
		if !want[name] {
			t.Errorf("image holds %s; the base is the CA bundle, the nonroot user and the binary, nothing else", name)
		}
	}
	if !strings.Contains(string(files["etc/passwd"].data), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd = %q, want the nonroot user 65532", files["etc/passwd"].data)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(files[strings.TrimPrefix(CAFile, "/")].data) {
		t.Errorf("%s holds no certificate", CAFile)
	}
	bin := files[strings.TrimPrefix(Entrypoint, "/")]
	if bin.mode&0o111 == 0 {
		t.Errorf("%s mode %o, want executable", Entrypoint, bin.mode)
	}

	exe := filepath.Join(t.TempDir(), "driftback")
	if err := os.WriteFile(exe, bin.data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exe, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("driftback version from the image: %v: %s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "driftback "+testVersion {
		t.Errorf("driftback version in the image prints %q, want the tag %q", got, "driftback "+testVersion)
	}
}

// extract flattens the image's file system (directories left out).
func extract(t *testing.T, img v1.Image) map[string]file {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	out := map[string]file{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeDir {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(time.Unix(1700000000, 0)) {
			t.Errorf("%s: uid %d gid %d mtime %v, want root and SOURCE_DATE_EPOCH", h.Name, h.Uid, h.Gid, h.ModTime)
		}
		out[strings.TrimPrefix(h.Name, "/")] = file{mode: h.Mode, data: b}
	}
}

// Same inputs, same digest: the binary is built a second time and the image
// assembled again. A different SOURCE_DATE_EPOCH or version changes it.
func TestImageIsReproducible(t *testing.T) {
	o := testOptions(t)
	_, first := buildLayout(t, testBinary(t), o)
	again, err := BuildBinary(context.Background(), "../..", runtime.GOARCH, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	_, second := buildLayout(t, again, o)
	if first != second {
		t.Fatalf("two builds of the same inputs: digests %s and %s", first, second)
	}
	later := o
	later.Created = o.Created.Add(time.Second)
	if _, d := buildLayout(t, again, later); d == first {
		t.Errorf("another SOURCE_DATE_EPOCH gave the same digest %s: the time is not recorded", d)
	}
}
