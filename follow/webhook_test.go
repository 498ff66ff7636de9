package follow

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Each Git host's way of signing a push event, and what is refused.
func TestPushHook(t *testing.T) {
	secret := []byte("hook-secret")
	body := `{"ref":"refs/heads/main"}`
	sig := func(key []byte, b string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(b))
		return hex.EncodeToString(m.Sum(nil))
	}
	tests := []struct {
		name    string
		headers map[string]string
		body    string
		code    int
		poked   bool
	}{
		{"github", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + sig(secret, body)}, body, http.StatusAccepted, true},
		{"github, another secret", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + sig([]byte("x"), body)}, body, http.StatusUnauthorized, false},
		{"github, body changed", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + sig(secret, body)}, `{"ref":"refs/heads/main" }`, http.StatusUnauthorized, false},
		{"gitea", map[string]string{"X-Gitea-Event": "push", "X-Gitea-Signature": sig(secret, body)}, body, http.StatusAccepted, true},
		{"gitlab", map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": string(secret)}, body, http.StatusAccepted, true},
		{"gitlab, wrong token", map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "guess"}, body, http.StatusUnauthorized, false},
		{"unsigned", map[string]string{"X-GitHub-Event": "push"}, body, http.StatusUnauthorized, false},
		{"another branch", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + sig(secret, `{"ref":"refs/heads/dev"}`)}, `{"ref":"refs/heads/dev"}`, http.StatusOK, false},
		{"not a push", map[string]string{"X-GitHub-Event": "ping", "X-Hub-Signature-256": "sha256=" + sig(secret, body)}, body, http.StatusOK, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			poked := false
			h := &Hook{Secret: secret, Branch: "main", Poke: func() { poked = true }}
			req := httptest.NewRequest(http.MethodPost, "/hooks/push", strings.NewReader(tt.body))
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.code || poked != tt.poked {
				t.Errorf("HTTP %d poked %v, want %d %v (%s)", rec.Code, poked, tt.code, tt.poked, rec.Body.String())
			}
		})
	}
}
