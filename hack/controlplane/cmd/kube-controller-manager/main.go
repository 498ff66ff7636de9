// Command kube-controller-manager wraps the upstream controller manager so that
// end-to-end tests get the real PV binder and garbage collector.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
