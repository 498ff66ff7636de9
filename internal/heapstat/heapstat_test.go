package heapstat

import (
	"runtime"
	"testing"
)

// TestLiveAndPeakSeeAnAllocation: 64 MB held shows in Live, and in Peak
// over the stretch it was allocated in.
func TestLiveAndPeakSeeAnAllocation(t *testing.T) {
	before := Live()
	stop := Peak()
	held := make([]byte, 64<<20)
	for i := range held {
		held[i] = 1
	}
	peak := stop()
	live := Live()
	runtime.KeepAlive(held)
	if live-before < 60<<20 {
		t.Fatalf("Live grew by %.0f bytes holding 64 MiB", live-before)
	}
	if peak-before < 60<<20 {
		t.Fatalf("Peak rose by %.0f bytes over a 64 MiB allocation", peak-before)
	}
}
