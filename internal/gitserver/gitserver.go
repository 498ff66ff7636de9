// Package gitserver runs a real Git server for tests: git http-backend behind
// net/http/cgi on a loopback port, optionally with basic auth.
package gitserver

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Server serves the bare repositories under Root over smart HTTP.
type Server struct {
	Root string
	// URL is the base URL; a repository named x is at URL + "/x.git".
	URL      string
	User     string
	Password string
	Token    string

	// CACert is the PEM certificate a TLS server's certificate is (a
	// self-signed CA for 127.0.0.1): what a client must trust. Nil
	// without TLS.
	CACert []byte

	handler http.Handler
	tls     *tls.Config
	addr    string
	mu      sync.Mutex
	srv     *http.Server
}

// Options configure a Server.
type Options struct {
	// User and Password, when set, are required by basic auth.
	User, Password string
	// Token, when set, is required as "Authorization: Bearer <Token>".
	Token string
	// TLS serves https:// with a certificate of a private CA (CACert).
	TLS bool
}

// New starts a server that stops when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("git --exec-path: %v (is git installed?)", err)
	}
	s := &Server{Root: t.TempDir(), User: opts.User, Password: opts.Password, Token: opts.Token}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env: []string{
			"GIT_PROJECT_ROOT=" + s.Root,
			"GIT_HTTP_EXPORT_ALL=1",
			// Allow pushes without REMOTE_USER; auth is checked below.
			"GIT_CONFIG_COUNT=2", "GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=true",
			// No detached gc after a push: it would race the test's cleanup.
			"GIT_CONFIG_KEY_1=receive.autogc", "GIT_CONFIG_VALUE_1=false",
		},
	}
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.Token {
			w.Header().Set("WWW-Authenticate", `Bearer realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if s.User != "" {
			u, p, ok := r.BasicAuth()
			if !ok || u != s.User || p != s.Password {
				w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		if len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked" {
			// net/http/cgi answers a chunked body 400 (its ServeHTTP), though
			// git http-backend reads one to its end when no CONTENT_LENGTH
			// is set, as Apache's mod_cgi runs it, and git's own client
			// pushes more than http.postBuffer that way. Passed on as a body
			// of unknown length, cgi streams it to http-backend's stdin.
			r = r.Clone(r.Context())
			r.TransferEncoding = nil
			r.ContentLength = -1
		}
		backend.ServeHTTP(w, r)
	})
	s.addr = "127.0.0.1:0"
	scheme := "http"
	if opts.TLS {
		s.CACert, s.tls = selfSignedCA(t)
		scheme = "https"
	}
	s.Start(t)
	t.Cleanup(s.Stop)
	s.URL = scheme + "://" + s.addr
	return s
}

// Stop shuts the server down, closing open connections, as an outage would.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// Start serves again on the same address (the first call picks a port).
func (s *Server) Start(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return
	}
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		t.Fatalf("git server: listen on %s: %v", s.addr, err)
	}
	s.addr = l.Addr().String()
	if s.tls != nil {
		l = tls.NewListener(l, s.tls)
	}
	s.srv = &http.Server{Handler: s.handler}
	go s.srv.Serve(l)
}

// CreateRepo makes an empty bare repository (default branch main) and
// returns its URL and its path on disk.
func (s *Server) CreateRepo(t testing.TB, name string) (url, dir string) {
	t.Helper()
	dir = filepath.Join(s.Root, name+".git")
	Run(t, "", "git", "init", "-q", "--bare", "-b", "main", dir)
	return s.URL + "/" + name + ".git", dir
}

// Seed commits files (path → content) on branch of the bare repository at
// dir with the git CLI, as a person would; gitConfig are extra `git -c`
// settings for the commit (a signing key, say).
func Seed(t testing.TB, dir, branch string, files map[string]string, gitConfig ...string) {
	t.Helper()
	work := t.TempDir()
	Run(t, work, "git", "init", "-q", "-b", branch)
	for p, c := range files {
		full := filepath.Join(work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	Run(t, work, "git", "add", "-A")
	args := []string{"-c", "user.name=test", "-c", "user.email=test@localhost"}
	for _, c := range gitConfig {
		args = append(args, "-c", c)
	}
	Run(t, work, "git", append(args, "commit", "-q", "-m", "seed")...)
	Run(t, work, "git", "push", "-q", dir, branch)
}

// Run runs a command and fails the test with its output when it fails.
func Run(t testing.TB, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Hook installs an executable hook (e.g. pre-receive) in the bare
// repository at dir; an empty script removes it.
func Hook(t testing.TB, dir, name, script string) {
	t.Helper()
	p := filepath.Join(dir, "hooks", name)
	if script == "" {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}
