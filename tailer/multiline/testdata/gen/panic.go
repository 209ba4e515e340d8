// Command panic writes ordinary log lines and one Go runtime trace to stderr,
// the way a crashing container does. It is the generator of the go testdata
// and the program TestLiveGo runs. Usage: panic [panic|nilmap|repanic|joined|overflow|sigquit|httppanic|debugstack]
package main

import (
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"syscall"
	"time"
)

type server struct{ routes map[string]int }

func (s *server) handle(path string) int {
	return s.routes[path] + 1
}

func lookup(m map[string]int, k string) {
	m[k] = 1 // nil map write panics
}

func work(ch chan int) {
	for v := range ch {
		_ = v
	}
}

func depth(n int) int {
	return depth(n+1) + 1
}

func main() {
	mode := "panic"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	fmt.Fprintln(os.Stderr, "INFO starting mode="+mode)
	fmt.Fprintln(os.Stderr, "INFO listening on :8080")
	switch mode {
	case "panic":
		var s *server
		s.handle("/") // nil pointer dereference
	case "nilmap":
		var m map[string]int
		lookup(m, "x")
	case "repanic":
		defer func() {
			r := recover()
			panic(fmt.Sprintf("handler failed: %v", r))
		}()
		panic("boom")
	case "joined":
		panic(errors.Join(errors.New("dial tcp 10.0.0.1:5432: connection refused"), errors.New("retry budget exhausted")))
	case "sigquit":
		ch := make(chan int)
		go work(ch)
		time.Sleep(50 * time.Millisecond)
		syscall.Kill(os.Getpid(), syscall.SIGQUIT)
		time.Sleep(5 * time.Second)
	case "overflow":
		debug.SetMaxStack(1 << 16)
		fmt.Fprintln(os.Stderr, depth(0))
	case "httppanic":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var s *server
			s.handle(r.URL.Path)
		})}
		go srv.Serve(ln)
		if resp, err := http.Get("http://" + ln.Addr().String() + "/items"); err == nil {
			resp.Body.Close()
		}
		fmt.Fprintln(os.Stderr, "INFO next request")
		return
	case "debugstack":
		fmt.Fprintf(os.Stderr, "2024/05/01 12:00:00 recovered: boom\n%s", debug.Stack())
		fmt.Fprintln(os.Stderr, "INFO next request")
		return
	}
	fmt.Fprintln(os.Stderr, "INFO not reached")
}
