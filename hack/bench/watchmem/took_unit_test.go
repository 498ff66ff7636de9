package main

import "testing"

func TestPublishPhases(t *testing.T) {
	logs := `time=1 level=INFO msg=committed commit=a files=100000 objects=50000 took.fetch=5ms took.prepare=9s took.build=3s took.push=4s
time=2 level=INFO msg="watch caches synced"
time=3 level=INFO msg=committed commit=b files=20 objects=50000 took.fetch=10ms took.prepare=200ms took.build=100ms took.push=300ms
time=4 level=INFO msg=committed commit=c files=30 objects=50000 took.fetch=30ms took.prepare=100ms took.build=150ms took.push=500ms
time=5 level=INFO msg=committed commit=d files=30 objects=50000 took.fetch=20ms took.prepare=300ms took.build=120ms took.push=400ms`
	want := "3 publishes: fetch p50 20ms max 30ms; prepare p50 200ms max 300ms; build p50 120ms max 150ms; push p50 400ms max 500ms"
	if got := publishPhases(logs); got != want {
		t.Fatalf("publishPhases =\n%s\nwant\n%s", got, want)
	}
}
