package gitsync

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/utils/ioutil"
)

// Why a push over HTTP does not use go-git's own request: go-git's
// transport/http (rpSession.ReceivePack, v5.19.3) encodes the whole request
// (the commands, then the pack) into a bytes.Buffer to send it with a
// Content-Length. A first commit's pack is tens of MB, so the buffer, grown
// by doubling, was up to twice that in memory at the first publish's peak
// and about a quarter of its CPU (growing and clearing it). Smart HTTP needs
// no length: git's own client sends large pushes with chunked transfer
// encoding, and git http-backend and Gitea read such a body to its end. So
// the pack goes out as it is encoded, and only the POST is ours: the
// discovery (GET info/refs, with its redirect rules) stays go-git's, and
// this follows the same protocol steps as its ReceivePack.

// httpPush is what a Repo keeps about its pushes over http(s).
type httpPush struct {
	client *http.Client
	// streamed is set once the server took a streamed POST; buffered once
	// it refused one before ever taking one (refusedStream): from then on
	// go-git's transport sends the POST, with its length.
	streamed, buffered bool
}

// refusedStream is the answer of a server, or a proxy before it, that reads
// no request body without a length (411 Length Required, or 400 as Go's
// net/http/cgi answers): the push is sent again, buffered. Its text is
// go-git's error for the status.
type refusedStream struct{ error }

func (e refusedStream) Unwrap() error { return e.error }

// streamsPush says whether pushPack sends the POST itself: over http(s),
// and only while the endpoint is the one that was asked for. A redirect of
// the discovery moves go-git's endpoint (and may drop the credentials, by
// its rules on which origins they may follow): then go-git sends the POST
// too, so those rules stay in one place.
func streamsPush(asked, ep *transport.Endpoint) bool {
	return (ep.Protocol == "http" || ep.Protocol == "https") &&
		ep.Protocol == asked.Protocol && ep.Host == asked.Host && ep.Port == asked.Port &&
		ep.Path == asked.Path && ep.User == asked.User && ep.Password == asked.Password
}

// receivePackHTTP sends req to the git-receive-pack service at ep with its
// pack streamed (chunked, no Content-Length) and reads the server's report,
// the progress band (a hook's words) going to req.Progress. A report of
// refused updates comes back as the report and its error, as go-git's
// ReceivePack returns it; an HTTP status is go-git's error for it
// (githttp.NewErr: 401, 403 and 404 are transport.ErrAuthenticationRequired,
// ErrAuthorizationFailed and ErrRepositoryNotFound).
func (r *Repo) receivePackHTTP(ctx context.Context, ep *transport.Endpoint, req *packp.ReferenceUpdateRequest) (*packp.ReportStatus, error) {
	auth, err := httpAuth(r.auth, ep)
	if err != nil {
		return nil, err
	}
	hc, err := r.pushClient()
	if err != nil {
		return nil, err
	}
	// The commands are a few hundred bytes, encoded first; the pack
	// follows them straight from its encoder.
	var cmds bytes.Buffer
	head := *req
	head.Packfile = nil
	if err := head.Encode(&cmds); err != nil {
		return nil, err
	}
	body := io.Reader(&cmds)
	if req.Packfile != nil {
		body = io.MultiReader(&cmds, req.Packfile)
	}
	// The URL carries no credentials (they go in a header, from auth), so
	// no error quoting it can leak them.
	u := *ep
	u.User, u.Password = "", ""
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String()+"/"+transport.ReceivePackServiceName, body)
	if err != nil {
		return nil, plumbing.NewPermanentError(err)
	}
	hreq.ContentLength = -1 // unknown: chunked
	hreq.Header.Set("User-Agent", capability.DefaultAgent())
	hreq.Header.Set("Accept", "application/x-git-receive-pack-result")
	hreq.Header.Set("Content-Type", "application/x-git-receive-pack-request")
	if auth != nil {
		auth.SetAuth(hreq)
	}
	res, err := hc.Do(hreq)
	if err != nil {
		return nil, plumbing.NewUnexpectedError(err)
	}
	defer func() {
		// What follows the report (little or nothing) is read so that the
		// connection serves the next push.
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
	}()
	if err := githttp.NewErr(res); err != nil {
		if !r.http.streamed && (res.StatusCode == http.StatusLengthRequired || res.StatusCode == http.StatusBadRequest) {
			return nil, refusedStream{err}
		}
		return nil, err
	}
	r.http.streamed = true
	// An empty answer is a server that sent no report: go-git counts it a
	// success.
	rd, err := ioutil.NonEmptyReader(res.Body)
	if errors.Is(err, ioutil.ErrEmptyReader) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the push's report: %w", err)
	}
	var d *sideband.Demuxer
	switch {
	case req.Capabilities.Supports(capability.Sideband64k):
		d = sideband.NewDemuxer(sideband.Sideband64k, rd)
	case req.Capabilities.Supports(capability.Sideband):
		d = sideband.NewDemuxer(sideband.Sideband, rd)
	}
	if d != nil {
		d.Progress = req.Progress
		rd = d
	}
	report := packp.NewReportStatus()
	if err := report.Decode(rd); err != nil {
		return nil, err
	}
	return report, report.Error()
}

// pushClient is the HTTP client of a Repo's pushes, made once: the one
// go-git's transport makes for its own requests to the same endpoint
// (net/http's default transport, so the same proxy from the environment and
// the connections of the discovery; with a CA bundle, a copy trusting the
// system's roots and the bundle), and, as go-git's for a request after the
// first, it follows no redirect. Callers hold r.mu.
func (r *Repo) pushClient() (*http.Client, error) {
	if r.http.client != nil {
		return r.http.client, nil
	}
	rt := http.DefaultTransport
	if len(r.caBundle) > 0 {
		base, ok := http.DefaultTransport.(*http.Transport)
		if !ok {
			return nil, fmt.Errorf("net/http's default transport is a %T, not an *http.Transport: cannot add the Git CA to it", http.DefaultTransport)
		}
		roots, err := x509.SystemCertPool()
		if err != nil {
			return nil, fmt.Errorf("the system's certificates: %w", err)
		}
		if roots == nil {
			roots = x509.NewCertPool()
		}
		roots.AppendCertsFromPEM(r.caBundle)
		t := base.Clone()
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{}
		}
		t.TLSClientConfig.RootCAs = roots
		rt = t
	}
	r.http.client = &http.Client{
		Transport: rt,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			return fmt.Errorf("http redirect: redirect on non-initial request to %s", redact(req.URL.Redacted()))
		},
	}
	return r.http.client, nil
}
