// Package moto starts moto, a fake AWS that answers the real AWS APIs, on a
// loopback port for tests: the ACK-like test controllers call it through
// aws-sdk-go-v2 as ACK does, and what Describe*/List* return there is the
// count of cloud resources, duplicates included. moto is installed by
// hack/install-moto.sh (a Python virtual environment under .cache/moto).
package moto

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/driftback/driftback/internal/testenv"
)

// Server is a running moto server.
type Server struct {
	// URL is the endpoint every AWS client of the tests uses.
	URL    string
	cmd    *exec.Cmd
	cancel context.CancelFunc
	exited chan struct{}
	log    *bytes.Buffer
}

// Python returns the interpreter of moto's virtual environment, installing
// it the first time (hack/install-moto.sh).
func Python() (string, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("bash", filepath.Join(root, "hack", "install-moto.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/install-moto.sh: %w", err)
	}
	py := strings.TrimSpace(string(out))
	if py == "" {
		return "", fmt.Errorf("hack/install-moto.sh printed no interpreter")
	}
	return py, nil
}

// Start installs moto if needed and starts it on a free loopback port,
// returning once it answers HTTP.
func Start() (*Server, error) {
	py, err := Python()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, py, "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, cancel: cancel, exited: make(chan struct{}), log: &bytes.Buffer{}}
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.Env = motoEnv(os.Environ())
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start moto: %w", err)
	}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(2 * time.Minute); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls moto's own API until it answers or the process exits.
func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("moto exited before answering:\n%s", s.log.String())
		default:
		}
		resp, err := client.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond) // poll interval, bounded by the deadline
	}
	return fmt.Errorf("moto did not answer within %s", timeout)
}

// Region is the region every client of the tests names.
const Region = "us-east-1"

// AWSConfig is the configuration an aws-sdk-go-v2 client of this server
// uses: its endpoint, a fixed region and moto's test credentials. Nothing is
// read from the machine's environment or files, so no real credential can
// reach moto or a test log.
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing", Source: "moto"}, nil
		}),
	}
}

// Stop ends the server (only the process Start started).
func (s *Server) Stop() {
	s.cancel()
	<-s.exited
}

// motoEnv is the server's environment: the machine's without any AWS_
// variable, plus moto's test credentials, so no credential of the machine
// reaches moto or its log. The variables are removed, not set empty: botocore
// (which moto loads) reads AWS_PROFILE="" as a profile named "" and fails
// every EC2 request with ProfileNotFound.
func motoEnv(environ []string) []string {
	env := []string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull}
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
