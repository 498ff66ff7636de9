// Package config reads driftback's configuration file: which cluster, which
// Git branch and path, and the rules that decide what runtime state is kept.
package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/gitsync"
	"github.com/driftback/driftback/sops"
)

const (
	// APIVersion is the only configuration version this driftback reads.
	APIVersion = "driftback.dev/v1alpha1"
	// Kind is the kind of the configuration document.
	Kind = "Config"
)

// File is the configuration document as written by the user.
type File struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Cluster    string `json:"cluster"`
	// Shard names this file's part of a cluster sharded across several
	// driftback Deployments (docs/sharding.md): its Lease is
	// driftback-<cluster>-<shard> and its default git.path
	// clusters/<cluster>/driftback-<shard>. Empty: not sharded.
	Shard   string  `json:"shard"`
	Git     Git     `json:"git"`
	Overlay Overlay `json:"overlay"`
	// GitOpsManagers are the field managers that apply Git's content; fields
	// they applied that the base holds are not written. Nil:
	// capture.DefaultGitOpsManagers; an empty list turns the filter off.
	GitOpsManagers []string   `json:"gitopsManagers"`
	Presets        []PresetIn `json:"presets"`
	Rules          []RuleIn   `json:"rules"`
	// DeletionGuard stops a deletion spread over many commits (guard.go).
	DeletionGuard DeletionGuardIn `json:"deletionGuard"`
	// Encryption holds the age recipients of fields rules encrypt.
	Encryption EncryptionIn `json:"encryption"`
}

// Git says where the overlay is committed.
type Git struct {
	// URL of the repository: https://, ssh://, file:// or a local path.
	URL string `json:"url"`
	// Branch receives driftback's commits. Default: driftback/<cluster>.
	Branch string `json:"branch"`
	// BaseBranch is where a new Branch starts from. Default: main.
	BaseBranch string `json:"baseBranch"`
	// Path is the overlay's directory in the repository.
	// Default: clusters/<cluster>/driftback.
	Path   string `json:"path"`
	Author Author `json:"author"`
	// Committer defaults to Author.
	Committer Author `json:"committer"`
	// Mode is side (Branch follows BaseBranch's tip plus Path, the default
	// when they differ) or direct (commits appended to Branch, never forced);
	// gitsync.ResolveMode is the rule.
	Mode string `json:"mode"`
	// modeWritten is Mode as the file has it, resolved again when a flag
	// names another branch.
	modeWritten string
	// MessageTemplate is a Go text/template for commit messages; see
	// docs/gitsync.md for the fields it can use.
	MessageTemplate string `json:"messageTemplate"`
	// AllowInsecureHTTP lets credentials go over plain http://. Off, an
	// http:// URL with credentials is refused.
	AllowInsecureHTTP bool `json:"allowInsecureHTTP"`
	// PullRequest, when set, keeps a pull request from Branch into
	// BaseBranch open and up to date (docs/pullrequests.md).
	PullRequest *PullRequest `json:"pullRequest"`
}

// Author of driftback's commits.
type Author struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Overlay configures the rendered kustomization.
type Overlay struct {
	// Resources are listed first in the overlay's kustomization.yaml, as
	// written (usually the base the GitOps tool applies, relative to Path).
	Resources []string `json:"resources"`
	// Flux describes the Flux Kustomization that applies the overlay, when
	// it renames objects; see docs/restore.md#flux.
	Flux FluxOverlay `json:"flux"`
	// Merged writes merged/ next to the patches: what the overlay builds,
	// one file per object, for Argo CD and Flux to build without
	// kustomize's per-patch cost (docs/overlay-cost.md). Unset: on when
	// Resources is set (without a base there is nothing to merge) and the
	// file is not a shard (File.WriteMerged).
	Merged *bool `json:"merged"`
}

// WriteMerged reports whether merged/ is written: on by default with a
// base, never for a shard. A later shard's merged/ would hold the earlier
// shards' captures as they were at its own last publish, while its overlay
// reads their directories as they are (docs/sharding.md).
func (f File) WriteMerged() bool {
	if f.Overlay.Merged != nil {
		return *f.Overlay.Merged
	}
	return len(f.Overlay.Resources) > 0 && f.Shard == ""
}

// FluxOverlay holds the settings of the Flux Kustomization that applies the
// overlay which change the names objects have in the cluster. Flux's
// generator adds them to the overlay's kustomization.yaml, so the overlay's
// patches must address the base's objects by their names before them.
type FluxOverlay struct {
	TargetNamespace string `json:"targetNamespace"`
	NamePrefix      string `json:"namePrefix"`
	NameSuffix      string `json:"nameSuffix"`
}

// RuleIn is one capture rule as written.
type RuleIn struct {
	Name         string   `json:"name"`
	Match        MatchIn  `json:"match"`
	Mode         string   `json:"mode"`
	Fields       []string `json:"fields"`
	Exclude      []string `json:"exclude"`
	IncludeOwned bool     `json:"includeOwned"`
	OnlyOwned    bool     `json:"onlyOwned"`
	// Encrypt writes the selected fields SOPS-encrypted for
	// encryption.age.recipients.
	Encrypt bool `json:"encrypt"`
	// AllowClearText lets credential-looking fields go to Git in clear text.
	AllowClearText bool `json:"allowClearText"`
}

// EncryptionIn is how fields of rules with encrypt: true are encrypted.
type EncryptionIn struct {
	Age struct {
		// Recipients are age public keys (age1…): whoever holds one of
		// their identities decrypts (Flux's decryption secret, KSOPS,
		// `driftback restore --age-identity-file`).
		Recipients []string `json:"recipients"`
	} `json:"age"`
}

// MatchIn selects objects; see capture.Match.
type MatchIn struct {
	APIGroups         []string `json:"apiGroups"`
	ExcludeAPIGroups  []string `json:"excludeAPIGroups"`
	Kinds             []string `json:"kinds"`
	Namespaces        []string `json:"namespaces"`
	ExcludeNamespaces []string `json:"excludeNamespaces"`
	Names             []string `json:"names"`
	LabelSelector     string   `json:"labelSelector"`
	HasFields         []string `json:"hasFields"`
}

// Config is a validated configuration with defaults applied.
type Config struct {
	File
	Rules []capture.Rule
	// Deletions is the validated deletionGuard.
	Deletions DeletionGuard
}

// Load reads and validates the configuration file at name.
func Load(name string) (*Config, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	return c, nil
}

// Parse decodes a configuration strictly (unknown fields are errors) and
// validates it.
func Parse(data []byte) (*Config, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("not a YAML document: %w", err)
	}
	if head.APIVersion != APIVersion {
		return nil, fmt.Errorf("apiVersion: got %q, allowed: %q", head.APIVersion, APIVersion)
	}
	if head.Kind != Kind {
		return nil, fmt.Errorf("kind: got %q, allowed: %q", head.Kind, Kind)
	}
	var f File
	if err := strictUnmarshal(data, &f); err != nil {
		return nil, err
	}
	return f.validate()
}

func strictUnmarshal(data []byte, v any) error {
	// Strict: a key given twice is an error, not "the last one wins" (a
	// second git: block silently replacing the first).
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return fmt.Errorf("not a valid YAML document (each key at most once): %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		// encoding/json names the field (json: unknown field "x"); say what is allowed.
		return fmt.Errorf("%w (see docs/config.md for the allowed fields)", err)
	}
	return nil
}

func (f File) validate() (*Config, error) {
	if f.Cluster == "" {
		return nil, fmt.Errorf("cluster: required (a short name such as prod-eu1, used in paths and commit messages)")
	}
	if !isDNSLabel(f.Cluster) {
		return nil, fmt.Errorf("cluster: %q is not allowed: use lower-case letters, digits and '-' (at most 63)", f.Cluster)
	}
	if f.Git.Branch == "" {
		f.Git.Branch = "driftback/" + f.Cluster
	}
	if f.Git.BaseBranch == "" {
		f.Git.BaseBranch = "main"
	}
	if f.Shard != "" && !isDNSLabel(f.Shard) {
		return nil, fmt.Errorf("shard: %q is not allowed: use lower-case letters, digits and '-' (at most 63), such as databases", f.Shard)
	}
	if f.Git.Path == "" {
		f.Git.Path = defaultPath(f.Cluster, f.Shard)
	}
	clean, err := gitsync.CleanDir(f.Git.Path)
	if err != nil {
		return nil, fmt.Errorf("git.path: %w", err)
	}
	f.Git.Path = clean
	if err := checkNotSelf(f.Git.Path, f.Overlay.Resources); err != nil {
		return nil, err
	}
	if f.Shard != "" && f.Overlay.Merged != nil && *f.Overlay.Merged {
		return nil, fmt.Errorf("overlay.merged: true is not allowed with shard %q: a shard's merged/ would keep the earlier shards' captures as of its own last publish; apply the last shard's directory itself (docs/sharding.md)", f.Shard)
	}
	if err := gitsync.CheckBranchName(f.Git.Branch); err != nil {
		return nil, fmt.Errorf("git.branch: %w", err)
	}
	if err := gitsync.CheckBranchName(f.Git.BaseBranch); err != nil {
		return nil, fmt.Errorf("git.baseBranch: %w", err)
	}
	if err := checkURL(f.Git); err != nil {
		return nil, err
	}
	if f.Git.Author.Name == "" {
		f.Git.Author.Name = "driftback"
	}
	if f.Git.Author.Email == "" {
		f.Git.Author.Email = "driftback@localhost"
	}
	if f.Git.Committer.Name == "" {
		f.Git.Committer.Name = f.Git.Author.Name
	}
	if f.Git.Committer.Email == "" {
		f.Git.Committer.Email = f.Git.Author.Email
	}
	f.Git.modeWritten = f.Git.Mode
	if err := f.Git.resolveMode(); err != nil {
		return nil, err
	}
	if f.Git.PullRequest != nil {
		if err := f.Git.PullRequest.Validate(f.Git.URL, f.Git.Branch, f.Git.BaseBranch, f.Git.AllowInsecureHTTP); err != nil {
			return nil, err
		}
	}
	if ns := f.Overlay.Flux.TargetNamespace; ns != "" && !isDNSLabel(ns) {
		return nil, fmt.Errorf("overlay.flux.targetNamespace: %q is not allowed: a namespace name (lower-case letters, digits and '-', at most 63), as in the Flux Kustomization's spec.targetNamespace", ns)
	}
	for _, a := range []struct{ field, v string }{{"namePrefix", f.Overlay.Flux.NamePrefix}, {"nameSuffix", f.Overlay.Flux.NameSuffix}} {
		if strings.Trim(a.v, "abcdefghijklmnopqrstuvwxyz0123456789-.") != "" || len(a.v) > 63 {
			return nil, fmt.Errorf("overlay.flux.%s: %q is not allowed: lower-case letters, digits, '-' and '.', as in the Flux Kustomization's spec.%s", a.field, a.v, a.field)
		}
	}
	if len(f.Rules) == 0 && len(f.Presets) == 0 {
		return nil, fmt.Errorf("rules: at least one rule or preset is required (presets: %s)", strings.Join(capture.Presets(), ", "))
	}
	if f.GitOpsManagers == nil {
		f.GitOpsManagers = capture.DefaultGitOpsManagers
	}
	for i, g := range f.GitOpsManagers {
		if _, err := path.Match(g, ""); err != nil || g == "" {
			return nil, fmt.Errorf("gitopsManagers[%d]: %q is not allowed: a field manager name or glob such as argocd-controller", i, g)
		}
	}
	c := &Config{File: f}
	if c.Deletions, err = f.DeletionGuard.compile(); err != nil {
		return nil, err
	}
	owner := map[string]string{}
	add := func(where string, r capture.Rule) error {
		if prev, dup := owner[r.Name]; dup {
			return fmt.Errorf("%s.name: %q is already used by %s; names must be unique", where, r.Name, prev)
		}
		owner[r.Name] = where
		if field, bad := secretField(r); bad {
			return fmt.Errorf("%s (rule %q): %s: selecting Secret values is not allowed: they never reach Git in clear text; narrow match.apiGroups/kinds so Secrets are not matched", where, r.Name, field)
		}
		r.GitOpsManagers = f.GitOpsManagers
		c.Rules = append(c.Rules, r)
		return nil
	}
	presets, err := compilePresets(f.Presets)
	if err != nil {
		return nil, err
	}
	for _, p := range presets {
		if err := add(p.where, p.rule); err != nil {
			return nil, err
		}
	}
	if _, err := sops.ParseRecipients(f.Encryption.Age.Recipients); err != nil {
		return nil, fmt.Errorf("encryption.age.recipients: %w", err)
	}
	for i, in := range f.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		if in.Encrypt && len(f.Encryption.Age.Recipients) == 0 {
			return nil, fmt.Errorf("%s (rule %q): encrypt: true needs encryption.age.recipients (age public keys, age1…)", where, in.Name)
		}
		r, err := in.compile()
		if err != nil {
			if in.Name != "" {
				return nil, fmt.Errorf("%s (rule %q): %w", where, in.Name, err)
			}
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if err := add(where, r); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (in RuleIn) compile() (capture.Rule, error) {
	r := capture.Rule{Name: in.Name, IncludeOwned: in.IncludeOwned || in.OnlyOwned, OnlyOwned: in.OnlyOwned, Encrypt: in.Encrypt, AllowClearText: in.AllowClearText}
	if r.Name == "" {
		return r, fmt.Errorf("name: required")
	}
	if in.Encrypt && in.AllowClearText {
		return r, fmt.Errorf("encrypt and allowClearText: choose one")
	}
	switch capture.Mode(in.Mode) {
	case "", capture.ModePatch:
		r.Mode = capture.ModePatch
	case capture.ModeObject, capture.ModeAuto:
		r.Mode = capture.Mode(in.Mode)
	default:
		return r, fmt.Errorf("mode: %q is not allowed: patch (default), object or auto", in.Mode)
	}
	m := in.Match
	if len(m.Kinds) == 0 {
		return r, fmt.Errorf("match.kinds: at least one kind (or glob) is required")
	}
	for _, f := range []struct {
		name  string
		globs []string
	}{{"apiGroups", m.APIGroups}, {"excludeAPIGroups", m.ExcludeAPIGroups}, {"kinds", m.Kinds}, {"namespaces", m.Namespaces}, {"excludeNamespaces", m.ExcludeNamespaces}, {"names", m.Names}} {
		for j, g := range f.globs {
			if _, err := path.Match(g, ""); err != nil {
				return r, fmt.Errorf("match.%s[%d]: %q is not a valid glob (allowed: names with *, ? and [...] as in path.Match): %w", f.name, j, g, err)
			}
		}
	}
	r.Match = capture.Match{APIGroups: m.APIGroups, ExcludeAPIGroups: m.ExcludeAPIGroups, Kinds: m.Kinds, Namespaces: m.Namespaces, ExcludeNamespaces: m.ExcludeNamespaces, Names: m.Names}
	if m.LabelSelector != "" {
		sel, err := labels.Parse(m.LabelSelector)
		if err != nil {
			return r, fmt.Errorf("match.labelSelector: %q is not allowed (a label selector such as team=a,tier!=dev): %w", m.LabelSelector, err)
		}
		r.Match.Selector = sel
	}
	for j, s := range m.HasFields {
		p, err := capture.ParsePath(s)
		if err != nil {
			return r, fmt.Errorf("match.hasFields[%d]: %w", j, err)
		}
		r.Match.HasFields = append(r.Match.HasFields, p)
	}
	if r.Mode != capture.ModeObject && len(in.Fields) == 0 {
		return r, fmt.Errorf("fields: %s mode needs at least one field path", r.Mode)
	}
	for j, s := range in.Fields {
		p, err := capture.ParsePath(s)
		if err != nil {
			return r, fmt.Errorf("fields[%d]: %w", j, err)
		}
		if err := checkFieldRoot(r.Mode, p); err != nil {
			return r, fmt.Errorf("fields[%d]: %w", j, err)
		}
		if k := p.LastKey(); capture.LooksLikeCredential(k) && !in.Encrypt && !in.AllowClearText && !r.Match.MatchesKind("", "Secret") { // Secrets: refused whole below
			return r, fmt.Errorf("fields[%d]: %q looks like a credential (%q) and would go to Git in clear text: set encrypt: true (SOPS for encryption.age.recipients) or allowClearText: true", j, p, k)
		}
		if in.Encrypt && p.LastKey() == "" {
			return r, fmt.Errorf("fields[%d]: %q: with encrypt: true a field must end in a key (SOPS selects values by key name), not [*]", j, p)
		}
		r.Fields = append(r.Fields, p)
	}
	for j, s := range in.Exclude {
		p, err := capture.ParsePath(s)
		if err != nil {
			return r, fmt.Errorf("exclude[%d]: %w", j, err)
		}
		r.Exclude = append(r.Exclude, p)
	}
	return r, nil
}

// neverCaptured are metadata fields that identify one object in one cluster
// or belong to tools; they are stripped from every capture, so selecting one
// is a mistake worth telling.
var neverCaptured = map[string]bool{
	"metadata.uid": true, "metadata.resourceVersion": true, "metadata.generation": true,
	"metadata.creationTimestamp": true, "metadata.managedFields": true, "metadata.ownerReferences": true,
	"metadata.selfLink": true, "metadata.deletionTimestamp": true, "metadata.deletionGracePeriodSeconds": true,
	"metadata.generateName": true,
}

// checkFieldRoot refuses paths whose captured value could not be written back.
func checkFieldRoot(mode capture.Mode, p capture.Path) error {
	switch p.Root() {
	case "apiVersion", "kind":
		return fmt.Errorf("%q: apiVersion and kind are always kept; allowed roots: metadata, spec, status and other top-level fields", p)
	}
	if p.String() == "metadata" || p.String() == "metadata.name" || p.String() == "metadata.namespace" {
		return fmt.Errorf("%q: select sub-fields of metadata such as metadata.annotations[\"crossplane.io/external-name\"]", p)
	}
	if neverCaptured[p.String()] {
		return fmt.Errorf("%q: server-assigned and ownership metadata is never captured (a rebuilt cluster assigns its own); allowed: labels, annotations, finalizers and fields outside metadata", p)
	}
	if mode == capture.ModeObject && p.Root() != "status" {
		return fmt.Errorf("%q: object mode keeps the whole object; its fields may only name status subtrees (status, status.atProvider, ...)", p)
	}
	return nil
}

// secretField reports whether the rule can capture Secret values, and
// through which field: data, stringData, or the whole object.
func secretField(r capture.Rule) (string, bool) {
	if !r.Match.MatchesKind("", "Secret") {
		return "", false
	}
	if r.Mode != capture.ModePatch {
		return fmt.Sprintf("mode %s (the whole object, data included) with match.kinds %v", r.Mode, r.Match.Kinds), true
	}
	for j, p := range r.Fields {
		if p.Root() == "data" || p.Root() == "stringData" {
			return fmt.Sprintf("fields[%d] %q", j, p), true
		}
	}
	return "", false
}

func isDNSLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range s {
		if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}
