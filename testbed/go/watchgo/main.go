// watchgo is a small Go service for culprit watch's tests: it allocates garbage on a
// timer so the GC runs, and serves net/http/pprof (and expvar unless -expvar=false) on
// 127.0.0.1. It exits by itself after -lifetime.
package main

import (
	"expvar"
	"flag"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

var sink [][]byte

func churn() {
	for range time.Tick(5 * time.Millisecond) {
		buf := make([]byte, 256<<10)
		sink = append(sink, buf)
		if len(sink) > 16 {
			sink = sink[:0]
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	withExpvar := flag.Bool("expvar", true, "serve /debug/vars")
	lifetime := flag.Duration("lifetime", 60*time.Second, "exit after this long")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || (host != "127.0.0.1" && host != "localhost") {
		log.Fatalf("refusing to listen on %q: loopback only", *addr)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	if *withExpvar {
		mux.Handle("/debug/vars", expvar.Handler())
	}
	go churn()
	go func() {
		time.Sleep(*lifetime)
		os.Exit(0)
	}()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.Serve(ln, mux))
}
