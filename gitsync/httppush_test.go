package gitsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/driftback/driftback/internal/gitserver"
)

// frontDoor is a proxy before a test Git server: it records each
// receive-pack POST as it arrives and, when answer says so, answers it
// itself, as a server or a proxy in front of one would; it counts the
// listings of references for fetches.
type frontDoor struct {
	URL string
	// answer, when set, may answer a POST instead of the server: ok false
	// passes it on.
	answer func(r *http.Request) (status int, header map[string]string, body string, ok bool)
	// firstBytes, when set, is closed once the first bytes of a POST's
	// body have reached the proxy.
	firstBytes chan struct{}

	// listings counts the GETs of the upload-pack service's references.
	listings atomic.Int32

	mu    sync.Mutex
	posts []*http.Request
}

func newFrontDoor(t *testing.T, server string) *frontDoor {
	t.Helper()
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	f := &frontDoor{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Get("service") == transport.UploadPackServiceName {
			f.listings.Add(1)
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/"+transport.ReceivePackServiceName) {
			f.mu.Lock()
			f.posts = append(f.posts, r)
			f.mu.Unlock()
			if f.answer != nil {
				if status, header, body, ok := f.answer(r); ok {
					for k, v := range header {
						w.Header().Set(k, v)
					}
					w.WriteHeader(status)
					io.WriteString(w, body)
					return
				}
			}
			if f.firstBytes != nil {
				r.Body = &firstRead{ReadCloser: r.Body, done: f.firstBytes}
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	f.URL = s.URL
	return f
}

// chunked says how each POST came: with no length and chunked.
func (f *frontDoor) chunked() []bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []bool
	for _, r := range f.posts {
		out = append(out, r.ContentLength == -1 && len(r.TransferEncoding) == 1 && r.TransferEncoding[0] == "chunked")
	}
	return out
}

// firstRead closes done when its first bytes are read.
type firstRead struct {
	io.ReadCloser
	done chan struct{}
	once sync.Once
}

func (f *firstRead) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if n > 0 {
		f.once.Do(func() { close(f.done) })
	}
	return n, err
}

// Over every kind of HTTP credential, and over TLS with a private CA, the
// push's POST goes out with no length, chunked, and lands whole: the
// server's git reads every object back.
func TestHTTPPushStreams(t *testing.T) {
	const user, pass, token = "bot", "the-pass", "the-token"
	tests := []struct {
		name string
		opts gitserver.Options
		auth Auth
		// inURL puts the user and password in the URL instead.
		inURL bool
	}{
		{name: "no credentials"},
		{name: "basic auth", opts: gitserver.Options{User: user, Password: pass}, auth: Auth{Username: user, Password: pass, AllowInsecureHTTP: true}},
		{name: "bearer token", opts: gitserver.Options{Token: token}, auth: Auth{BearerToken: token, AllowInsecureHTTP: true}},
		{name: "user and password in the URL", opts: gitserver.Options{User: user, Password: pass}, auth: Auth{AllowInsecureHTTP: true}, inURL: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := gitserver.New(t, tc.opts)
			_, repoDir := srv.CreateRepo(t, "fleet")
			gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
			front := newFrontDoor(t, srv.URL)
			u := front.URL + "/fleet.git"
			if tc.inURL {
				u = strings.Replace(u, "http://", "http://"+user+":"+pass+"@", 1)
			}
			r, err := tc.auth.Open(u)
			if err != nil {
				t.Fatal(err)
			}
			files := manyFiles(deltaSearchMax + 500)
			if _, err := r.Publish(context.Background(), Target{Branch: "main", Dir: "d", AuthorName: "a", AuthorEmail: "a@x", Attempts: 1},
				func(fs.FS) (Content, error) { return Content{Files: files}, nil }); err != nil {
				t.Fatal(err)
			}
			if got := front.chunked(); len(got) != 1 || !got[0] {
				t.Errorf("receive-pack POSTs chunked without a length = %v, want [true]", got)
			}
			gitserver.Run(t, repoDir, "git", "fsck", "--strict", "--no-dangling")
			last := fmt.Sprintf("status/o-%05d.yaml", len(files)-1)
			if got := gitserver.Run(t, repoDir, "git", "show", "main:d/"+last); got != string(files[last]) {
				t.Errorf("server has %s = %q, want %q", last, got, files[last])
			}
		})
	}
}

// The request's first bytes reach the server while the pack is still being
// written: the pack below is only written once they have arrived, so a
// client that buffered the body whole before sending it never gets there.
func TestHTTPPushSendsBeforePackEnds(t *testing.T) {
	srv := gitserver.New(t, gitserver.Options{})
	_, repoDir := srv.CreateRepo(t, "fleet")
	gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
	front := newFrontDoor(t, srv.URL)
	front.firstBytes = make(chan struct{})
	r, err := Auth{}.Open(front.URL + "/fleet.git")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tips, err := r.Fetch(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	p := plan{parent: tips["main"]}
	if err := r.fillRoot(&p); err != nil {
		t.Fatal(err)
	}
	r.written.take()
	commit, _, _, err := r.build(p, Target{Branch: "main", Dir: "d", AuthorName: "a", AuthorEmail: "a@x"},
		Content{Files: map[string][]byte{"a.yaml": []byte("a\n")}})
	if err != nil {
		t.Fatal(err)
	}
	var pack bytes.Buffer
	if err := writePack(&pack, r.repo.Storer, r.written.take(), nil); err != nil {
		t.Fatal(err)
	}

	pr, pw := io.Pipe()
	go func() {
		select {
		case <-front.firstBytes:
			_, err := pw.Write(pack.Bytes())
			pw.CloseWithError(err)
		case <-time.After(30 * time.Second):
			pw.CloseWithError(errors.New("no byte of the request reached the server before the pack was written"))
		}
	}()
	req := packp.NewReferenceUpdateRequest()
	_ = req.Capabilities.Set(capability.ReportStatus)
	req.Commands = []*packp.Command{{Name: plumbing.NewBranchReferenceName("main"), Old: tips["main"], New: commit}}
	req.Packfile = pr
	ep, err := ParseURL(r.url)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := r.receivePackHTTP(ctx, ep, req)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if rs == nil || rs.Error() != nil {
		t.Fatalf("report = %+v", rs)
	}
	if got := strings.TrimSpace(gitserver.Run(t, repoDir, "git", "rev-parse", "main")); got != commit.String() {
		t.Errorf("main = %s, want %s", got, commit)
	}
}

// Every way the POST can fail ends as it did through go-git's transport:
// each case runs streamed and through go-git's buffered POST, with the same
// verdict (error kind, permanence), no credential in the error, and a
// server that reads no body without a length gets the push again, buffered.
func TestHTTPPushErrors(t *testing.T) {
	const user, pass = "bot", "pass-Z9-secret"
	answer := func(status int, body string) func(*http.Request) (int, map[string]string, string, bool) {
		return func(*http.Request) (int, map[string]string, string, bool) { return status, nil, body, true }
	}
	chunkedOnly := func(status int, body string) func(*http.Request) (int, map[string]string, string, bool) {
		return func(r *http.Request) (int, map[string]string, string, bool) {
			return status, nil, body, r.ContentLength == -1
		}
	}
	tests := []struct {
		name   string
		answer func(*http.Request) (int, map[string]string, string, bool)
		hook   string
		// streamedBefore: the server has taken a streamed push already.
		streamedBefore bool
		wantIs         error // nil: no particular kind
		wantText       string
		wantPermanent  bool
		wantLanded     bool
		// wantBuffered: the Repo pushes buffered from then on (streamed only).
		wantBuffered bool
	}{
		{name: "401", answer: answer(http.StatusUnauthorized, "bad credentials: "+pass),
			wantIs: transport.ErrAuthenticationRequired, wantPermanent: true},
		{name: "403", answer: answer(http.StatusForbidden, "read only"),
			wantIs: transport.ErrAuthorizationFailed, wantText: "read only", wantPermanent: true},
		{name: "404", answer: answer(http.StatusNotFound, "no such repository"),
			wantIs: transport.ErrRepositoryNotFound, wantPermanent: true},
		{name: "500", answer: answer(http.StatusInternalServerError, "boom"), wantText: "status code: 500"},
		{name: "503", answer: answer(http.StatusServiceUnavailable, "maintenance"), wantText: "status code: 503"},
		{name: "redirect of the POST", answer: func(*http.Request) (int, map[string]string, string, bool) {
			return http.StatusFound, map[string]string{"Location": "/elsewhere/git-receive-pack"}, "", true
		}, wantText: "redirect on non-initial request"},
		{name: "pre-receive hook declines", hook: `echo "policy: no pushes today" >&2; exit 1`,
			wantIs: ErrDeclined, wantText: "policy: no pushes today", wantPermanent: true},
		{name: "411 to a body without a length", answer: chunkedOnly(http.StatusLengthRequired, "length required"),
			wantLanded: true, wantBuffered: true},
		{name: "400 to a body without a length (Go's net/http/cgi)", answer: chunkedOnly(http.StatusBadRequest, "Chunked request bodies are not supported by CGI."),
			wantLanded: true, wantBuffered: true},
		{name: "400 from a server that took a streamed push before", answer: answer(http.StatusBadRequest, "bad request"),
			streamedBefore: true, wantText: "status code: 400"},
	}
	for _, tc := range tests {
		for _, streamed := range []bool{true, false} {
			name := tc.name + "/go-git"
			if streamed {
				name = tc.name + "/streamed"
			}
			t.Run(name, func(t *testing.T) {
				logs := CaptureLogs(t)
				srv := gitserver.New(t, gitserver.Options{User: user, Password: pass})
				_, repoDir := srv.CreateRepo(t, "fleet")
				gitserver.Seed(t, repoDir, "main", map[string]string{"apps/x.yaml": "x"})
				if tc.hook != "" {
					gitserver.Hook(t, repoDir, "pre-receive", tc.hook)
				}
				front := newFrontDoor(t, srv.URL)
				front.answer = tc.answer
				r, err := Auth{Username: user, Password: pass, AllowInsecureHTTP: true}.Open(front.URL + "/fleet.git")
				if err != nil {
					t.Fatal(err)
				}
				r.http.buffered = !streamed
				r.http.streamed = tc.streamedBefore
				_, err = r.Publish(context.Background(), Target{Branch: "main", Dir: "d", AuthorName: "a", AuthorEmail: "a@x", Attempts: 1},
					func(fs.FS) (Content, error) { return Content{Files: map[string][]byte{"a.yaml": []byte("a\n")}}, nil })
				landed := gitserver.Run(t, repoDir, "git", "ls-tree", "--name-only", "main", "d/") != ""
				if landed != tc.wantLanded {
					t.Errorf("landed = %v, want %v (err %v)", landed, tc.wantLanded, err)
				}
				if tc.wantLanded {
					if err != nil {
						t.Fatalf("err = %v", err)
					}
				} else {
					if err == nil {
						t.Fatal("err = nil")
					}
					if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
						t.Errorf("err = %v, want %v", err, tc.wantIs)
					}
					if !strings.Contains(err.Error(), tc.wantText) {
						t.Errorf("err = %v, want it to say %q", err, tc.wantText)
					}
					if isPermanent(err) != tc.wantPermanent {
						t.Errorf("permanent = %v, want %v (err %v)", isPermanent(err), tc.wantPermanent, err)
					}
				}
				if strings.Contains(fmt.Sprint(err), pass) || strings.Contains(logs.String(), pass) {
					t.Errorf("the password leaked:\nerror: %v\nlogs: %s", err, logs.String())
				}
				if streamed {
					if got := front.chunked(); len(got) == 0 || !got[0] {
						t.Errorf("first POST chunked = %v, want true", got)
					}
					if r.http.buffered != tc.wantBuffered {
						t.Errorf("pushing buffered from now on = %v, want %v", r.http.buffered, tc.wantBuffered)
					}
				} else if got := front.chunked(); len(got) == 0 || got[0] {
					t.Errorf("go-git's POST chunked = %v, want false", got)
				}
			})
		}
	}
}

// manyFiles are n small, distinct status files.
func manyFiles(n int) map[string][]byte {
	files := make(map[string][]byte, n)
	for i := range n {
		files[fmt.Sprintf("status/o-%05d.yaml", i)] = fmt.Appendf(nil, "status:\n  arn: arn:aws:s3:::bucket-%05d\n", i)
	}
	return files
}
