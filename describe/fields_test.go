package describe

import "testing"

func TestHiddenAt(t *testing.T) {
	tests := []struct {
		at     []any
		hidden bool
	}{
		{[]any{"metadata", "annotations", "crossplane.io/external-name"}, false},
		{[]any{"status", "atProvider", "arn"}, false},
		{[]any{"metadata", "labels", "monkey"}, false},
		{[]any{"spec", "forProvider", "masterPasswordSecretRef", "key"}, true},
		{[]any{"status", "adminPassword"}, true},
		{[]any{"status", "connection", "api-token"}, true},
		{[]any{"spec", "tls", 0, "privateKey"}, true},
		{[]any{"data", "password"}, true},
		{[]any{"stringData", "config.json"}, true},
		{[]any{"status", "kubeconfig"}, true},
	}
	for _, tc := range tests {
		if got := hiddenAt(tc.at); got != tc.hidden {
			t.Errorf("hiddenAt(%v) = %v, want %v", tc.at, got, tc.hidden)
		}
	}
}
