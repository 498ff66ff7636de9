// Package heapstat is how benchmarks measure the Go heap: what live
// objects hold after a full collection, and the highest the heap in use
// (live and not yet collected, a proxy for RSS) reached over a stretch.
package heapstat

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

const heapObjects = "/memory/classes/heap/objects:bytes"

func read() uint64 {
	s := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// Live is the heap in use by live objects, in bytes, after a full
// collection.
func Live() float64 {
	runtime.GC()
	return float64(read())
}

// Peak samples the heap in use every millisecond until the returned
// function is called, which returns the highest sample in bytes.
func Peak() (stop func() float64) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var peak uint64
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() float64 {
		close(done)
		wg.Wait()
		return float64(peak)
	}
}
