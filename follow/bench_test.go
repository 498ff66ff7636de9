package follow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"
)

// movesPerOp base moves are timed per benchmark op, for percentiles.
const movesPerOp = 10

// BenchmarkBaseMoveToSideBranch measures how long a commit pushed to main
// takes to be on the side branch: with a 1 s poll, and with a signed push
// event (the poll set to an hour). Reported: p50 and p99 over every move.
func BenchmarkBaseMoveToSideBranch(b *testing.B) {
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil))) // keep the figures readable
	b.Cleanup(func() { slog.SetDefault(old) })
	for _, mode := range []string{"poll-1s", "webhook"} {
		b.Run(mode, func(b *testing.B) {
			f, repoDir := fixture(b)
			notify := func() {}
			if mode == "poll-1s" {
				f.Interval = time.Second
			} else {
				secret := []byte("bench")
				srv := httptest.NewServer(&Hook{Secret: secret, Branch: "main", Poke: f.Poke})
				b.Cleanup(srv.Close)
				notify = func() {
					body := `{"ref":"refs/heads/main"}`
					m := hmac.New(sha256.New, secret)
					m.Write([]byte(body))
					req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
					req.Header.Set("X-GitHub-Event", "push")
					req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
					resp, err := http.DefaultClient.Do(req)
					if err != nil || resp.StatusCode != http.StatusAccepted {
						b.Fatalf("push event: %v %v", err, resp)
					}
					resp.Body.Close()
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); f.Run(ctx) }()
			b.Cleanup(func() { cancel(); <-done })
			var lat []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := 0; j < movesPerOp; j++ {
					b.StopTimer()
					tip := commit(b, repoDir, fmt.Sprintf("apps/%d-%d.yaml", i, j), "# merged\n")
					b.StartTimer()
					start := time.Now()
					notify()
					waitBase(b, repoDir, tip)
					lat = append(lat, time.Since(start))
				}
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
			b.ReportMetric(float64(lat[(len(lat)*99)/100].Milliseconds()), "p99-ms")
		})
	}
}

// waitBase polls the bare repository until the side branch records tip.
func waitBase(b *testing.B, repoDir, tip string) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		out, _ := exec.Command("git", "-C", repoDir, "log", "-1", "--format=%B", "driftback/c1").Output()
		if strings.Contains(string(out), "Driftback-Base: "+tip) {
			return
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronization
	}
	b.Fatalf("side branch never followed main to %s", tip)
}
