package gitsync

import (
	"fmt"
	"strings"
	"unicode"
)

// CheckBranchName applies Git's own rules for a branch name (git
// check-ref-format --branch: refs.c check_refname_component, and
// strbuf_check_branch_ref's refusal of "HEAD" and a leading '-'), plus
// driftback's: the name is short, without refs/heads/, which driftback adds
// (refs/heads/refs/heads/main is a branch nobody can push to by name).
func CheckBranchName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%q is not allowed: %s (a branch name such as driftback/prod-eu1, as git check-ref-format --branch accepts)", name, why)
	}
	switch {
	case name == "":
		return bad("it is empty")
	case strings.HasPrefix(name, "refs/"):
		return bad("give the short name without refs/heads/; driftback adds it")
	case name == "HEAD" || name == "@":
		return bad("it names a special ref")
	case strings.HasPrefix(name, "-"):
		return bad("it starts with '-' (git would read it as an option)")
	case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.Contains(name, "//"):
		return bad("it starts or ends with '/' or holds an empty component")
	case strings.HasSuffix(name, "."):
		return bad("it ends with '.'")
	case strings.Contains(name, ".."):
		return bad("it holds '..'")
	case strings.Contains(name, "@{"):
		return bad("it holds '@{'")
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f {
			return bad("it holds a control character")
		}
		if strings.ContainsRune(" ~^:?*[\\", c) {
			return bad(fmt.Sprintf("it holds %q (not allowed: space ~ ^ : ? * [ \\)", c))
		}
	}
	for _, comp := range strings.Split(name, "/") {
		if strings.HasPrefix(comp, ".") {
			return bad("a component starts with '.'")
		}
		if strings.HasSuffix(comp, ".lock") {
			return bad("a component ends with .lock")
		}
	}
	return nil
}

// CleanDir refuses a directory Git or a checkout would treat
// specially: a .git component in any case or spelling a file system folds
// to .git (".GIT", ".git.", "git~1"; the checks of git's
// verify_path/is_hfs_dotgit/is_ntfs_dotgit), "..", empty components,
// backslashes and control characters. It returns the cleaned path
// (no leading or trailing '/', no '.' components).
func CleanDir(p string) (string, error) {
	bad := func(why string) error {
		return fmt.Errorf("%q is not allowed: %s (a directory inside the repository, such as clusters/prod-eu1/driftback)", p, why)
	}
	// A leading or trailing '/' is read as relative to the repository.
	trimmed := strings.Trim(p, "/")
	if trimmed == "" {
		return "", bad("it names the repository's root")
	}
	var comps []string
	for _, comp := range strings.Split(trimmed, "/") {
		switch comp {
		case "":
			return "", bad("it holds an empty component ('//')")
		case ".":
			continue
		case "..":
			return "", bad("it holds '..'")
		}
		if isDotGit(comp) {
			return "", bad("a component is .git (in some spelling); Git refuses such paths")
		}
		for _, c := range comp {
			if c < 0x20 || c == 0x7f || c == '\\' || !unicode.IsPrint(c) {
				return "", bad(fmt.Sprintf("it holds %q", c))
			}
		}
		comps = append(comps, comp)
	}
	if len(comps) == 0 {
		return "", bad("it names the repository's root")
	}
	return strings.Join(comps, "/"), nil
}

// isDotGit is true for ".git" in any case, with the trailing dots and spaces
// Windows drops, its 8.3 short name, and the zero-width characters HFS+
// ignores.
func isDotGit(comp string) bool {
	c := strings.Map(func(r rune) rune {
		switch r {
		case '\u200c', '\u200d', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e',
			'\u206a', '\u206b', '\u206c', '\u206d', '\u206e', '\u206f', '\ufeff':
			return -1
		}
		return r
	}, comp)
	c = strings.ToLower(strings.TrimRight(c, ". "))
	return c == ".git" || c == "git~1" || strings.HasPrefix(c, ".git:")
}
