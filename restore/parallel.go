package restore

import "sync"

// workers bounds the requests a restore, an apply or a verification has in
// flight: objects are independent, and one at a time a large overlay would
// wait on round trips rather than on the apiserver.
const workers = 8

// each calls fn(i) for i in [0, n), up to workers at once, and returns when
// all are done. fn writes its result to slot i, so order is kept.
func each(n int, fn func(i int)) {
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(i)
		}()
	}
	wg.Wait()
}
