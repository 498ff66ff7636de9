package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/driftback/driftback/capture"
)

const head = "apiVersion: driftback.dev/v1alpha1\nkind: Config\ncluster: prod-eu1\n"

// withRule is a valid config whose only rule is the given YAML (indented as
// a list item under rules:).
func withRule(rule string) string {
	return head + "rules:\n" + rule
}

const okRule = `- name: xn
  match: {apiGroups: ["*.aws.upbound.io"], kinds: ["*"]}
  fields: ['metadata.annotations["crossplane.io/external-name"]']
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		// want are substrings of the error: the field, and what is allowed.
		want []string
	}{
		{"not yaml", "\t:", []string{"not a YAML document"}},
		{"merged on a shard", head + "shard: db\noverlay: {resources: [../base], merged: true}\nrules:\n" + okRule, []string{"overlay.merged", "shard", "docs/sharding.md"}},
		{"credential field in clear", withRule("- name: a\n  match: {kinds: [X]}\n  fields: [status.adminPassword]\n"), []string{"rules[0]", `"status.adminPassword" looks like a credential`, "encrypt: true", "allowClearText: true"}},
		{"connection string in clear", withRule("- name: a\n  match: {kinds: [X]}\n  fields: ['spec.connectionString']\n"), []string{"rules[0]", "looks like a credential"}},
		{"encrypt without recipients", withRule("- name: a\n  match: {kinds: [X]}\n  fields: [status.adminPassword]\n  encrypt: true\n"), []string{"rules[0]", "encryption.age.recipients"}},
		{"encrypt and clear text", head + "encryption: {age: {recipients: [" + testRecipient + "]}}\nrules:\n- name: a\n  match: {kinds: [X]}\n  fields: [status.token]\n  encrypt: true\n  allowClearText: true\n", []string{"rules[0]", "choose one"}},
		{"bad recipient", head + "encryption: {age: {recipients: [age1nope]}}\nrules:\n" + okRule, []string{"encryption.age.recipients", "age1"}},
		{"wrong apiVersion", "apiVersion: v1\nkind: Config\n", []string{"apiVersion", `"driftback.dev/v1alpha1"`}},
		{"wrong kind", "apiVersion: driftback.dev/v1alpha1\nkind: Other\n", []string{"kind", `"Config"`}},
		{"unknown field", head + "rulez: []\n", []string{`unknown field "rulez"`, "docs/config.md"}},
		{"unknown rule field", withRule("- name: a\n  match: {kinds: [X]}\n  fields: [spec]\n  feilds: [x]\n"), []string{`unknown field "feilds"`}},
		{"unknown match field", withRule("- name: a\n  match: {kind: [X]}\n  fields: [spec]\n"), []string{`unknown field "kind"`}},
		{"no cluster", "apiVersion: driftback.dev/v1alpha1\nkind: Config\n" + "rules:\n" + okRule, []string{"cluster: required"}},
		{"bad cluster", "apiVersion: driftback.dev/v1alpha1\nkind: Config\ncluster: Prod_1\nrules:\n" + okRule, []string{"cluster", "lower-case"}},
		{"cluster too long", "apiVersion: driftback.dev/v1alpha1\nkind: Config\ncluster: " + strings.Repeat("a", 64) + "\nrules:\n" + okRule, []string{"cluster", "at most 63"}},
		{"git.path escapes", head + "git: {path: ../x}\nrules:\n" + okRule, []string{"git.path", "inside the repository"}},
		{"git.path root", head + "git: {path: /}\nrules:\n" + okRule, []string{"git.path"}},
		{"git.path .git/hooks", head + "git: {path: .git/hooks}\nrules:\n" + okRule, []string{"git.path", ".git"}},
		{"git.path x/.git", head + "git: {path: x/.git}\nrules:\n" + okRule, []string{"git.path", ".git"}},
		{"git.path .GIT", head + "git: {path: .GIT}\nrules:\n" + okRule, []string{"git.path", ".git"}},
		{"git.path .git. (NTFS)", head + "git: {path: 'a/.git. '}\nrules:\n" + okRule, []string{"git.path", ".git"}},
		{"git.path git~1 (8.3)", head + "git: {path: 'a/GIT~1/x'}\nrules:\n" + okRule, []string{"git.path", ".git"}},
		{"git.path a/../.git", head + "git: {path: a/../.git}\nrules:\n" + okRule, []string{"git.path", "'..'"}},
		{"git.path empty component", head + "git: {path: a//b}\nrules:\n" + okRule, []string{"git.path", "empty component"}},
		{"git.path backslash", head + "git: {path: 'a\\\\.git'}\nrules:\n" + okRule, []string{"git.path", "\\\\"}},
		{"branch refs/heads/", head + "git: {branch: refs/heads/main}\nrules:\n" + okRule, []string{"git.branch", "without refs/heads/"}},
		{"branch HEAD", head + "git: {branch: HEAD}\nrules:\n" + okRule, []string{"git.branch", "special ref"}},
		{"branch -x", head + "git: {branch: -x}\nrules:\n" + okRule, []string{"git.branch", "starts with '-'"}},
		{"branch a..b", head + "git: {branch: a..b}\nrules:\n" + okRule, []string{"git.branch", "'..'"}},
		{"branch x.lock", head + "git: {branch: x.lock}\nrules:\n" + okRule, []string{"git.branch", ".lock"}},
		{"branch a/.b", head + "git: {branch: a/.b}\nrules:\n" + okRule, []string{"git.branch", "starts with '.'"}},
		{"branch space", head + "git: {branch: 'a b'}\nrules:\n" + okRule, []string{"git.branch", "' '"}},
		{"branch @{", head + "git: {branch: 'a@{1}'}\nrules:\n" + okRule, []string{"git.branch", "'@{'"}},
		{"branch trailing /", head + "git: {branch: 'a/'}\nrules:\n" + okRule, []string{"git.branch", "'/'"}},
		{"base branch ~", head + "git: {baseBranch: 'main~1'}\nrules:\n" + okRule, []string{"git.baseBranch", "'~'"}},
		{"duplicate key", head + "git: {branch: a}\ngit: {branch: b}\nrules:\n" + okRule, []string{"each key at most once", "git"}},
		{"duplicate nested key", head + "git:\n  branch: a\n  branch: b\nrules:\n" + okRule, []string{"each key at most once", "branch"}},
		{"credentials over http", head + "git: {url: 'http://bot:hunter2@git.example/x.git'}\nrules:\n" + okRule, []string{"git.url", "http://", "allowInsecureHTTP"}},
		{"bad git.mode", head + "git: {mode: rebase}\nrules:\n" + okRule, []string{"git.mode", `"rebase"`, "side", "direct"}},
		{"bad overlay.flux.targetNamespace", head + "overlay: {flux: {targetNamespace: Apps_1}}\nrules:\n" + okRule, []string{"overlay.flux.targetNamespace", `"Apps_1"`, "spec.targetNamespace"}},
		{"bad overlay.flux.namePrefix", head + "overlay: {flux: {namePrefix: \"a/b-\"}}\nrules:\n" + okRule, []string{"overlay.flux.namePrefix", `"a/b-"`, "spec.namePrefix"}},
		{"misspelled overlay.flux field", head + "overlay: {flux: {prefix: a-}}\nrules:\n" + okRule, []string{"prefix"}},
		{"side mode on the base branch", head + "git: {mode: side, branch: main}\nrules:\n" + okRule, []string{"git.mode", "never forces", "direct"}},
		{"no rules nor presets", head, []string{"rules", "at least one rule or preset", "crossplane"}},
		{"deletion window not a duration", head + "deletionGuard: {window: 1d}\nrules:\n" + okRule, []string{"deletionGuard.window", `"1d"`, "24h"}},
		{"deletion window negative", head + "deletionGuard: {window: -1h}\nrules:\n" + okRule, []string{"deletionGuard.window", "from 0 (off)"}},
		{"deletion window too long", head + "deletionGuard: {window: 9000h}\nrules:\n" + okRule, []string{"deletionGuard.window", "720h"}},
		{"deletion share above 1", head + "deletionGuard: {maxShareInWindow: 1.5}\nrules:\n" + okRule, []string{"deletionGuard.maxShareInWindow", "1.5", "from 0 to 1"}},
		{"misspelled deletionGuard field", head + "deletionGuard: {maxShare: 0.1}\nrules:\n" + okRule, []string{"maxShare"}},
		{"rule without name", withRule("- match: {kinds: [X]}\n  fields: [spec]\n"), []string{"rules[0]", "name: required"}},
		{"duplicate rule", withRule(okRule + okRule), []string{"rules[1].name", `"xn"`, "rules[0]"}},
		{"bad mode", withRule("- name: a\n  mode: full\n  match: {kinds: [X]}\n  fields: [spec]\n"), []string{`rules[0] (rule "a")`, "mode", "patch (default), object or auto"}},
		{"no kinds", withRule("- name: a\n  match: {apiGroups: [x]}\n  fields: [spec]\n"), []string{"match.kinds", "at least one"}},
		{"bad group glob", withRule("- name: a\n  match: {apiGroups: ['[x'], kinds: [X]}\n  fields: [spec]\n"), []string{"match.apiGroups[0]", "not a valid glob"}},
		{"bad excludeAPIGroups glob", withRule("- name: a\n  match: {excludeAPIGroups: ['[x'], kinds: [X]}\n  fields: [spec]\n"), []string{"match.excludeAPIGroups[0]", "not a valid glob"}},
		{"secret via excludeAPIGroups that misses the core group", withRule("- name: all\n  match: {excludeAPIGroups: ['*.k8s.io'], kinds: ['*']}\n  fields: [data]\n"), []string{"Secret"}},
		{"bad kind glob", withRule("- name: a\n  match: {kinds: ['[']}\n  fields: [spec]\n"), []string{"match.kinds[0]"}},
		{"bad namespace glob", withRule("- name: a\n  match: {kinds: [X], namespaces: ['[']}\n  fields: [spec]\n"), []string{"match.namespaces[0]"}},
		{"bad excludeNamespaces glob", withRule("- name: a\n  match: {kinds: [X], excludeNamespaces: [ok, '[']}\n  fields: [spec]\n"), []string{"match.excludeNamespaces[1]"}},
		{"bad names glob", withRule("- name: a\n  match: {kinds: [X], names: ['[']}\n  fields: [spec]\n"), []string{"match.names[0]"}},
		{"bad selector", withRule("- name: a\n  match: {kinds: [X], labelSelector: 'a in (b'}\n  fields: [spec]\n"), []string{"match.labelSelector", "team=a"}},
		{"bad hasFields", withRule("- name: a\n  match: {kinds: [X], hasFields: ['spec..x']}\n  fields: [spec]\n"), []string{"match.hasFields[0]", "allowed:"}},
		{"patch without fields", withRule("- name: a\n  match: {kinds: [X]}\n"), []string{"fields", "patch mode needs"}},
		{"auto without fields", withRule("- name: a\n  mode: auto\n  match: {kinds: [X]}\n"), []string{"fields", "auto mode needs"}},
		{"bad field path", withRule("- name: a\n  match: {kinds: [X]}\n  fields: ['metadata.annotations[x]']\n"), []string{"fields[0]", "allowed:"}},
		{"bad exclude path", withRule("- name: a\n  match: {kinds: [X]}\n  fields: [spec]\n  exclude: [spec, '']\n"), []string{"exclude[1]", "allowed:"}},
		{"field kind", withRule("- name: a\n  match: {kinds: [X]}\n  fields: [kind]\n"), []string{"fields[0]", "always kept"}},
		{"field metadata.name", withRule("- name: a\n  match: {kinds: [X]}\n  fields: [metadata.name]\n"), []string{"fields[0]", "sub-fields of metadata"}},
		{"field uid", withRule("- name: a\n  match: {kinds: [X]}\n  fields: [metadata.uid]\n"), []string{"fields[0]", "never captured", "allowed:"}},
		{"field ownerReferences", withRule("- name: a\n  match: {kinds: [X]}\n  fields: [metadata.ownerReferences]\n"), []string{"fields[0]", "never captured"}},
		{"field managedFields", withRule("- name: a\n  match: {kinds: [X]}\n  fields: [spec, metadata.managedFields]\n"), []string{"fields[1]", "never captured"}},
		{"object mode non-status field", withRule("- name: a\n  mode: object\n  match: {kinds: [X]}\n  fields: [spec.x]\n"), []string{"fields[0]", "only name status"}},
		{"secret data", withRule("- name: s\n  match: {kinds: [Secret]}\n  fields: [data]\n"), []string{`rules[0] (rule "s")`, `fields[0] "data"`, "Secret values"}},
		{"secret stringData sub-key", withRule("- name: s\n  match: {kinds: [Secret]}\n  fields: [metadata.labels, 'stringData[\"password\"]']\n"), []string{`fields[1]`, "stringData", "Secret"}},
		{"secret via kinds glob", withRule("- name: all\n  match: {kinds: ['*']}\n  fields: [data]\n"), []string{`rule "all"`, `"data"`, "Secret"}},
		{"secret via kind glob S*", withRule("- name: all\n  match: {apiGroups: [''], kinds: ['S*']}\n  fields: [data]\n"), []string{"Secret"}},
		{"secret via group glob", withRule("- name: all\n  match: {apiGroups: ['*'], kinds: ['*']}\n  fields: ['data[*]']\n"), []string{"Secret"}},
		{"secret object mode", withRule("- name: o\n  mode: object\n  match: {kinds: [Secret]}\n"), []string{`rule "o"`, "mode object", "Secret"}},
		{"secret auto mode via glob", withRule("- name: o\n  mode: auto\n  match: {kinds: ['*']}\n  fields: [spec]\n"), []string{"mode auto", "Secret"}},
		{"unknown preset", head + "presets: [{name: velero}]\n", []string{"presets[0].name", `"velero"`, "crossplane, ack, config-connector, pvc-binding, service-loadbalancer, status"}},
		{"duplicate preset", head + "presets: [{name: ack}, {name: ack}]\n", []string{"presets[1].name", "presets[0]"}},
		{"status preset without kinds", head + "presets: [{name: status}]\n", []string{"presets[0].kinds", "Kind.group"}},
		{"kinds on another preset", head + "presets: [{name: crossplane, kinds: [X]}]\n", []string{"presets[0].kinds", "only the status preset"}},
		{"bad status kind", head + "presets: [{name: status, kinds: [.infra.example.com]}]\n", []string{"presets[0].kinds[0]", "Kind.group"}},
		{"bad status kind glob", head + "presets: [{name: status, kinds: ['[.x']}]\n", []string{"presets[0].kinds[0]", "glob"}},
		{"unknown preset field", head + "presets: [{name: ack, kind: [X]}]\n", []string{`unknown field "kind"`}},
		{"rule name clashes with preset rule", head + "presets: [{name: ack}]\nrules:\n- name: ack/resource-metadata\n  match: {kinds: [X]}\n  fields: [spec]\n", []string{"rules[0].name", "presets[0]"}},
		{"empty gitops manager", head + "gitopsManagers: ['']\nrules:\n" + okRule, []string{"gitopsManagers[0]", "argocd-controller"}},
		{"bad gitops manager glob", head + "gitopsManagers: [ok, '[']\nrules:\n" + okRule, []string{"gitopsManagers[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse succeeded, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	c, err := Parse([]byte(withRule(okRule)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Git.Branch != "driftback/prod-eu1" || c.Git.BaseBranch != "main" || c.Git.Path != "clusters/prod-eu1/driftback" {
		t.Errorf("git defaults = %+v", c.Git)
	}
	if c.Git.Author.Name != "driftback" || c.Git.Author.Email != "driftback@localhost" {
		t.Errorf("author defaults = %+v", c.Git.Author)
	}
	if c.Git.Mode != "side" || c.Git.Committer != c.Git.Author {
		t.Errorf("mode %q, committer %+v; want side and the author", c.Git.Mode, c.Git.Committer)
	}
	direct, err := Parse([]byte(head + "git: {branch: main}\nrules:\n" + okRule))
	if err != nil {
		t.Fatal(err)
	}
	if direct.Git.Mode != "direct" {
		t.Errorf("branch = base branch: mode %q, want direct", direct.Git.Mode)
	}
	if len(c.Rules) != 1 || c.Rules[0].Mode != capture.ModePatch {
		t.Fatalf("rules = %+v", c.Rules)
	}
	if c.Deletions != (DeletionGuard{Window: 24 * time.Hour, MaxShareInWindow: 0.3}) {
		t.Errorf("deletion guard defaults = %+v", c.Deletions)
	}
	g, err := Parse([]byte(head + "deletionGuard: {window: 0s, maxShareInWindow: 0}\nrules:\n" + okRule))
	if err != nil || g.Deletions != (DeletionGuard{}) {
		t.Errorf("deletionGuard {0s, 0} = %+v, %v; want both zero", g.Deletions, err)
	}
	if !reflect.DeepEqual(c.Rules[0].GitOpsManagers, capture.DefaultGitOpsManagers) {
		t.Errorf("gitops managers = %v, want the defaults", c.Rules[0].GitOpsManagers)
	}
}

func TestParseRules(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "every match field",
			in: withRule(`- name: a
  mode: auto
  match:
    apiGroups: ["*.aws.upbound.io", ""]
    kinds: [Bucket]
    namespaces: [team-*]
    excludeNamespaces: [kube-system]
    names: [logs-*]
    labelSelector: team=a,tier!=dev
    hasFields: ['metadata.annotations["crossplane.io/external-name"]']
  fields: [spec.forProvider, status.atProvider]
  exclude: ['status.conditions[*].lastTransitionTime']
  onlyOwned: true
`),
			check: func(t *testing.T, c *Config) {
				r := c.Rules[0]
				if r.Mode != capture.ModeAuto || !r.OnlyOwned || !r.IncludeOwned {
					t.Errorf("mode/ownership = %s %v %v", r.Mode, r.OnlyOwned, r.IncludeOwned)
				}
				if r.Match.Selector == nil || r.Match.Selector.String() != "team=a,tier!=dev" {
					t.Errorf("selector = %v", r.Match.Selector)
				}
				if len(r.Match.HasFields) != 1 || len(r.Fields) != 2 || len(r.Exclude) != 1 {
					t.Errorf("paths = %v %v %v", r.Match.HasFields, r.Fields, r.Exclude)
				}
			},
		},
		{
			name: "object mode needs no fields",
			in:   withRule("- name: pv\n  mode: object\n  match: {apiGroups: [''], kinds: [PersistentVolume]}\n"),
			check: func(t *testing.T, c *Config) {
				if c.Rules[0].Mode != capture.ModeObject {
					t.Errorf("mode = %s", c.Rules[0].Mode)
				}
			},
		},
		{
			name: "Secret metadata is fine",
			in:   withRule("- name: s\n  match: {kinds: [Secret]}\n  fields: ['metadata.annotations[\"a\"]']\n"),
			check: func(t *testing.T, c *Config) {
				if len(c.Rules) != 1 {
					t.Errorf("rules = %v", c.Rules)
				}
			},
		},
		{
			name: "data is fine once the core group is excluded",
			in:   withRule("- name: cm\n  match: {excludeAPIGroups: [''], kinds: ['*']}\n  fields: [data]\n"),
			check: func(t *testing.T, c *Config) {
				if c.Rules[0].Match.MatchesKind("", "ConfigMap") || !c.Rules[0].Match.MatchesKind("example.com", "Thing") {
					t.Errorf("match = %+v", c.Rules[0].Match)
				}
			},
		},
		{
			name: "data of a non-core kind is fine",
			in:   withRule("- name: cm\n  match: {apiGroups: [example.com], kinds: ['*']}\n  fields: [data]\n"),
			check: func(t *testing.T, c *Config) {
				if len(c.Rules) != 1 {
					t.Errorf("rules = %v", c.Rules)
				}
			},
		},
		{
			name: "gitops managers: explicit list, and empty turns the filter off",
			in:   head + "gitopsManagers: []\nrules:\n" + okRule,
			check: func(t *testing.T, c *Config) {
				if len(c.Rules[0].GitOpsManagers) != 0 {
					t.Errorf("managers = %v, want none", c.Rules[0].GitOpsManagers)
				}
			},
		},
		{
			name: "presets expand to rules ahead of the user's",
			in:   head + "gitopsManagers: [argocd-*]\npresets:\n- name: crossplane\n- name: status\n  kinds: [KubernetesCluster.infra.example.com, Node]\nrules:\n" + okRule,
			check: func(t *testing.T, c *Config) {
				var names []string
				for _, r := range c.Rules {
					names = append(names, r.Name)
					if !reflect.DeepEqual(r.GitOpsManagers, []string{"argocd-*"}) {
						t.Errorf("%s: managers = %v", r.Name, r.GitOpsManagers)
					}
				}
				want := []string{"crossplane/external-name", "crossplane/composite", "crossplane/composite-v2", "crossplane/claim",
					"status/KubernetesCluster.infra.example.com", "status/Node", "xn"}
				if !reflect.DeepEqual(names, want) {
					t.Errorf("rules = %v, want %v", names, want)
				}
				last := c.Rules[5]
				if !last.Match.MatchesKind("", "Node") || last.Match.MatchesKind("apps", "Node") {
					t.Errorf("status/Node matches the wrong group: %+v", last.Match)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// TestEveryPresetLoads turns each preset on alone: none may select Secret
// values, and each must yield rules.
func TestEveryPresetLoads(t *testing.T) {
	for _, name := range PresetNames {
		t.Run(name, func(t *testing.T) {
			in := head + "presets:\n- name: " + name + "\n"
			if name == capture.PresetStatus {
				in += "  kinds: ['*']\n"
			}
			c, err := Parse([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Rules) == 0 {
				t.Fatal("no rules")
			}
			for _, r := range c.Rules {
				if r.Match.MatchesKind("", "Secret") && r.Mode != capture.ModePatch {
					t.Errorf("%s keeps whole Secrets", r.Name)
				}
			}
		})
	}
}

func TestLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "driftback.yaml")
	if err := os.WriteFile(p, []byte(withRule(okRule)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err != nil {
		t.Fatal(err)
	}
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if err == nil || !strings.Contains(err.Error(), "read config") {
		t.Errorf("Load(missing) = %v", err)
	}
	if err := os.WriteFile(p, []byte(head), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("Load error %v does not name the file", err)
	}
}

// TestDocumentedExamples loads the config examples the documentation shows,
// so that they stay valid as the format changes.
func TestDocumentedExamples(t *testing.T) {
	tests := []struct {
		file, after string
	}{
		{"../README.md", "## The config format"},
		{"../docs/presets.md", "# Presets"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			_, rest, ok := strings.Cut(string(b), tt.after)
			if !ok {
				t.Fatalf("%s has no %q", tt.file, tt.after)
			}
			_, rest, ok = strings.Cut(rest, "```yaml\n")
			if !ok {
				t.Fatalf("%s has no yaml block after %q", tt.file, tt.after)
			}
			block, _, _ := strings.Cut(rest, "```")
			if !strings.Contains(block, "apiVersion:") {
				block = head + block
			}
			if _, err := Parse([]byte(block)); err != nil {
				t.Errorf("the example in %s does not load: %v\n%s", tt.file, err, block)
			}
		})
	}
}

// testRecipient is an age public key (age-keygen), for configs only.
const testRecipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

func TestCredentialFieldsAllowedWhenEncryptedOrClear(t *testing.T) {
	for _, rule := range []string{
		"- name: a\n  match: {kinds: [X]}\n  fields: [status.adminPassword]\n  encrypt: true\n",
		"- name: a\n  match: {kinds: [X]}\n  fields: [status.adminPassword]\n  allowClearText: true\n",
		"- name: a\n  match: {kinds: [X]}\n  fields: [spec.writeConnectionSecretToRef]\n",
	} {
		in := head + "encryption: {age: {recipients: [" + testRecipient + "]}}\nrules:\n" + rule
		if _, err := Parse([]byte(in)); err != nil {
			t.Errorf("%s: %v", rule, err)
		}
	}
}

// TestWriteMergedDefault: merged/ is written by default with a base, never
// by default for a shard or without a base, and as the file says otherwise.
func TestWriteMergedDefault(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     bool
	}{
		{"with a base", "overlay: {resources: [../base]}\n", true},
		{"without a base", "", false},
		{"a shard", "shard: db\noverlay: {resources: [../base]}\n", false},
		{"turned off", "overlay: {resources: [../base], merged: false}\n", false},
		{"turned on without a base", "overlay: {merged: true}\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(head + tc.in + "rules:\n" + okRule))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.WriteMerged(); got != tc.want {
				t.Errorf("WriteMerged() = %v, want %v", got, tc.want)
			}
		})
	}
}
