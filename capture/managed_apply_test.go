package capture

import "testing"

func TestApplyManager(t *testing.T) {
	tests := []struct {
		managers []string
		want     string
	}{
		{nil, "argocd-controller"},
		{[]string{"kustomize-controller"}, "kustomize-controller"},
		{[]string{"argocd-*", "flux-apply"}, "flux-apply"},
		{[]string{"*"}, "argocd-controller"},
		{[]string{"kustomize-*"}, "kustomize-controller"},
	}
	for _, tt := range tests {
		if got := ApplyManager(tt.managers); got != tt.want {
			t.Errorf("ApplyManager(%v) = %q, want %q", tt.managers, got, tt.want)
		}
	}
}
