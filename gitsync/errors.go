package gitsync

import (
	"errors"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// ErrRejected is a push the server refused because the branch moved (another
// writer, a ref race on the server). Publish fetches and tries again.
var ErrRejected = errors.New("push rejected")

// ErrDeclined is a push a server-side hook refused. Trying again would be
// refused again, so Publish stops and says so.
var ErrDeclined = errors.New("push declined by a server-side hook")

// ErrNotOwned is a forced update refused because the side branch holds
// commits driftback did not write.
var ErrNotOwned = errors.New("branch not owned by driftback")

// permanentError marks an error that another attempt cannot fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

func permanent(err error) error { return permanentError{err} }

// callerError is the Prepare callback's own refusal (a safety guard, an
// overlay that does not build): permanent, and not a Git failure.
type callerError struct{ err error }

func (c callerError) Error() string { return c.err.Error() }
func (c callerError) Unwrap() error { return c.err }

// isPermanent says whether retrying err is pointless: hooks, credentials,
// host keys, a missing repository, the caller's own errors.
func isPermanent(err error) bool {
	var p permanentError
	var c callerError
	switch {
	case errors.As(err, &p), errors.As(err, &c), errors.Is(err, ErrDeclined), errors.Is(err, ErrNotOwned),
		errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrRepositoryNotFound), errors.Is(err, transport.ErrInvalidAuthMethod):
		return true
	}
	s := err.Error()
	// golang.org/x/crypto/ssh reports host key and auth failures as strings.
	return strings.Contains(s, "knownhosts:") || strings.Contains(s, "unable to authenticate") ||
		strings.Contains(s, "host key mismatch") || strings.Contains(s, "key is unknown")
}

// isDeclined recognises a hook's refusal in go-git's plain-string report
// ("command error on refs/heads/x: pre-receive hook declined").
func isDeclined(err error) bool {
	return strings.Contains(err.Error(), "hook declined")
}

// isRejection recognises go-git's plain-string push refusals:
// errors.Is(err, git.ErrNonFastForwardUpdate) does not hold for them.
func isRejection(err error) bool {
	if errors.Is(err, git.ErrNonFastForwardUpdate) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "non-fast-forward") || strings.Contains(s, "failed to update ref") ||
		strings.Contains(s, "fetch first") || strings.Contains(s, "failed to lock") ||
		strings.Contains(s, "reference already exists")
}
