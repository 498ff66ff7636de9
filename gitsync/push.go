package gitsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
)

// written records the objects a build stores. They are exactly what the
// server lacks: everything else a new commit references comes from the
// parent, the base or the leased tip, all fetched from the server. Sending
// just them keeps a push's cost at what changed; go-git's own push walks
// every object reachable from the remote's refs to find what to send.
type written struct {
	storer.EncodedObjectStorer
	hashes []plumbing.Hash
	// bases names, for each tree rewritten from one the server has, that
	// tree (thinpack.go); taken are those of the objects take returned.
	bases, taken map[plumbing.Hash]plumbing.Hash
	// noThin is set once a thin push failed (pushPack).
	noThin bool
}

// deltaBase records that tree target replaces tree base.
func (w *written) deltaBase(target, base plumbing.Hash) {
	if w.bases == nil {
		w.bases = map[plumbing.Hash]plumbing.Hash{}
	}
	w.bases[target] = base
}

func (w *written) SetEncodedObject(o plumbing.EncodedObject) (plumbing.Hash, error) {
	h, err := w.EncodedObjectStorer.SetEncodedObject(o)
	if err == nil {
		w.hashes = append(w.hashes, h)
	}
	return h, err
}

// take returns the recorded objects and starts a new record.
func (w *written) take() []plumbing.Hash {
	h := w.hashes
	w.hashes = nil
	w.taken, w.bases = w.bases, nil
	return h
}

// pushPack moves branch on the server from old (zero: create it) to commit,
// sending objs. The server applies the update only if the branch is still
// at old, atomically, so a writer that got there first is never
// overwritten: fast-forwards and leased re-derivations are the same
// compare-and-swap.
func (r *Repo) pushPack(ctx context.Context, branch string, old, commit plumbing.Hash, objs []plumbing.Hash) error {
	start := time.Now()
	defer func() { r.metrics.push.Observe(time.Since(start).Seconds()) }()
	name := plumbing.NewBranchReferenceName(branch)
	fail := func(err error, said string) error {
		switch {
		case isDeclined(err):
			return fmt.Errorf("push %s to %s: %w: %v%s", branch, redact(r.url), ErrDeclined, r.scrub(err), remoteMessage(said))
		case isRejection(err):
			return fmt.Errorf("push %s to %s: %w: %v", branch, redact(r.url), ErrRejected, r.scrub(err))
		default:
			return fmt.Errorf("push %s to %s: %w", branch, redact(r.url), r.scrub(err))
		}
	}
	ep, err := ParseURL(r.url)
	if err != nil {
		return permanent(err)
	}
	ep.CaBundle = r.caBundle
	asked := *ep
	c, err := client.NewClient(ep)
	if err != nil {
		return fail(err, "")
	}
	s, err := c.NewReceivePackSession(ep, r.auth)
	if err != nil {
		return fail(err, "")
	}
	defer s.Close()
	ar, err := s.AdvertisedReferencesContext(ctx)
	if err != nil {
		return fail(err, "")
	}
	req := packp.NewReferenceUpdateRequestFromCapabilities(ar.Capabilities)
	// The server's own words (a hook's reason) arrive on the progress band.
	var said bytes.Buffer
	req.Progress = &said
	if ar.Capabilities.Supports(capability.Sideband64k) {
		_ = req.Capabilities.Set(capability.Sideband64k)
	} else if ar.Capabilities.Supports(capability.Sideband) {
		_ = req.Capabilities.Set(capability.Sideband)
	}
	req.Commands = []*packp.Command{{Name: name, Old: old, New: commit}}
	thin := len(objs) <= deltaSearchMax && len(r.written.taken) > 0 && !r.written.noThin &&
		!ar.Capabilities.Supports(capability.Capability("no-thin"))
	// send encodes the pack while it is sent, not built whole first (a
	// first commit's pack is tens of MB), and returns the server's report
	// and error, or the encoder's. SSH and local transports stream go-git's
	// request; over HTTP (stream) the POST is gitsync's own (httppush.go),
	// as go-git's HTTP transport buffers the request whole.
	send := func(stream bool) (rs *packp.ReportStatus, encErr, err error) {
		pr, pw := io.Pipe()
		encoded := make(chan error, 1)
		go func() {
			var err error
			switch window := packWindow(len(objs)); {
			case thin:
				err = writePack(pw, r.repo.Storer, objs, r.written.taken)
			case window == 0:
				err = writePack(pw, r.repo.Storer, objs, nil)
			default:
				enc := packfile.NewEncoder(pw, r.repo.Storer, !ar.Capabilities.Supports(capability.OFSDelta))
				_, err = enc.Encode(objs, window)
			}
			if err != nil {
				err = fmt.Errorf("push %s: encode %d objects: %w", branch, len(objs), err)
			}
			encoded <- err
			pw.CloseWithError(err)
		}()
		req.Packfile = pr
		if stream {
			rs, err = r.receivePackHTTP(ctx, ep, req)
		} else {
			rs, err = s.ReceivePack(ctx, req)
		}
		// A transport that stopped reading early leaves the encoder blocked.
		_ = pr.CloseWithError(errPushEnded)
		if encErr := <-encoded; encErr != nil && !errors.Is(encErr, errPushEnded) {
			return nil, encErr, nil
		}
		return rs, nil, err
	}
	stream := !r.http.buffered && streamsPush(&asked, ep)
	rs, encErr, err := send(stream)
	var refused refusedStream
	if stream && errors.As(err, &refused) {
		// A server (or a proxy before it) that reads no body without a
		// length: this push again, buffered, and every later one too.
		r.http.buffered = true
		slog.Warn("the Git server refused a push streamed without a length; pushing buffered from now on", "branch", branch, "err", r.scrub(err))
		said.Reset()
		rs, encErr, err = send(false)
	}
	if encErr != nil {
		return encErr
	}
	if err == nil && rs != nil {
		err = rs.Error()
	}
	if err != nil {
		err = fail(err, said.String())
		if thin && !errors.Is(err, ErrRejected) && !errors.Is(err, ErrDeclined) {
			// A server that took the pack badly for another reason than
			// a race or a hook: whole packs from now on, as before
			// thin ones existed, so a publish is never stuck on them.
			r.written.noThin = true
			slog.Warn("a thin push failed; pushing whole packs from now on", "branch", branch, "err", err)
		}
		return err
	}
	r.pushed(branch, commit)
	return nil
}

// deltaSearchMax is the most objects a push searches deltas among. A pack
// holds only this commit's new objects, never their previous versions (those
// are on the server and go-git sends no thin packs), so deltas can only be
// between new objects: worth a little search for an ordinary change of a few
// files, not for a first commit of 100,000 blobs, where the search took
// about a quarter of the publish's time and twice its memory for a smaller
// upload. The server accepts a pack without deltas like any other.
const deltaSearchMax = 1000

// packWindow is go-git's delta search window for a pack of n objects: 0
// turns the search off.
func packWindow(n int) uint {
	if n > deltaSearchMax {
		return 0
	}
	return 10
}

// errPushEnded stops a pack encoder whose push has returned.
var errPushEnded = errors.New("push ended")
