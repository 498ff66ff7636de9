package config

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
)

// A cluster too large for one driftback process is split into shards
// (docs/sharding.md): several Deployments, one configuration file each,
// every shard capturing its own kinds into its own directory on one branch.
// The directories form a chain: the first shard's overlay.resources names
// the base, each later shard's names the previous shard's directory, and
// Argo CD or Flux apply the last one, which builds to everything. This file
// holds the per-file defaults and the rules a set of shard files must obey
// together (CheckShards, used by `driftback shards`).

// defaultPath is git.path when the file leaves it out.
func defaultPath(cluster, shard string) string {
	if shard == "" {
		return "clusters/" + cluster + "/driftback"
	}
	return "clusters/" + cluster + "/driftback-" + shard
}

// LeaseName is the default name of the leader-election Lease: one per
// Deployment, so two shards of a cluster never share one (a shared Lease
// would leave one shard a standby for ever, capturing nothing).
func (c *Config) LeaseName() string {
	if c.Shard == "" {
		return "driftback-" + c.Cluster
	}
	return "driftback-" + c.Cluster + "-" + c.Shard
}

// remote reports whether a kustomize resource names something outside the
// repository (a URL or a go-getter style address): it cannot be the
// overlay's own directory.
func remote(r string) bool {
	return strings.Contains(r, "://") || strings.Contains(r, "?ref=") || strings.HasPrefix(r, "git@") || strings.HasPrefix(r, "github.com/")
}

// resolve returns the repository path a relative resource of the overlay at
// dir names, and false for a remote one.
func resolve(dir, r string) (string, bool) {
	if remote(r) || path.IsAbs(r) {
		return "", false
	}
	return path.Clean(path.Join(dir, r)), true
}

// checkNotSelf refuses an overlay that lists its own directory as a
// resource: kustomize would load it in a cycle, and a shard chained to
// itself holds nothing of the base.
func checkNotSelf(dir string, resources []string) error {
	for i, r := range resources {
		if p, ok := resolve(dir, r); ok && p == dir {
			return fmt.Errorf("overlay.resources[%d]: %q is the overlay's own directory (git.path %s): list the base it patches, relative to git.path (such as ../../../apps/<cluster>), or for a shard the previous shard's git.path (docs/sharding.md)", i, r, dir)
		}
	}
	return nil
}

// Shard is one configuration file of a sharded cluster, in chain order.
type Shard struct {
	// File is where the configuration was read from, for messages.
	File   string
	Config *Config
	// Previous is the index in Chain.Shards of the shard whose directory
	// this one lists as its resource; -1 for the first, which lists the base.
	Previous int
}

// Chain is a validated set of shard files, first (the one over the base) to
// last (the one the GitOps tool applies).
type Chain struct {
	Shards []Shard
}

// Final is the directory Argo CD's Application or Flux's Kustomization
// points at: the last shard's, which builds to the base plus every shard.
func (c *Chain) Final() string { return c.Shards[len(c.Shards)-1].Config.Git.Path }

// CheckShards validates shard files together: one cluster, one repository
// and branch; a shard name each (so a Lease each) and a directory each,
// none inside another; their overlay.resources chaining them from the base
// to one last directory; no two shards whose rules could capture the same
// objects; the same overlay.flux settings (the one Flux Kustomization at the
// end of the chain applies them all); at most one pull request. files names
// each configuration in messages. It returns the shards in chain order.
func CheckShards(files []string, cfgs []*Config) (*Chain, error) {
	if len(cfgs) < 2 || len(files) != len(cfgs) {
		return nil, fmt.Errorf("shards: give two or more configuration files, one per shard")
	}
	first := cfgs[0]
	name := func(i int) string { return files[i] }
	dirs := map[string]int{}
	leases := map[string]int{}
	pullRequests := -1
	for i, c := range cfgs {
		same := []struct{ field, got, want string }{
			{"cluster", c.Cluster, first.Cluster},
			{"git.url", c.Git.URL, first.Git.URL},
			{"git.branch", c.Git.Branch, first.Git.Branch},
			{"git.baseBranch", c.Git.BaseBranch, first.Git.BaseBranch},
		}
		for _, s := range same {
			if s.got != s.want {
				return nil, fmt.Errorf("%s: %s: %q, but %s has %q: the shards of one cluster write one branch of one repository, so they must agree", name(i), s.field, s.got, name(0), s.want)
			}
		}
		if c.Overlay.Flux != first.Overlay.Flux {
			return nil, fmt.Errorf("%s: overlay.flux: %+v, but %s has %+v: the one Flux Kustomization at the end of the chain applies every shard, so all hold its settings", name(i), c.Overlay.Flux, name(0), first.Overlay.Flux)
		}
		if c.Shard == "" {
			return nil, fmt.Errorf("%s: shard: required in a sharded cluster: a short name (such as databases) that gives this Deployment a Lease of its own (driftback-%s-<shard>)", name(i), c.Cluster)
		}
		if j, dup := leases[c.LeaseName()]; dup {
			return nil, fmt.Errorf("%s: shard: %q is also the shard of %s: each shard needs its own name, or both Deployments share the Lease %s and one of them never writes", name(i), c.Shard, name(j), c.LeaseName())
		}
		leases[c.LeaseName()] = i
		for d, j := range dirs {
			if d == c.Git.Path || strings.HasPrefix(c.Git.Path, d+"/") || strings.HasPrefix(d, c.Git.Path+"/") {
				return nil, fmt.Errorf("%s: git.path: %s and the git.path of %s (%s) overlap: each shard writes a directory of its own, neither inside the other", name(i), c.Git.Path, name(j), d)
			}
		}
		dirs[c.Git.Path] = i
		if c.Git.PullRequest != nil {
			if pullRequests >= 0 {
				return nil, fmt.Errorf("%s: git.pullRequest: %s sets it too: the shards share one branch, and a host keeps one pull request per branch; set it in one shard only", name(i), name(pullRequests))
			}
			pullRequests = i
		}
	}
	prev, err := chainLinks(files, cfgs, dirs)
	if err != nil {
		return nil, err
	}
	if err := checkDisjoint(files, cfgs); err != nil {
		return nil, err
	}
	// Walk back from the one shard no other lists.
	listed := make([]bool, len(cfgs))
	for _, p := range prev {
		if p >= 0 {
			listed[p] = true
		}
	}
	last := -1
	for i := range cfgs {
		if !listed[i] {
			if last >= 0 {
				return nil, fmt.Errorf("overlay.resources: %s and %s are both at the end of a chain (no shard lists them): every shard but the first lists exactly the previous shard's directory, so that one last directory applies them all", name(last), name(i))
			}
			last = i
		}
	}
	if last < 0 {
		return nil, fmt.Errorf("overlay.resources: the shards list each other in a cycle: the first shard lists the base, each other one the previous shard's git.path")
	}
	var order []int
	seen := map[int]bool{}
	for i := last; i >= 0; i = prev[i] {
		if seen[i] {
			return nil, fmt.Errorf("overlay.resources: %s is reached twice walking the chain back from %s: the shards list each other in a cycle", name(i), name(last))
		}
		seen[i] = true
		order = append([]int{i}, order...)
	}
	if len(order) != len(cfgs) {
		for i := range cfgs {
			if !seen[i] {
				return nil, fmt.Errorf("overlay.resources: %s is not in the chain that ends at %s: list the previous shard's git.path in its overlay.resources, or make it the first and list the base", name(i), name(last))
			}
		}
	}
	pos := map[int]int{}
	for k, i := range order {
		pos[i] = k
	}
	ch := &Chain{}
	for _, i := range order {
		p := -1
		if prev[i] >= 0 {
			p = pos[prev[i]]
		}
		ch.Shards = append(ch.Shards, Shard{File: files[i], Config: cfgs[i], Previous: p})
	}
	return ch, nil
}

// chainLinks returns, for each shard, the shard whose directory it lists in
// overlay.resources (-1 for none). A shard that lists another lists only it:
// the base reaches it through the chain, and listing it twice would define
// every base object twice.
func chainLinks(files []string, cfgs []*Config, dirs map[string]int) ([]int, error) {
	prev := make([]int, len(cfgs))
	for i, c := range cfgs {
		prev[i] = -1
		for k, r := range c.Overlay.Resources {
			p, ok := resolve(c.Git.Path, r)
			if !ok {
				continue
			}
			// In order of directory: the first refusal is the same on
			// every run (a folder can hold several shards).
			for _, d := range slices.Sorted(maps.Keys(dirs)) {
				j := dirs[d]
				switch {
				case p == d:
					if len(c.Overlay.Resources) != 1 {
						return nil, fmt.Errorf("%s: overlay.resources[%d]: %q is the directory of %s; a shard after the first lists only the previous shard's directory (the base reaches it through the chain), not %v", files[i], k, r, files[j], c.Overlay.Resources)
					}
					prev[i] = j
				case strings.HasPrefix(p, d+"/"):
					return nil, fmt.Errorf("%s: overlay.resources[%d]: %q lies inside the directory of %s (%s): list the directory itself", files[i], k, r, files[j], d)
				case strings.HasPrefix(d, p+"/") || p == ".":
					return nil, fmt.Errorf("%s: overlay.resources[%d]: %q contains the directory of %s (%s): a shard lists the base or the previous shard's directory, never a folder holding a shard", files[i], k, r, files[j], d)
				}
			}
		}
	}
	return prev, nil
}

// checkDisjoint refuses two shards with rules that could match the same
// object: each object belongs to one shard, or two Deployments write its
// fields (and a move between shards would read as a deletion in one and a
// creation in the other). Rules are compared by their globs (match.apiGroups,
// kinds, namespaces, names); a group one rule names that the other excludes
// as written (excludeAPIGroups) counts as split; label selectors, hasFields
// and excludeNamespaces are not taken into account, so shards split by them
// are refused.
func checkDisjoint(files []string, cfgs []*Config) error {
	for i := range cfgs {
		for j := i + 1; j < len(cfgs); j++ {
			for _, a := range cfgs[i].Rules {
				for _, b := range cfgs[j].Rules {
					ma, mb := a.Match, b.Match
					ga, gb := all(ma.APIGroups), all(mb.APIGroups)
					if globsMeet(minus(ga, mb.ExcludeAPIGroups), minus(gb, ma.ExcludeAPIGroups)) && globsMeet(all(ma.Kinds), all(mb.Kinds)) &&
						globsMeet(all(ma.Namespaces), all(mb.Namespaces)) && globsMeet(all(ma.Names), all(mb.Names)) {
						return fmt.Errorf("rules: rule %q of %s (apiGroups %s, kinds %s) and rule %q of %s (apiGroups %s, kinds %s) can match the same objects: give each kind to one shard (split by match.apiGroups, match.kinds, match.namespaces or match.names; label selectors are not compared)",
							a.Name, files[i], list(ma.APIGroups), list(ma.Kinds), b.Name, files[j], list(mb.APIGroups), list(mb.Kinds))
					}
				}
			}
		}
	}
	return nil
}

// minus drops from groups those the other rule's excludes name as written
// (or match, for a literal group): that rule never sees them.
func minus(groups, excludes []string) []string {
	out := []string{}
	for _, g := range groups {
		excluded := false
		for _, e := range excludes {
			if ok, _ := path.Match(e, g); e == g || ok && !strings.ContainsAny(g, `*?[\`) {
				excluded = true
			}
		}
		if !excluded {
			out = append(out, g)
		}
	}
	return out
}

func list(globs []string) string {
	if len(globs) == 0 {
		return "[*]"
	}
	return "[" + strings.Join(globs, ", ") + "]"
}

// all is a rule's glob list with "every value" (empty) spelled as "*".
func all(globs []string) []string {
	if len(globs) == 0 {
		return []string{"*"}
	}
	return globs
}

// globsMeet reports whether some string matches a glob of a and one of b.
func globsMeet(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if GlobsIntersect(x, y) {
				return true
			}
		}
	}
	return false
}
