package gitserver

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHServer is Debian's OpenSSH sshd on a loopback port, serving the bare
// repositories under Root to one user key through git-shell.
type SSHServer struct {
	Root string
	// User is the account sshd logs in (the current user: sshd runs as
	// root in CI containers and cannot switch to another without setup).
	User string
	Addr string
	// KnownHosts is a known_hosts file pinning the server's host key.
	KnownHosts string
	// ClientKey is the OpenSSH private key sshd accepts.
	ClientKey []byte
	// OtherKnownHosts pins a different key for the same address, as a
	// man-in-the-middle would present.
	OtherKnownHosts string

	clientKey ed25519.PrivateKey
}

// ClientKeyWithPassphrase is ClientKey encrypted with passphrase.
func (s *SSHServer) ClientKeyWithPassphrase(t testing.TB, passphrase string) []byte {
	t.Helper()
	block, err := ssh.MarshalPrivateKeyWithPassphrase(s.clientKey, "", []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block)
}

// NewSSH starts sshd for the test's duration.
func NewSSH(t testing.TB) *SSHServer {
	t.Helper()
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		t.Fatalf("%s missing: run hack/install-tools.sh (installs openssh-server)", sshd)
	}
	gitShell, err := exec.LookPath("git-shell")
	if err != nil {
		t.Fatalf("git-shell missing (part of git): %v", err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	s := &SSHServer{Root: filepath.Join(work, "repos"), User: u.Username}
	if err := os.MkdirAll(s.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	hostPriv, hostPub := newKey(t)
	clientPriv, clientPub := newKey(t)
	_, otherPub := newKey(t)
	s.ClientKey = clientPriv
	k, err := ssh.ParseRawPrivateKey(clientPriv)
	if err != nil {
		t.Fatal(err)
	}
	s.clientKey = *k.(*ed25519.PrivateKey)
	hostKeyFile := writeFile(t, work, "host_ed25519", hostPriv, 0o600)
	// Only git commands, through git-shell, as a Git host allows.
	authorized := fmt.Sprintf(`command="%s -c \"$SSH_ORIGINAL_COMMAND\"",no-port-forwarding,no-pty,no-agent-forwarding %s`, gitShell, ssh.MarshalAuthorizedKey(clientPub))
	authFile := writeFile(t, work, "authorized_keys", []byte(authorized), 0o600)
	port := freePort(t)
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.KnownHosts = writeFile(t, work, "known_hosts", []byte(knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, hostPub)+"\n"), 0o644)
	s.OtherKnownHosts = writeFile(t, work, "other_known_hosts", []byte(knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, otherPub)+"\n"), 0o644)
	cfg := fmt.Sprintf(`ListenAddress %s
HostKey %s
AuthorizedKeysFile %s
PidFile %s
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowUsers %s
LogLevel ERROR
`, s.Addr, hostKeyFile, authFile, filepath.Join(work, "sshd.pid"), s.User)
	cfgFile := writeFile(t, work, "sshd_config", []byte(cfg), 0o600)
	// sshd insists on its privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil && os.Geteuid() == 0 {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(work, "sshd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sshd, "-D", "-e", "-f", cfgFile)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logFile.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("sshd exited: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd not listening on %s within 20s", s.Addr)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	return s
}

// CreateRepo makes an empty bare repository and returns its ssh:// URL and
// its path on disk.
func (s *SSHServer) CreateRepo(t testing.TB, name string) (url, dir string) {
	t.Helper()
	dir = filepath.Join(s.Root, name+".git")
	Run(t, "", "git", "init", "-q", "--bare", "-b", "main", dir)
	// No detached gc after a push: it would race the test's cleanup.
	Run(t, "", "git", "-C", dir, "config", "receive.autogc", "false")
	return fmt.Sprintf("ssh://%s@%s%s", s.User, s.Addr, dir), dir
}

func newKey(t testing.TB) ([]byte, ssh.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block), sshPub
}

func writeFile(t testing.TB, dir, name string, b []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
