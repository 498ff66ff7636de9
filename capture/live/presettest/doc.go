// Package presettest checks every capture preset against a real
// kube-apiserver: the fixtures under testdata/presets are applied as Argo CD
// and the controllers would, captured with the preset, rendered against the
// Git base and compared with golden overlays. The package holds tests only.
package presettest
