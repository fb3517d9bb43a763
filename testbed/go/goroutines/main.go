// Command goroutines is culprit's live fixture for `culprit goroutines`: it parks known
// numbers of goroutines on one sync.Mutex, on one channel and in blocking read(2) calls,
// serves net/http/pprof on 127.0.0.1, prints "ready <url>" once everything is parked and
// exits by itself after -lifetime.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	addr     = flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	mutexN   = flag.Int("mutex", 30, "goroutines blocked on one sync.Mutex")
	chanN    = flag.Int("chan", 20, "goroutines blocked receiving from one channel")
	readN    = flag.Int("read", 4, "goroutines blocked in read(2) on a pipe")
	lifetime = flag.Duration("lifetime", 2*time.Minute, "exit after this long")
)

var (
	bigLock sync.Mutex
	jobs    = make(chan int)
)

// holdLock takes the mutex and never gives it back.
func holdLock(held chan<- struct{}) {
	bigLock.Lock()
	close(held)
	select {}
}

// lockWaiter queues on the mutex held by holdLock.
func lockWaiter() {
	bigLock.Lock()
	bigLock.Unlock()
}

// jobWaiter waits for work that never comes.
func jobWaiter() {
	for j := range jobs {
		_ = j
	}
}

// pipeReader blocks in a raw read(2) on a blocking pipe: goroutine state "syscall".
func pipeReader(fd int) {
	buf := make([]byte, 1)
	syscall.Read(fd, buf)
}

// allStacks is the text of every goroutine's stack, as a goroutine?debug=2 capture shows it.
func allStacks() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// parked counts the goroutines of dump in state whose stack passes through fn.
func parked(dump, fn, state string) int {
	n := 0
	for _, g := range strings.Split(dump, "\n\n") {
		if strings.Contains(g, " ["+state+"]:") || strings.Contains(g, " ["+state+", ") {
			if strings.Contains(g, "\n"+fn+"(") {
				n++
			}
		}
	}
	return n
}

func main() {
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go http.Serve(ln, nil)

	held := make(chan struct{})
	go holdLock(held)
	<-held
	for i := 0; i < *mutexN; i++ {
		go lockWaiter()
	}
	for i := 0; i < *chanN; i++ {
		go jobWaiter()
	}
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i := 0; i < *readN; i++ {
		go pipeReader(fds[0])
	}
	// Say ready only once every goroutine sits at its blocking point, as the stacks show
	// it: counting goroutines (they exist at once) or sleeping a while let a loaded
	// machine's capture catch some still runnable. Bounded, so a Go whose states read
	// differently still starts and the test shows what it found.
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		dump := allStacks()
		if parked(dump, "main.lockWaiter", "semacquire") >= *mutexN &&
			parked(dump, "main.jobWaiter", "chan receive") >= *chanN &&
			parked(dump, "main.pipeReader", "syscall") >= *readN {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("ready http://%s\n", ln.Addr())
	time.Sleep(*lifetime)
}
