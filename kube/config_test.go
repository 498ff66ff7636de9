package kube

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// The standard connection flags mean what they mean in kubectl: --context
// picks a context of the kubeconfig, --as/--as-group impersonate,
// --request-timeout bounds each request.
func TestConfigFlags(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://prod.example:6443"}
- name: scratch
  cluster: {server: "https://scratch.example:6443"}
users:
- name: me
  user: {token: t0k3n}
contexts:
- name: prod
  context: {cluster: prod, user: me}
- name: scratch
  context: {cluster: scratch, user: me}
current-context: prod
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		args        []string
		wantHost    string
		wantAs      string
		wantGroups  int
		wantTimeout time.Duration
	}{
		{name: "current context", args: []string{"--kubeconfig", kc}, wantHost: "https://prod.example:6443"},
		{name: "--context", args: []string{"--kubeconfig", kc, "--context", "scratch"}, wantHost: "https://scratch.example:6443"},
		{name: "--as, --as-group, --request-timeout", args: []string{"--kubeconfig", kc, "--as", "system:serviceaccount:driftback:driftback", "--as-group", "a", "--as-group", "b", "--request-timeout", "7s"},
			wantHost: "https://prod.example:6443", wantAs: "system:serviceaccount:driftback:driftback", wantGroups: 2, wantTimeout: 7 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flags := NewConfigFlags()
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			flags.AddFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			rc, err := LoadConfig(flags)
			if err != nil {
				t.Fatal(err)
			}
			if rc.Host != tc.wantHost || rc.Impersonate.UserName != tc.wantAs || len(rc.Impersonate.Groups) != tc.wantGroups || rc.Timeout != tc.wantTimeout {
				t.Errorf("host %q as %q groups %v timeout %v; want %q %q %d %v", rc.Host, rc.Impersonate.UserName, rc.Impersonate.Groups, rc.Timeout, tc.wantHost, tc.wantAs, tc.wantGroups, tc.wantTimeout)
			}
		})
	}
	// An unknown context is an error naming it, not a silent fall back.
	flags := NewConfigFlags()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	flags.AddFlags(fs)
	if err := fs.Parse([]string{"--kubeconfig", kc, "--context", "nope"}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(flags); err == nil {
		t.Fatal("--context nope: no error")
	}
}
