package pullrequest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// call is one request a host's documented API expects, and its answer.
type call struct {
	method, path string
	// query, when set, must equal the request's query parameters.
	query map[string]string
	// body, when set, is the JSON payload the request must carry.
	body string
	// status, header and reply are the answer (200 when status is 0).
	status int
	header map[string]string
	reply  string
}

// host is an httptest server that answers the calls in order and fails the
// test on any request that differs from the next expected one: method,
// escaped path, query, JSON payload and the token header.
type host struct {
	t          *testing.T
	srv        *httptest.Server
	authHeader string
	authValue  string
	mu         sync.Mutex
	calls      []call
}

func newHost(t *testing.T, authHeader, authValue string, calls ...call) *host {
	h := &host{t: t, authHeader: authHeader, authValue: authValue, calls: calls}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	t.Cleanup(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.calls) > 0 {
			t.Errorf("%d expected request(s) not made, next: %s %s", len(h.calls), h.calls[0].method, h.calls[0].path)
		}
	})
	return h
}

func (h *host) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.t
	if len(h.calls) == 0 {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.Error(w, "unexpected", http.StatusTeapot)
		return
	}
	c := h.calls[0]
	h.calls = h.calls[1:]
	if r.Method != c.method || r.URL.EscapedPath() != c.path {
		t.Errorf("request %s %s, want %s %s", r.Method, r.URL.EscapedPath(), c.method, c.path)
	}
	if got := r.Header.Get(h.authHeader); got != h.authValue {
		t.Errorf("%s %s: header %s = %q, want %q", r.Method, r.URL.Path, h.authHeader, got, h.authValue)
	}
	if c.query != nil {
		got := map[string]string{}
		for k, v := range r.URL.Query() {
			got[k] = strings.Join(v, ",")
		}
		if !reflect.DeepEqual(got, c.query) {
			t.Errorf("%s %s: query %v, want %v", r.Method, r.URL.Path, got, c.query)
		}
	}
	if c.body != "" {
		b, _ := io.ReadAll(r.Body)
		var got, want any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("%s %s: payload is not JSON: %v: %s", r.Method, r.URL.Path, err, b)
		}
		if err := json.Unmarshal([]byte(c.body), &want); err != nil {
			t.Fatalf("bad expectation: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s %s: payload\n%s\nwant\n%s", r.Method, r.URL.Path, b, c.body)
		}
	}
	for k, v := range c.header {
		w.Header().Set(k, strings.ReplaceAll(v, "{{URL}}", h.srv.URL))
	}
	w.Header().Set("Content-Type", "application/json")
	if c.status == 0 {
		c.status = http.StatusOK
	}
	w.WriteHeader(c.status)
	_, _ = io.WriteString(w, c.reply)
}
