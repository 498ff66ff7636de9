// Command kube-apiserver is a thin wrapper around the upstream kube-apiserver
// command, so that driftback's tests can build a real apiserver from the Go
// module proxy (no prebuilt binary can be downloaded where driftback is built).
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
