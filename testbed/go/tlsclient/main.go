// Command tlsclient is a testbed service after the Concourse/CredHub field report: every
// request builds a fresh HTTP client from a parsed CA bundle and calls an upstream TLS
// server, and decodes the response without draining the body, so each request pays for
// certificate parsing and a full TLS handshake. With -fixed the client is built once and
// bodies are drained, so connections are reused.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	_ "expvar"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"strings"
	"time"
)

var (
	addr    = flag.String("addr", "127.0.0.1:0", "listen address")
	fixed   = flag.Bool("fixed", false, "reuse one client and drain response bodies")
	bundleN = flag.Int("bundle", 120, "extra certificates in the CA bundle")
)

type quote struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
}

// selfSigned makes a P-256 certificate; a CA when isCA is set.
func selfSigned(cn string, isCA bool, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"culprit testbed"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  isCA,
	}
	if !isCA {
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		log.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		log.Fatal(err)
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// startUpstream serves quotes over TLS on loopback and returns its URL and the CA bundle
// (its CA plus unrelated CAs, like a system bundle) that verifies it.
func startUpstream() (string, []byte) {
	ca, caKey, caPEM := selfSigned("testbed root", true, nil, nil)
	leaf, leafKey, leafPEM := selfSigned("127.0.0.1", false, ca, caKey)
	_ = leaf
	keyDER, err := x509.MarshalECPrivateKey(leafKey)
	if err != nil {
		log.Fatal(err)
	}
	pair, err := tls.X509KeyPair(leafPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		log.Fatal(err)
	}
	var bundle strings.Builder
	for i := 0; i < *bundleN; i++ {
		_, _, p := selfSigned(fmt.Sprintf("unrelated root %d", i), true, nil, nil)
		bundle.Write(p)
	}
	bundle.Write(caPEM)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/quote", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(quote{Symbol: "CLPT", Price: 42.5})
		// Trailing bytes a JSON decoder never reads: the body is not at EOF after Decode.
		io.WriteString(w, strings.Repeat(" ", 512)+"\n")
	})
	srv := &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}}}
	go srv.ServeTLS(ln, "", "")
	return "https://" + ln.Addr().String() + "/quote", []byte(bundle.String())
}

// newUpstreamClient builds a client trusting the bundle: parsing every certificate in it.
func newUpstreamClient(bundle []byte) *http.Client {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(bundle) {
		log.Fatal("bad CA bundle")
	}
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool},
			MaxIdleConnsPerHost: 64,
		},
	}
}

func main() {
	flag.Parse()
	upstream, bundle := startUpstream()
	shared := newUpstreamClient(bundle)
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		client := shared
		if !*fixed {
			client = newUpstreamClient(bundle)
		}
		resp, err := client.Get(upstream)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		var q quote
		err = json.NewDecoder(resp.Body).Decode(&q)
		if *fixed {
			io.Copy(io.Discard, resp.Body)
		}
		resp.Body.Close()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, "%s %.2f\n", q.Symbol, q.Price)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, nil))
}
