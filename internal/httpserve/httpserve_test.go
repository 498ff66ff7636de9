package httpserve

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestStartServesAndStops(t *testing.T) {
	stop, addr, err := Start("127.0.0.1:0", "--x-addr", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "hello")
	}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "hello" {
		t.Fatalf("body %q", b)
	}
	stop()
	if _, err := http.Get("http://" + addr + "/"); err == nil {
		t.Fatal("still serving after stop")
	}
}

// A taken port fails at once, naming the flag it came from.
func TestStartTakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, _, err = Start(ln.Addr().String(), "--metrics-addr", http.NotFoundHandler())
	if err == nil || !strings.Contains(err.Error(), "--metrics-addr") {
		t.Fatalf("err = %v, want one naming --metrics-addr", err)
	}
}
