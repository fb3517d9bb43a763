// Command compressor is a testbed service after the Flipt field report: every response is
// gzipped through a compressor allocated for that response (flate.NewWriter runs inside
// gzip.(*Writer).Write), so allocation rate and GC time are dominated by one constructor.
// With -fixed the gzip writers come from a sync.Pool and are Reset per response.
package main

import (
	"compress/gzip"
	_ "expvar"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"strings"
	"sync"
)

var (
	addr  = flag.String("addr", "127.0.0.1:0", "listen address")
	fixed = flag.Bool("fixed", false, "pool and reuse gzip writers")
)

var pool = sync.Pool{New: func() interface{} { return gzip.NewWriter(nil) }}

// payload is a JSON document of flag evaluations, about 8 kB.
func payload() []byte {
	var b strings.Builder
	b.WriteString(`{"evaluations":[`)
	for i := 0; i < 80; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"flag":"feature-%03d","segment":"beta-users","match":%t,"value":"variant-%d"}`, i, i%3 == 0, i%7)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

func main() {
	flag.Parse()
	body := payload()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		var gz *gzip.Writer
		if *fixed {
			gz = pool.Get().(*gzip.Writer)
			gz.Reset(w)
			defer pool.Put(gz)
		} else {
			gz = gzip.NewWriter(w)
		}
		gz.Write(body)
		gz.Close()
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, nil))
}
