// Command lockqueue is a testbed service whose requests queue on one sync.Mutex held
// around slow work (a downstream call and hashing), like the goroutines piling up on
// syscall.ForkLock in the Gitaly field report. With -fixed the slow work runs outside the
// lock, which then guards only the shared map update.
package main

import (
	"crypto/sha256"
	_ "expvar"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"sync"
	"time"
)

var (
	addr  = flag.String("addr", "127.0.0.1:0", "listen address")
	fixed = flag.Bool("fixed", false, "do the slow work outside the lock")
	work  = flag.Duration("work", 3*time.Millisecond, "downstream call time per request")
)

type ledger struct {
	mu     sync.Mutex
	totals map[string][32]byte
}

// slowWork stands for a downstream call followed by hashing its answer.
func slowWork(key string) [32]byte {
	time.Sleep(*work)
	buf := make([]byte, 4<<10)
	copy(buf, key)
	return sha256.Sum256(buf)
}

func (l *ledger) record(key string) [32]byte {
	if *fixed {
		sum := slowWork(key)
		l.mu.Lock()
		l.totals[key] = sum
		l.mu.Unlock()
		return sum
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	sum := slowWork(key)
	l.totals[key] = sum
	return sum
}

func main() {
	flag.Parse()
	runtime.SetMutexProfileFraction(5)
	runtime.SetBlockProfileRate(100000)
	l := &ledger{totals: map[string][32]byte{}}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		sum := l.record(r.URL.Path)
		fmt.Fprintf(w, "%x\n", sum[:8])
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, nil))
}
