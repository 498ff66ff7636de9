package live

import (
	"sync"

	"github.com/driftback/driftback/capture"
)

// changeLog collects the objects whose captures changed since the last
// snapshot a publish took, so the publisher compares only those
// (capture.Changes) instead of all of them. The watch's event handlers add
// to it after the cache holds the change: the log is taken before the
// cache is listed, so a change is in the snapshot's log, or in the next
// one's (then the publisher finds it one publish later, which its own
// notification asks for), never in neither.
type changeLog struct {
	mu   sync.Mutex
	refs map[capture.ObjectRef]bool
	// all is set when something changed that names no one object (a
	// resource watched or dropped, a notification of unknown form, the
	// first publish): the next publisher compares every capture.
	all bool
	// base is the last snapshot handed to a publish that succeeded; last
	// the last snapshot taken.
	base, last uint64
}

func newChangeLog() *changeLog {
	return &changeLog{refs: map[capture.ObjectRef]bool{}, all: true}
}

func (l *changeLog) add(c *capture.Packed) {
	if c == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.all {
		l.refs[c.Ref.Unversioned()] = true
	}
}

func (l *changeLog) addAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = true
	clear(l.refs)
}

// take starts a snapshot: what changed since the last one published.
func (l *changeLog) take() *capture.Changes {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last++
	c := &capture.Changes{Since: l.base, Snapshot: l.last, Refs: l.refs}
	if l.all {
		c.Since, c.Refs = 0, nil
	}
	l.refs, l.all = map[capture.ObjectRef]bool{}, false
	return c
}

// settle ends the publish of c: once published, the next changes follow
// it; otherwise they follow the last one published and c's are owed again.
func (l *changeLog) settle(c *capture.Changes, published bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if published {
		l.base = c.Snapshot
		return
	}
	if c.Since == 0 {
		l.all = true
	}
	if l.all {
		clear(l.refs)
		return
	}
	for r := range c.Refs {
		l.refs[r] = true
	}
}
