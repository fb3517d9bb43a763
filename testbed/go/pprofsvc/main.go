// pprofsvc is a small HTTP service with net/http/pprof and handlers that burn CPU,
// allocate, contend on a mutex and park goroutines, so tests can capture real profiles of
// every kind under load.
//
// Usage: pprofsvc [-addr 127.0.0.1:PORT]; prints "listening on http://ADDR" once it
// accepts connections (port 0, the default, picks a free one).
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	mu      sync.Mutex
	counter int
	parked  = make(chan struct{})
	retain  [][]byte
	retMu   sync.Mutex
)

// hashChain burns CPU in a deep-ish call chain.
func hashChain(seed []byte, rounds int) [32]byte {
	sum := sha256.Sum256(seed)
	for i := 0; i < rounds; i++ {
		sum = sha256.Sum256(sum[:])
	}
	return sum
}

func sortWork(n int) int {
	xs := make([]int, n)
	for i := range xs {
		xs[i] = (i * 7919) % n
	}
	sort.Ints(xs)
	return xs[n/2]
}

func cpuHandler(w http.ResponseWriter, r *http.Request) {
	rounds, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if rounds <= 0 {
		rounds = 20000
	}
	sum := hashChain([]byte(r.URL.Path), rounds)
	m := sortWork(20000)
	fmt.Fprintf(w, "%x %d\n", sum[:4], m)
}

// buildStrings allocates many small strings and keeps a few alive.
func buildStrings(n int) string {
	var parts []string
	for i := 0; i < n; i++ {
		parts = append(parts, strconv.Itoa(i)+"-"+strings.Repeat("x", i%32))
	}
	return strings.Join(parts, ",")
}

func allocHandler(w http.ResponseWriter, r *http.Request) {
	s := buildStrings(5000)
	buf := make([]byte, 64<<10)
	retMu.Lock()
	if len(retain) < 64 {
		retain = append(retain, buf)
	}
	retMu.Unlock()
	fmt.Fprintf(w, "%d\n", len(s))
}

func lockHandler(w http.ResponseWriter, r *http.Request) {
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				mu.Lock()
				counter++
				time.Sleep(10 * time.Microsecond)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Fprintf(w, "%d\n", counter)
}

func parkHandler(w http.ResponseWriter, r *http.Request) {
	for i := 0; i < 20; i++ {
		go func() { <-parked }()
	}
	fmt.Fprintln(w, "parked")
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	runtime.SetMutexProfileFraction(1)
	runtime.SetBlockProfileRate(1000)
	runtime.MemProfileRate = 4096
	http.HandleFunc("/cpu", cpuHandler)
	http.HandleFunc("/alloc", allocHandler)
	http.HandleFunc("/lock", lockHandler)
	http.HandleFunc("/park", parkHandler)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, nil))
}
