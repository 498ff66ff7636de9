package pullrequest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

const (
	testToken  = "ghp_s3cr3tT0kenValue000000000000000000"
	testMarker = "<!-- driftback:pull-request cluster=prod-eu1 -->"
)

func testSpec() Spec {
	return Spec{
		Head: "driftback/prod-eu1", Base: "main", Title: "driftback: runtime state of prod-eu1",
		Body: "new body\n" + testMarker, Marker: testMarker,
		Labels: []string{"driftback"}, Reviewers: []string{"alice", "acme/platform"}, Assignees: []string{"bob"}, Draft: true,
	}
}

// ghPR is a pull request as GitHub's REST API returns it (the fields used).
func ghPR(number int, head, body string, labels ...string) string {
	ls := make([]string, len(labels))
	for i, l := range labels {
		ls[i] = fmt.Sprintf(`{"name":%q}`, l)
	}
	return fmt.Sprintf(`{"number":%d,"html_url":"https://github.com/acme/fleet/pull/%d","title":"driftback: runtime state of prod-eu1","body":%q,"node_id":"PR_kw%d","head":{"ref":%q},"base":{"ref":"main"},"labels":[%s]}`,
		number, number, body, number, head, strings.Join(ls, ","))
}

func newTestGitHub(t *testing.T, calls ...call) Provider {
	h := newHost(t, "Authorization", "Bearer "+testToken, calls...)
	p, err := New(Options{Provider: "github", APIURL: h.srv.URL + "/", Repository: "acme/fleet", Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// listQuery is GitHub's "List pull requests" filtered to driftback's branch:
// GET /repos/{owner}/{repo}/pulls?state=open&head=owner:branch&base=...
func listQuery(page string) map[string]string {
	q := map[string]string{"state": "open", "head": "acme:driftback/prod-eu1", "base": "main", "per_page": "100"}
	if page != "" {
		q["page"] = page
	}
	return q
}

func TestGitHubContract(t *testing.T) {
	ctx := context.Background()
	s := testSpec()
	t.Run("finds its pull request on the second page and updates it", func(t *testing.T) {
		p := newTestGitHub(t,
			call{method: "GET", path: "/repos/acme/fleet/pulls", query: listQuery(""),
				header: map[string]string{"Link": `<{{URL}}/repos/acme/fleet/pulls?state=open&head=acme%3Adriftback%2Fprod-eu1&base=main&per_page=100&page=2>; rel="next", <{{URL}}/repos/acme/fleet/pulls?page=2>; rel="last"`},
				reply:  "[" + ghPR(3, "driftback/prod-eu1", "a person's pull request from the same branch") + "]"},
			call{method: "GET", path: "/repos/acme/fleet/pulls", query: listQuery("2"),
				reply: "[" + ghPR(7, "driftback/prod-eu1", "old body\n"+testMarker) + "]"},
			// Update a pull request: PATCH /repos/{owner}/{repo}/pulls/{pull_number}
			call{method: "PATCH", path: "/repos/acme/fleet/pulls/7", body: fmt.Sprintf(`{"title":%q,"body":%q}`, s.Title, s.Body),
				reply: ghPR(7, "driftback/prod-eu1", s.Body)},
			// Add labels to an issue: POST /repos/{owner}/{repo}/issues/{issue_number}/labels
			call{method: "POST", path: "/repos/acme/fleet/issues/7/labels", body: `["driftback"]`, reply: `[{"name":"driftback"}]`},
		)
		out, pr, err := Sync(ctx, p, s)
		if err != nil || out != Updated || pr.Number != 7 {
			t.Fatalf("Sync = %v, %+v, %v; want updated #7", out, pr, err)
		}
	})
	t.Run("opens one with labels, assignees and reviewers", func(t *testing.T) {
		p := newTestGitHub(t,
			call{method: "GET", path: "/repos/acme/fleet/pulls", query: listQuery(""), reply: "[]"},
			// Create a pull request: POST /repos/{owner}/{repo}/pulls
			call{method: "POST", path: "/repos/acme/fleet/pulls", status: 201,
				body:  fmt.Sprintf(`{"title":%q,"head":"driftback/prod-eu1","base":"main","body":%q,"draft":true}`, s.Title, s.Body),
				reply: ghPR(8, "driftback/prod-eu1", s.Body)},
			call{method: "POST", path: "/repos/acme/fleet/issues/8/labels", body: `["driftback"]`, reply: `[{"name":"driftback"}]`},
			// Add assignees to an issue: POST /repos/{owner}/{repo}/issues/{issue_number}/assignees
			call{method: "POST", path: "/repos/acme/fleet/issues/8/assignees", status: 201, body: `{"assignees":["bob"]}`, reply: `{"number":8}`},
			// Request reviewers: POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers
			call{method: "POST", path: "/repos/acme/fleet/pulls/8/requested_reviewers", status: 201, body: `{"reviewers":["alice"],"team_reviewers":["platform"]}`, reply: ghPR(8, "driftback/prod-eu1", s.Body)},
		)
		out, pr, err := Sync(ctx, p, s)
		if err != nil || out != Opened || pr.Number != 8 {
			t.Fatalf("Sync = %v, %+v, %v; want opened #8", out, pr, err)
		}
	})
	t.Run("leaves an up-to-date pull request alone", func(t *testing.T) {
		p := newTestGitHub(t,
			call{method: "GET", path: "/repos/acme/fleet/pulls", query: listQuery(""), reply: "[" + ghPR(7, "driftback/prod-eu1", strings.ReplaceAll(s.Body, "\n", "\r\n"), "driftback", "reviewed") + "]"},
		)
		if out, _, err := Sync(ctx, p, s); err != nil || out != Unchanged {
			t.Fatalf("Sync = %v, %v; want unchanged", out, err)
		}
	})
	t.Run("auto-merge through GraphQL", func(t *testing.T) {
		s := s
		s.AutoMerge, s.Labels, s.Reviewers, s.Assignees = true, nil, nil, nil
		p := newTestGitHub(t,
			call{method: "GET", path: "/repos/acme/fleet/pulls", query: listQuery(""), reply: "[]"},
			call{method: "POST", path: "/repos/acme/fleet/pulls", status: 201, reply: ghPR(9, "driftback/prod-eu1", s.Body)},
			call{method: "GET", path: "/repos/acme/fleet/pulls/9", reply: ghPR(9, "driftback/prod-eu1", s.Body)},
			call{method: "POST", path: "/graphql",
				body:  `{"query":"mutation($id: ID!) { enablePullRequestAutoMerge(input: {pullRequestId: $id}) { clientMutationId } }","variables":{"id":"PR_kw9"}}`,
				reply: `{"data":{"enablePullRequestAutoMerge":{"clientMutationId":null}}}`},
		)
		if out, _, err := Sync(ctx, p, s); err != nil || out != Opened {
			t.Fatalf("Sync = %v, %v; want opened", out, err)
		}
	})
	reset := time.Now().Add(90 * time.Second).Unix()
	errCases := []struct {
		name       string
		answer     call
		reason     string
		retryAfter time.Duration
	}{
		{"primary rate limit: 403 with the limit spent", call{status: 403, header: map[string]string{
			"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": fmt.Sprint(reset), "X-RateLimit-Resource": "core"},
			reply: `{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`},
			ReasonRateLimited, 80 * time.Second},
		{"secondary rate limit: 403 with Retry-After", call{status: 403, header: map[string]string{"Retry-After": "30"},
			reply: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`},
			ReasonRateLimited, 30 * time.Second},
		{"bad token", call{status: 401, reply: `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`}, ReasonUnauthorized, 0},
		{"missing permission", call{status: 403, reply: `{"message":"Resource not accessible by personal access token"}`}, ReasonForbidden, 0},
		{"outage", call{status: 503, reply: `{"message":"Service unavailable"}`}, ReasonUnavailable, 0},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.answer
			a.method, a.path, a.query = "GET", "/repos/acme/fleet/pulls", listQuery("")
			p := newTestGitHub(t, a)
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
