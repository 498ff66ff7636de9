package pullrequest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Reasons an API call failed, as logged and counted in
// driftback_pull_request_errors_total{reason}.
const (
	// ReasonUnavailable: the host did not answer, or answered 5xx.
	ReasonUnavailable = "unavailable"
	// ReasonRateLimited: 429, or 403 with the rate limit spent.
	ReasonRateLimited = "rate-limited"
	// ReasonUnauthorized: 401, the token is wrong, revoked or expired.
	ReasonUnauthorized = "unauthorized"
	// ReasonForbidden: 403, the token lacks a permission.
	ReasonForbidden = "forbidden"
	// ReasonNotFound: 404, no such repository (or the token cannot see it).
	ReasonNotFound = "not-found"
	// ReasonRejected: the host refused the request (400, 409, 422).
	ReasonRejected = "rejected"
	// ReasonOther: anything else (a bug in driftback or the host).
	ReasonOther = "other"
)

// Reasons lists every reason, so metrics can start at zero.
var Reasons = []string{ReasonUnavailable, ReasonRateLimited, ReasonUnauthorized, ReasonForbidden, ReasonNotFound, ReasonRejected, ReasonOther}

// Error is a failed API call, classified.
type Error struct {
	Provider string
	Reason   string
	// Status is the HTTP status, 0 when there was no answer.
	Status int
	// RetryAfter is how long the host asked to wait (Retry-After, or the
	// rate limit's reset time), 0 when it did not say.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	hint := ""
	switch e.Reason {
	case ReasonUnauthorized:
		hint = " (the token in git.pullRequest.tokenFile is wrong, revoked or expired)"
	case ReasonForbidden:
		hint = " (the token lacks a permission: it needs to read and write pull requests of the repository)"
	case ReasonNotFound:
		hint = " (check git.pullRequest.repository and apiURL, and that the token can see the repository)"
	case ReasonRateLimited:
		if e.RetryAfter > 0 {
			hint = fmt.Sprintf(" (retry after %s)", e.RetryAfter.Round(time.Second))
		}
	}
	return fmt.Sprintf("%s API: %s%s: %v", e.Provider, e.Reason, hint, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the reason of a classified error, ReasonOther otherwise.
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonOther
}

// RetryAfterOf returns how long the host asked to wait, 0 when it did not.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// Classify turns an SDK's error and the HTTP response it saw into an Error,
// with the token removed from its text. resp may be nil (no answer).
func Classify(provider, token string, resp *http.Response, err error, now time.Time) error {
	if err == nil {
		return nil
	}
	e := &Error{Provider: provider, Err: redacted{err, token}}
	if resp == nil {
		e.Reason = ReasonUnavailable
		if errors.Is(err, context.Canceled) {
			e.Reason = ReasonOther
		}
		return e
	}
	e.Status = resp.StatusCode
	e.RetryAfter = retryAfter(resp.Header, now)
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		e.Reason = ReasonRateLimited
	case s == http.StatusUnauthorized:
		e.Reason = ReasonUnauthorized
	case s == http.StatusForbidden && rateLimited(resp.Header):
		// GitHub answers a spent primary or secondary rate limit with 403.
		e.Reason = ReasonRateLimited
	case s == http.StatusForbidden:
		e.Reason = ReasonForbidden
	case s == http.StatusNotFound:
		e.Reason = ReasonNotFound
	case s == http.StatusBadRequest || s == http.StatusConflict || s == http.StatusUnprocessableEntity || s == http.StatusMethodNotAllowed:
		e.Reason = ReasonRejected
	case s >= 500:
		e.Reason = ReasonUnavailable
	default:
		e.Reason = ReasonOther
	}
	return e
}

func rateLimited(h http.Header) bool {
	return h.Get("Retry-After") != "" || h.Get("X-RateLimit-Remaining") == "0" || h.Get("RateLimit-Remaining") == "0"
}

// retryAfter reads Retry-After (seconds or an HTTP date), else the rate
// limit's reset time (GitHub's X-RateLimit-Reset, GitLab's RateLimit-Reset,
// Unix seconds) when the limit is spent.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil && t.After(now) {
			return t.Sub(now)
		}
	}
	for _, p := range []string{"X-RateLimit-", "RateLimit-"} {
		if h.Get(p+"Remaining") != "0" {
			continue
		}
		if s, err := strconv.ParseInt(h.Get(p+"Reset"), 10, 64); err == nil {
			if t := time.Unix(s, 0); t.After(now) {
				return t.Sub(now)
			}
		}
	}
	return 0
}

// redacted hides the token should an SDK ever put it in an error's text.
type redacted struct {
	err   error
	token string
}

func (r redacted) Error() string { return Redact(r.err.Error(), r.token) }
func (r redacted) Unwrap() error { return r.err }

// Redact removes the token from s.
func Redact(s, token string) string {
	if strings.TrimSpace(token) == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "[redacted]")
}
