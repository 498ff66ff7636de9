// Package giteaserver runs a real Gitea server for tests: the binary that
// hack/build-gitea.sh compiles from the Go module proxy, with SQLite in a
// temporary folder, on a loopback port, offline and without a mailer. Its
// admin user and API token are made with Gitea's own CLI, as an operator
// would. Gitea serves Git over HTTP too, so tests push driftback's side
// branch to it and open pull requests through its API.
package giteaserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/driftback/driftback/internal/testenv"
)

// Admin is the name of the administrator the server is set up with.
const Admin = "driftback-admin"

// Server is a running Gitea.
type Server struct {
	// URL is the root URL, e.g. http://127.0.0.1:34567/ (API under api/v1).
	URL string
	// User, Password and Token are the administrator's credentials; Token
	// is an API token with all scopes, made by `gitea admin user
	// generate-access-token`. Git over HTTP accepts User with Token as password.
	User, Password, Token string

	bin, dir, config string
	mu               sync.Mutex
	cmd              *exec.Cmd
	exited           chan struct{}
	out              *lockedWriter
}

// Binary returns the path of the gitea binary: $DRIFTBACK_GITEA (the folder
// hack/build-gitea.sh prints) when set, else the script is run (building it
// the first time, with progress on stderr).
func Binary() (bin, source string, err error) {
	dir := os.Getenv("DRIFTBACK_GITEA")
	if dir == "" {
		root, err := testenv.RepoRoot()
		if err != nil {
			return "", "", err
		}
		cmd := exec.Command("bash", filepath.Join(root, "hack", "build-gitea.sh"))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return "", "", fmt.Errorf("build gitea (hack/build-gitea.sh): %w", err)
		}
		dir = strings.TrimSpace(string(out))
	}
	src, err := os.ReadFile(filepath.Join(dir, "source"))
	if err != nil {
		return "", "", fmt.Errorf("gitea's source folder (written by hack/build-gitea.sh): %w", err)
	}
	return filepath.Join(dir, "gitea"), strings.TrimSpace(string(src)), nil
}

// Start sets up and starts a Gitea that stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, source, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{bin: bin, dir: t.TempDir(), User: Admin, Password: "pw-" + randomHex(8)}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s.URL = fmt.Sprintf("http://127.0.0.1:%d/", port)
	s.config = filepath.Join(s.dir, "app.ini")
	if err := os.WriteFile(s.config, []byte(appIni(s.dir, source, port)), 0o600); err != nil {
		t.Fatal(err)
	}
	// The database is created by `gitea migrate`; users and tokens by the CLI.
	s.gitea(t, "migrate")
	s.gitea(t, "admin", "user", "create", "--username", Admin, "--password", s.Password,
		"--email", Admin+"@localhost", "--admin", "--must-change-password=false")
	// --raw prints the token alone on its line; the CLI may log before it.
	out := s.gitea(t, "admin", "user", "generate-access-token",
		"--username", Admin, "--token-name", "driftback-tests", "--scopes", "all", "--raw")
	for _, line := range strings.Split(out, "\n") {
		if l := strings.TrimSpace(line); len(l) == 40 && strings.Trim(l, "0123456789abcdef") == "" {
			s.Token = l
		}
	}
	if s.Token == "" {
		t.Fatalf("gitea admin user generate-access-token printed no token (%d lines)", strings.Count(out, "\n"))
	}
	t.Cleanup(s.Stop)
	s.Restart(t)
	return s
}

// Stop stops the server (SIGTERM to the process it started, then SIGKILL
// after 20s), as an outage would; Restart brings it back on the same port.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// Restart starts the server (again) and waits until its API answers.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	cmd := exec.Command(s.bin, "web", "--config", s.config, "--work-path", s.dir)
	cmd.Env = s.env()
	s.out = &lockedWriter{}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start gitea: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case <-exited:
			s.cmd = nil
			t.Fatalf("gitea exited while starting:\n%s", s.out.String())
		default:
		}
		if s.ping() == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gitea did not answer on %s within 2 minutes:\n%s", s.URL, s.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *Server) ping() error {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(s.URL + "api/v1/version")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("version: %s", resp.Status)
	}
	return nil
}

// CreateRepo creates an empty repository owned by the administrator (its
// default branch is main) and returns its Git URL. Nothing is committed: the
// test seeds it with git, as a person would.
func (s *Server) CreateRepo(t testing.TB, name string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "default_branch": "main", "private": false})
	var repo struct {
		CloneURL string `json:"clone_url"`
	}
	if err := s.API(context.Background(), http.MethodPost, "user/repos", body, &repo); err != nil {
		t.Fatalf("create repository %s: %v", name, err)
	}
	return repo.CloneURL
}

// API calls Gitea's REST API as the administrator (for test set-up and
// checks; driftback itself uses the SDK). out, when not nil, receives the
// decoded JSON answer.
func (s *Server) API(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+"api/v1/"+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(buf.String()))
	}
	if out != nil {
		return json.Unmarshal(buf.Bytes(), out)
	}
	return nil
}

// gitea runs a CLI command against the server's configuration and returns
// its standard output.
func (s *Server) gitea(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(s.bin, append(args, "--config", s.config, "--work-path", s.dir)...)
	cmd.Env = s.env()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		// The token is the output of one command: never print stdout.
		t.Fatalf("gitea %s: %v\n%s", args[0:min(3, len(args))], err, stderr.String())
	}
	return string(out)
}

func (s *Server) env() []string {
	env := []string{"HOME=" + s.dir, "GITEA_WORK_DIR=" + s.dir, "PATH=" + os.Getenv("PATH")}
	if os.Getuid() == 0 {
		// CI runs as root; Gitea refuses that unless told (it is a test).
		env = append(env, "GITEA_I_AM_BEING_UNSAFE_RUNNING_AS_ROOT=true")
	}
	return env
}

// appIni is the server's configuration: everything under dir, SQLite,
// offline, no mail, no SSH, no indexers, actions or packages, and
// no cron, so nothing but the test's requests makes it work.
func appIni(dir, source string, port int) string {
	runUser := "root"
	if u, err := user.Current(); err == nil {
		runUser = u.Username
	}
	jwt := func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return fmt.Sprintf(`APP_NAME = driftback-test
RUN_USER = %[4]s
RUN_MODE = prod
WORK_PATH = %[1]s

[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = %[3]d
ROOT_URL = http://127.0.0.1:%[3]d/
DISABLE_SSH = true
START_SSH_SERVER = false
OFFLINE_MODE = true
LFS_START_SERVER = false
APP_DATA_PATH = %[1]s/data
STATIC_ROOT_PATH = %[2]s

[database]
DB_TYPE = sqlite3
PATH = %[1]s/data/gitea.db
SQLITE_JOURNAL_MODE = WAL

[repository]
ROOT = %[1]s/repositories
DEFAULT_BRANCH = main

[security]
INSTALL_LOCK = true
SECRET_KEY = %[5]s
INTERNAL_TOKEN = %[6]s
PASSWORD_HASH_ALGO = pbkdf2_hi

[oauth2]
ENABLED = false
JWT_SECRET = %[7]s

[service]
DISABLE_REGISTRATION = true
REQUIRE_SIGNIN_VIEW = false
ENABLE_NOTIFY_MAIL = false

[mailer]
ENABLED = false

[session]
PROVIDER = memory

[cache]
ADAPTER = memory

[queue]
TYPE = channel

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[cron]
ENABLED = false

[cron.update_checker]
ENABLED = false

[actions]
ENABLED = false

[packages]
ENABLED = false

[api]
; Small pages, so that finding driftback's own pull request pages through them.
DEFAULT_PAGING_NUM = 2
MAX_RESPONSE_ITEMS = 50

[log]
MODE = console
LEVEL = Warn
ROOT_PATH = %[1]s/log
`, dir, source, port, runUser, randomHex(16), randomHex(32), jwt())
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lockedWriter lets the process's two streams share one buffer that the
// test may read while the server writes.
type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Log returns what the server printed (for a failing test's message).
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil {
		return ""
	}
	return s.out.String()
}

// Merge merges pull request number of repo (owner/name) as a person would
// from the web page, once Gitea has checked that it can be merged (it
// does so in the background after each push).
func (s *Server) Merge(t testing.TB, repo string, number int64) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(time.Minute)
	for {
		var pr struct {
			Mergeable bool `json:"mergeable"`
		}
		err := s.API(ctx, http.MethodGet, fmt.Sprintf("repos/%s/pulls/%d", repo, number), nil, &pr)
		if err == nil && pr.Mergeable {
			err = s.API(ctx, http.MethodPost, fmt.Sprintf("repos/%s/pulls/%d/merge", repo, number), []byte(`{"Do":"merge"}`), nil)
			if err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("merge pull request #%d: %v", number, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
