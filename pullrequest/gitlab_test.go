package pullrequest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

const glProject = "/api/v4/projects/acme%2Fplatform%2Ffleet"

// glMR is a merge request as GitLab's REST API returns it (the fields used).
func glMR(iid int, title, body string, labels ...string) string {
	ls := make([]string, len(labels))
	for i, l := range labels {
		ls[i] = fmt.Sprintf("%q", l)
	}
	return fmt.Sprintf(`{"id":%d,"iid":%d,"web_url":"https://gitlab.example.com/acme/platform/fleet/-/merge_requests/%d","title":%q,"description":%q,"source_branch":"driftback/prod-eu1","target_branch":"main","draft":%t,"labels":[%s]}`,
		1000+iid, iid, iid, title, body, strings.HasPrefix(title, "Draft: "), strings.Join(ls, ","))
}

func newTestGitLab(t *testing.T, calls ...call) Provider {
	h := newHost(t, "PRIVATE-TOKEN", testToken, calls...)
	p, err := New(Options{Provider: "gitlab", APIURL: h.srv.URL + "/api/v4", Repository: "acme/platform/fleet", Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mrQuery is "List project merge requests" filtered to driftback's branch:
// GET /projects/:id/merge_requests?state=opened&source_branch=&target_branch=
func mrQuery(page string) map[string]string {
	return map[string]string{"state": "opened", "source_branch": "driftback/prod-eu1", "target_branch": "main", "per_page": "100", "page": page}
}

func TestGitLabContract(t *testing.T) {
	ctx := context.Background()
	s := testSpec()
	s.Reviewers = []string{"alice"}
	t.Run("finds its merge request on the second page and updates it", func(t *testing.T) {
		p := newTestGitLab(t,
			call{method: "GET", path: glProject + "/merge_requests", query: mrQuery("1"),
				header: map[string]string{"X-Next-Page": "2", "X-Page": "1", "X-Total-Pages": "2", "X-Per-Page": "100"},
				reply:  "[" + glMR(3, "a person's", "no marker") + "]"},
			call{method: "GET", path: glProject + "/merge_requests", query: mrQuery("2"),
				header: map[string]string{"X-Page": "2", "X-Total-Pages": "2", "X-Per-Page": "100"},
				reply:  "[" + glMR(7, "Draft: "+s.Title, "old body\n"+testMarker) + "]"},
			// Update MR: PUT /projects/:id/merge_requests/:merge_request_iid;
			// still a draft, so the prefix stays; labels are only added.
			call{method: "PUT", path: glProject + "/merge_requests/7",
				body:  fmt.Sprintf(`{"title":%q,"description":%q,"add_labels":"driftback"}`, "Draft: "+s.Title, s.Body),
				reply: glMR(7, "Draft: "+s.Title, s.Body, "driftback")},
		)
		out, pr, err := Sync(ctx, p, s)
		if err != nil || out != Updated || pr.Number != 7 || !pr.Draft || pr.Title != s.Title {
			t.Fatalf("Sync = %v, %+v, %v; want updated draft !7", out, pr, err)
		}
	})
	t.Run("opens a draft with labels, reviewer and assignee IDs", func(t *testing.T) {
		p := newTestGitLab(t,
			call{method: "GET", path: glProject + "/merge_requests", query: mrQuery("1"), reply: "[]"},
			// GitLab takes user IDs: GET /users?username=
			call{method: "GET", path: "/api/v4/users", query: map[string]string{"username": "alice"}, reply: `[{"id":11,"username":"alice"}]`},
			call{method: "GET", path: "/api/v4/users", query: map[string]string{"username": "bob"}, reply: `[{"id":12,"username":"bob"}]`},
			// Create MR: POST /projects/:id/merge_requests
			call{method: "POST", path: glProject + "/merge_requests", status: 201,
				body: fmt.Sprintf(`{"title":%q,"description":%q,"source_branch":"driftback/prod-eu1","target_branch":"main","labels":"driftback","assignee_ids":[12],"reviewer_ids":[11]}`,
					"Draft: "+s.Title, s.Body),
				reply: glMR(8, "Draft: "+s.Title, s.Body, "driftback")},
		)
		out, pr, err := Sync(ctx, p, s)
		if err != nil || out != Opened || pr.Number != 8 {
			t.Fatalf("Sync = %v, %+v, %v; want opened !8", out, pr, err)
		}
	})
	t.Run("auto-merge when the pipeline succeeds", func(t *testing.T) {
		s := s
		s.AutoMerge, s.Draft, s.Labels, s.Reviewers, s.Assignees = true, false, nil, nil, nil
		p := newTestGitLab(t,
			call{method: "GET", path: glProject + "/merge_requests", query: mrQuery("1"), reply: "[]"},
			call{method: "POST", path: glProject + "/merge_requests", status: 201, reply: glMR(9, s.Title, s.Body)},
			// Merge a merge request: PUT /projects/:id/merge_requests/:iid/merge
			call{method: "PUT", path: glProject + "/merge_requests/9/merge", body: `{"auto_merge":true}`, reply: glMR(9, s.Title, s.Body)},
		)
		if out, _, err := Sync(ctx, p, s); err != nil || out != Opened {
			t.Fatalf("Sync = %v, %v; want opened", out, err)
		}
	})
	errCases := []struct {
		name       string
		answer     call
		reason     string
		retryAfter time.Duration
	}{
		{"rate limit: 429 with Retry-After", call{status: 429, header: map[string]string{"Retry-After": "60", "RateLimit-Limit": "600", "RateLimit-Remaining": "0", "RateLimit-Reset": fmt.Sprint(time.Now().Add(time.Minute).Unix())},
			reply: `{"message":"Retry later"}`}, ReasonRateLimited, 60 * time.Second},
		{"rate limit: 403 with the limit spent", call{status: 403, header: map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": fmt.Sprint(time.Now().Add(2 * time.Minute).Unix())},
			reply: `{"message":"403 Forbidden"}`}, ReasonRateLimited, 110 * time.Second},
		{"expired token", call{status: 401, reply: `{"message":"401 Unauthorized"}`}, ReasonUnauthorized, 0},
		{"missing permission", call{status: 403, reply: `{"message":"403 Forbidden"}`}, ReasonForbidden, 0},
		{"no such project", call{status: 404, reply: `{"message":"404 Project Not Found"}`}, ReasonNotFound, 0},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.answer
			a.method, a.path, a.query = "GET", glProject+"/merge_requests", mrQuery("1")
			p := newTestGitLab(t, a)
			_, _, err := Sync(ctx, p, s)
			var e *Error
			if !errors.As(err, &e) || e.Reason != tc.reason {
				t.Fatalf("err = %v, want reason %s", err, tc.reason)
			}
			if tc.retryAfter > 0 && (e.RetryAfter < tc.retryAfter || e.RetryAfter > tc.retryAfter+15*time.Second) {
				t.Errorf("RetryAfter = %s, want about %s", e.RetryAfter, tc.retryAfter)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("the token is in the error: %v", err)
			}
		})
	}
}
