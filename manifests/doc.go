// Package manifests holds the Kustomize base that installs driftback and
// examples of Argo CD and Flux consuming its overlay. The Go file exists only
// so that manifests_test.go checks they build.
package manifests
