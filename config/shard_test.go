package config

import (
	"path"
	"strings"
	"testing"
)

func TestGlobsIntersect(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"Bucket", "Bucket", true},
		{"Bucket", "Instance", false},
		{"*", "Bucket", true},
		{"*", "*", true},
		{"*.aws.upbound.io", "s3.aws.upbound.io", true},
		{"*.aws.upbound.io", "*.gcp.upbound.io", false},
		{"*.aws.upbound.io", "s3.*", true},
		{"s3.*", "rds.*", false},
		{"*.example.com", "infra.example.*", true},
		{"a*b", "*c", false},
		{"a*b", "a*", true},
		{"", "*", true},
		{"", "a", false},
		{"?", "", false},
		{"?", "x", true},
		{"[abc]*", "b*", true},
		{"[abc]*", "d*", false},
		{"[^a]", "a", false},
		{"[a-c]x", "[x-z]x", true}, // two classes: assumed to meet
		{`\*`, "*", true},
		{`\*`, "a", false},
		{"*a*b*", "*b*a*", true},
		{"rds.aws.upbound.io", "*.upbound.io", true},
	}
	for _, tt := range tests {
		if got := GlobsIntersect(tt.a, tt.b); got != tt.want {
			t.Errorf("GlobsIntersect(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := GlobsIntersect(tt.b, tt.a); got != tt.want {
			t.Errorf("GlobsIntersect(%q, %q) = %v, want %v (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}

// The verdict never says "disjoint" when a string matches both globs:
// every pair of globs over a small alphabet, against every short string.
func TestGlobsIntersectIsSound(t *testing.T) {
	globs := []string{"", "*", "a", "b", "?", "a*", "*a", "*b", "a*b", "b*a", "?a", "a?", "[ab]", "[^a]", "*a*", "ab", "ba", "[a]*b"}
	var strs []string
	var gen func(s string)
	gen = func(s string) {
		strs = append(strs, s)
		if len(s) < 4 {
			for _, c := range "abc" {
				gen(s + string(c))
			}
		}
	}
	gen("")
	for _, x := range globs {
		for _, y := range globs {
			both := false
			for _, s := range strs {
				mx, _ := path.Match(x, s)
				my, _ := path.Match(y, s)
				if mx && my {
					both = true
					break
				}
			}
			if both && !GlobsIntersect(x, y) {
				t.Errorf("GlobsIntersect(%q, %q) = false, but a string matches both", x, y)
			}
			// Without classes the answer is exact.
			if !both && GlobsIntersect(x, y) && !strings.ContainsAny(x+y, "[") {
				t.Errorf("GlobsIntersect(%q, %q) = true, but no string of up to 4 of a, b, c matches both", x, y)
			}
		}
	}
}

func TestOverlayListingItselfIsRefused(t *testing.T) {
	for _, res := range []string{".", "./", "../driftback", "../../prod-eu1/driftback"} {
		_, err := Parse([]byte(head + "overlay: {resources: ['" + res + "']}\nrules:\n" + okRule))
		if err == nil || !strings.Contains(err.Error(), "overlay.resources[0]") || !strings.Contains(err.Error(), "own directory") {
			t.Errorf("resources [%s]: err = %v, want overlay.resources[0] named as the overlay's own directory", res, err)
		}
	}
	c, err := Parse([]byte(head + "overlay: {resources: ['../driftback-a', 'https://github.com/x/y//clusters/prod-eu1/driftback?ref=v1']}\nrules:\n" + okRule))
	if err != nil {
		t.Fatalf("a shard before and a remote resource: %v", err)
	}
	if err := c.Override(Overrides{URL: "https://git.example/fleet.git", Path: "clusters/prod-eu1/driftback-a"}); err == nil || !strings.Contains(err.Error(), "--path") {
		t.Errorf("--path onto the base the overlay lists: err = %v, want a refusal naming --path", err)
	}
}

func TestShardDefaults(t *testing.T) {
	c, err := Parse([]byte(head + "rules:\n" + okRule))
	if err != nil {
		t.Fatal(err)
	}
	if c.LeaseName() != "driftback-prod-eu1" || c.Git.Path != "clusters/prod-eu1/driftback" {
		t.Errorf("unsharded: lease %s, path %s", c.LeaseName(), c.Git.Path)
	}
	c, err = Parse([]byte(head + "shard: databases\nrules:\n" + okRule))
	if err != nil {
		t.Fatal(err)
	}
	if c.LeaseName() != "driftback-prod-eu1-databases" || c.Git.Path != "clusters/prod-eu1/driftback-databases" || c.Git.Branch != "driftback/prod-eu1" {
		t.Errorf("shard databases: lease %s, path %s, branch %s", c.LeaseName(), c.Git.Path, c.Git.Branch)
	}
	for _, bad := range []string{"Databases", "a_b", "-a", strings.Repeat("a", 64)} {
		if _, err := Parse([]byte(head + "shard: " + bad + "\nrules:\n" + okRule)); err == nil || !strings.Contains(err.Error(), "shard:") || !strings.Contains(err.Error(), "lower-case") {
			t.Errorf("shard %q: err = %v, want a refusal naming shard and what is allowed", bad, err)
		}
	}
}

// shardFile is a shard's configuration: its name, what it lists and its
// rule's match, the rest shared.
func shardFile(t *testing.T, shard, resources, match string, extra ...string) *Config {
	t.Helper()
	git := "git: {url: 'https://git.example/fleet.git'}\n"
	for _, e := range extra {
		if strings.HasPrefix(e, "git:") {
			git = ""
		}
	}
	doc := head + git + "shard: " + shard + "\noverlay: {resources: [" + resources + "]}\n" +
		strings.Join(extra, "") + "rules:\n- name: r-" + shard + "\n  match: " + match + "\n  fields: ['metadata.annotations[\"crossplane.io/external-name\"]']\n"
	c, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("shard %s: %v\n%s", shard, err, doc)
	}
	return c
}

func TestCheckShards(t *testing.T) {
	const (
		base     = "../../../apps/prod-eu1"
		buckets  = "{apiGroups: [s3.aws.upbound.io], kinds: [Bucket]}"
		dbs      = "{apiGroups: [rds.aws.upbound.io], kinds: ['*']}"
		clusters = "{apiGroups: [infra.example.com], kinds: [KubernetesCluster]}"
	)
	// A valid chain of three, given out of order.
	ch, err := CheckShards([]string{"c.yaml", "a.yaml", "b.yaml"}, []*Config{
		shardFile(t, "c", "../driftback-b", clusters),
		shardFile(t, "a", base, buckets),
		shardFile(t, "b", "../driftback-a", dbs),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range ch.Shards {
		got = append(got, s.File)
	}
	if strings.Join(got, " ") != "a.yaml b.yaml c.yaml" || ch.Final() != "clusters/prod-eu1/driftback-c" || ch.Shards[0].Previous != -1 || ch.Shards[2].Previous != 1 {
		t.Errorf("chain %v, final %s, previous %d %d", got, ch.Final(), ch.Shards[0].Previous, ch.Shards[2].Previous)
	}
	// Split by group with the other shard excluding it: allowed.
	if _, err := CheckShards([]string{"a.yaml", "b.yaml"}, []*Config{
		shardFile(t, "a", base, "{apiGroups: ['*.aws.upbound.io'], kinds: ['*']}"),
		shardFile(t, "b", "../driftback-a", "{apiGroups: ['*'], excludeAPIGroups: ['*.aws.upbound.io'], kinds: ['*']}"),
	}); err != nil {
		t.Errorf("split by excludeAPIGroups: %v", err)
	}

	tests := []struct {
		name string
		cfgs func() []*Config
		want []string
	}{
		{"one file", func() []*Config { return []*Config{shardFile(t, "a", base, buckets)} }, []string{"two or more"}},
		{"same kind in two shards", func() []*Config {
			return []*Config{shardFile(t, "a", base, buckets), shardFile(t, "b", "../driftback-a", "{apiGroups: ['*.aws.upbound.io'], kinds: ['*']}")}
		}, []string{"rules:", `rule "r-a" of a.yaml`, `rule "r-b" of b.yaml`, "can match the same objects", "match.apiGroups"}},
		{"same shard name", func() []*Config {
			return []*Config{shardFile(t, "a", base, buckets), shardFile(t, "a", "../driftback-a", dbs, "git: {url: 'https://git.example/fleet.git', path: clusters/prod-eu1/other}\n")}
		}, []string{"shard:", "driftback-prod-eu1-a", "own name"}},
		{"no shard name", func() []*Config {
			c := shardFile(t, "b", "../driftback-a", dbs)
			c.Shard = ""
			return []*Config{shardFile(t, "a", base, buckets), c}
		}, []string{"b.yaml: shard: required", "Lease"}},
		{"other cluster", func() []*Config {
			c := shardFile(t, "b", "../driftback-a", dbs)
			c.Cluster = "prod-us1"
			return []*Config{shardFile(t, "a", base, buckets), c}
		}, []string{"b.yaml: cluster", `"prod-us1"`, `"prod-eu1"`}},
		{"other branch", func() []*Config {
			c := shardFile(t, "b", "../driftback-a", dbs)
			c.Git.Branch = "driftback/b"
			return []*Config{shardFile(t, "a", base, buckets), c}
		}, []string{"git.branch", "one branch"}},
		{"nested directories", func() []*Config {
			c := shardFile(t, "b", "..", dbs)
			c.Git.Path = "clusters/prod-eu1/driftback-a/b"
			return []*Config{shardFile(t, "a", base, buckets), c}
		}, []string{"git.path", "overlap", "neither inside the other"}},
		{"two ends", func() []*Config {
			return []*Config{shardFile(t, "a", base, buckets), shardFile(t, "b", base, dbs)}
		}, []string{"overlay.resources", "both at the end of a chain"}},
		{"a fork", func() []*Config {
			return []*Config{shardFile(t, "a", base, buckets), shardFile(t, "b", "../driftback-a", dbs), shardFile(t, "c", "../driftback-a", clusters)}
		}, []string{"both at the end of a chain"}},
		{"a cycle", func() []*Config {
			return []*Config{shardFile(t, "a", "../driftback-b", buckets), shardFile(t, "b", "../driftback-a", dbs)}
		}, []string{"cycle"}},
		{"a cycle beside a chain", func() []*Config {
			return []*Config{shardFile(t, "a", base, buckets), shardFile(t, "b", "../driftback-c", dbs), shardFile(t, "c", "../driftback-b", clusters)}
		}, []string{"not in the chain", "a.yaml"}},
		{"previous shard and the base", func() []*Config {
			return []*Config{shardFile(t, "a", base, buckets), shardFile(t, "b", "../driftback-a, "+base, dbs)}
		}, []string{"b.yaml: overlay.resources[0]", "lists only the previous shard's directory"}},
		{"inside another shard", func() []*Config {
			return []*Config{shardFile(t, "a", base, buckets), shardFile(t, "b", "../driftback-a/patches", dbs)}
		}, []string{"overlay.resources[0]", "inside the directory of a.yaml"}},
		{"a folder holding a shard", func() []*Config {
			return []*Config{shardFile(t, "a", base, buckets), shardFile(t, "b", "..", dbs)}
		}, []string{"overlay.resources[0]", "contains the directory of a.yaml"}},
		{"flux settings differ", func() []*Config {
			c := shardFile(t, "b", "../driftback-a", dbs)
			c.Overlay.Flux.NamePrefix = "x-"
			return []*Config{shardFile(t, "a", base, buckets), c}
		}, []string{"overlay.flux", "one Flux Kustomization"}},
		{"two pull requests", func() []*Config {
			pr := "git: {url: 'https://git.example/fleet.git', pullRequest: {provider: github, repository: o/fleet, tokenFile: /t}}\n"
			return []*Config{shardFile(t, "a", base, buckets, pr), shardFile(t, "b", "../driftback-a", dbs, pr)}
		}, []string{"b.yaml: git.pullRequest", "a.yaml sets it too", "one shard only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfgs := tt.cfgs()
			files := []string{"a.yaml", "b.yaml", "c.yaml"}[:len(cfgs)]
			_, err := CheckShards(files, cfgs)
			if err == nil {
				t.Fatalf("accepted; want an error with %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
