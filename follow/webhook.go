package follow

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// maxHookBody bounds a push event read into memory (GitHub caps payloads
// at 25 MB; a push event listing thousands of commits stays far below).
const maxHookBody = 5 << 20

// Hook accepts push events from GitHub, GitLab and Gitea/Forgejo and
// pokes the base follower when the base branch moved, so the side branch
// follows at once instead of at the next poll. Every request is
// authenticated as its host signs it:
//   - GitHub (and Gitea): X-Hub-Signature-256, "sha256=" + HMAC-SHA256 of
//     the body with the secret;
//   - Gitea/Forgejo: X-Gitea-Signature, the same HMAC in hex;
//   - GitLab: X-Gitlab-Token, the secret itself.
//
// The event only triggers a check: what the branch holds is always read
// from Git, so a forged or replayed event can do no more than a poll.
type Hook struct {
	Secret []byte
	Branch string // the base branch
	Poke   func()
}

func (h *Hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST a push event", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxHookBody+1))
	if err != nil || len(body) > maxHookBody {
		http.Error(w, "unreadable or too large body", http.StatusBadRequest)
		return
	}
	host, err := h.authenticate(r.Header, body)
	if err != nil {
		slog.Warn("push webhook refused", "remote", r.RemoteAddr, "err", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if ev := eventName(r.Header); ev != "push" && ev != "Push Hook" {
		fmt.Fprintf(w, "ignored: %s event\n", ev)
		return
	}
	var ev struct {
		Ref string `json:"ref"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "push event: "+err.Error(), http.StatusBadRequest)
		return
	}
	if ev.Ref != "refs/heads/"+h.Branch {
		fmt.Fprintf(w, "ignored: %s is not the base branch\n", ev.Ref)
		return
	}
	slog.Debug("push webhook: the base branch moved", "host", host, "ref", ev.Ref)
	h.Poke()
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintln(w, "checking the base branch")
}

func eventName(hd http.Header) string {
	for _, k := range []string{"X-GitHub-Event", "X-Gitea-Event", "X-Forgejo-Event", "X-Gitlab-Event"} {
		if v := hd.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// authenticate checks the host's signature and names the host.
func (h *Hook) authenticate(hd http.Header, body []byte) (string, error) {
	mac := hmac.New(sha256.New, h.Secret)
	mac.Write(body)
	want := mac.Sum(nil)
	if s := hd.Get("X-Hub-Signature-256"); s != "" {
		got, err := hex.DecodeString(strings.TrimPrefix(s, "sha256="))
		if err != nil || !strings.HasPrefix(s, "sha256=") || !hmac.Equal(got, want) {
			return "", fmt.Errorf("X-Hub-Signature-256 does not match the secret")
		}
		return "github", nil
	}
	for _, k := range []string{"X-Gitea-Signature", "X-Forgejo-Signature"} {
		if s := hd.Get(k); s != "" {
			got, err := hex.DecodeString(s)
			if err != nil || !hmac.Equal(got, want) {
				return "", fmt.Errorf("%s does not match the secret", k)
			}
			return "gitea", nil
		}
	}
	if s := hd.Get("X-Gitlab-Token"); s != "" {
		if subtle.ConstantTimeCompare([]byte(s), h.Secret) != 1 {
			return "", fmt.Errorf("X-Gitlab-Token does not match the secret")
		}
		return "gitlab", nil
	}
	return "", fmt.Errorf("unsigned request: want X-Hub-Signature-256 (GitHub), X-Gitea-Signature (Gitea, Forgejo) or X-Gitlab-Token (GitLab)")
}
