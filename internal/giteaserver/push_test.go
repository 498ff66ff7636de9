package giteaserver_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/internal/giteaserver"
)

// Gitea takes gitsync's pushes as they are sent: a receive-pack POST with no
// length, chunked (gitsync/httppush.go), a first one of thousands of files
// and a small one after it, each read back whole by a second reader. A
// proxy before Gitea records how each POST came; gitsync would push
// buffered, with a length, after a refusal.
func TestGiteaTakesStreamedPushes(t *testing.T) {
	g := giteaserver.Start(t)
	clone := g.CreateRepo(t, "fleet")
	root, err := url.Parse(g.URL)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var chunked []bool
	proxy := httputil.NewSingleHostReverseProxy(root)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			mu.Lock()
			chunked = append(chunked, r.ContentLength == -1 && len(r.TransferEncoding) == 1 && r.TransferEncoding[0] == "chunked")
			mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	auth := gitsync.Auth{Username: g.User, Password: g.Token, AllowInsecureHTTP: true}
	w, err := auth.Open(strings.Replace(clone, strings.TrimSuffix(g.URL, "/"), front.URL, 1))
	if err != nil {
		t.Fatal(err)
	}
	tg := gitsync.Target{Branch: "main", Dir: "d", AuthorName: "a", AuthorEmail: "a@x", Attempts: 1}
	for _, n := range []int{5000, 3} {
		files := map[string][]byte{}
		for i := range n {
			files[fmt.Sprintf("o-%05d.yaml", i)] = fmt.Appendf(nil, "status:\n  arn: arn:aws:s3:::bucket-%d-%05d\n", n, i)
		}
		if _, err := w.Publish(context.Background(), tg, func(fs.FS) (gitsync.Content, error) {
			return gitsync.Content{Files: files}, nil
		}); err != nil {
			t.Fatalf("publish %d files: %v", n, err)
		}
		r, err := auth.Open(clone)
		if err != nil {
			t.Fatal(err)
		}
		tree, _, err := r.ReadBranch(context.Background(), "main")
		if err != nil {
			t.Fatal(err)
		}
		held, err := fs.ReadDir(tree, "d")
		if err != nil {
			t.Fatal(err)
		}
		got, err := fs.ReadFile(tree, "d/o-00002.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if len(held) != n || string(got) != string(files["o-00002.yaml"]) {
			t.Fatalf("Gitea holds %d files (o-00002.yaml %q), want %d", len(held), got, n)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(chunked) != 2 || !chunked[0] || !chunked[1] {
		t.Errorf("receive-pack POSTs chunked without a length = %v, want [true true]", chunked)
	}
}
