// recordgo burns CPU in two functions (about 2:1) while writing its own CPU profile, so a
// native profile taken at the same time can be compared with Go's.
// Usage: recordgo PROFILE_OUT SECONDS
package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"time"
)

var sink uint64

//go:noinline
func hashWork(rounds int) {
	buf := make([]byte, 4096)
	for i := 0; i < rounds; i++ {
		sum := sha256.Sum256(buf)
		buf[0] = sum[0]
		sink += uint64(sum[1])
	}
}

//go:noinline
func sortWork(n int) {
	xs := make([]int, n)
	for i := range xs {
		xs[i] = (i * 7919) % n
	}
	sort.Ints(xs)
	sink += uint64(xs[n/2])
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: recordgo PROFILE_OUT SECONDS")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	secs, _ := strconv.ParseFloat(os.Args[2], 64)
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	deadline := time.Now().Add(time.Duration(secs * float64(time.Second)))
	for time.Now().Before(deadline) {
		hashWork(400)
		sortWork(20000)
	}
	pprof.StopCPUProfile()
	f.Close()
	fmt.Println(sink)
}
