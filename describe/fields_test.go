package describe

import "testing"

func TestHiddenPath(t *testing.T) {
	tests := []struct {
		path   string
		hidden bool
	}{
		{`metadata.annotations["crossplane.io/external-name"]`, false},
		{`status.atProvider.arn`, false},
		{`metadata.labels["monkey"]`, false},
		{`spec.forProvider.masterPasswordSecretRef.key`, true},
		{`status.adminPassword`, true},
		{`status.connection["api-token"]`, true},
		{`spec.tls[0].privateKey`, true},
		{`data.password`, true},
		{`stringData["config.json"]`, true},
		{`status.kubeconfig`, true},
	}
	for _, tc := range tests {
		if got := hiddenPath(tc.path); got != tc.hidden {
			t.Errorf("hiddenPath(%s) = %v, want %v", tc.path, got, tc.hidden)
		}
	}
}
