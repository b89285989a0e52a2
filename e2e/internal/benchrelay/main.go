// Command benchrelay is the floor make bench measures hubgw's fan-outs
// against: the least a gateway built on net/http can do for a broadcast.
// It logs in to each peripheral once, and for every POST sends
// system.listSystems to all of them at once, reads each answer whole
// (sized by Content-Length), and writes them to the client in order in a
// multicast-shaped answer: the same bytes moved through the same kernel
// and HTTP stack as hubgw, with no validation, sessions, per-server
// stack, jobs, metrics or logs. What hubgw spends past this process's CPU
// per GB is its own work (e2e BenchmarkMulticast, build=relay).
//
// With --unicast (one peripheral) it passes that peripheral's whole
// answer on as it came, the least a gateway can do for a unicast (e2e
// BenchmarkUnicast, build=relay).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	peripherals := flag.String("peripherals", "", "comma-separated XML-RPC URLs")
	unicast := flag.Bool("unicast", false, "pass the one peripheral's answer on as it came")
	flag.Parse()
	urls := strings.Split(*peripherals, ",")
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxIdleConns: 4 * len(urls)}}
	calls := make([][]byte, len(urls))
	for i, u := range urls {
		key, err := login(hc, u)
		if err != nil {
			log.Fatalf("login to %s: %v", u, err)
		}
		if calls[i], err = xmlrpc.AppendCall(nil, "system.listSystems", key); err != nil {
			log.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(l.Addr().String()) // the benchmark reads where to send
	if *unicast && len(urls) != 1 {
		log.Fatalf("--unicast relays to one peripheral, not %d", len(urls))
	}
	r := &relay{hc: hc, urls: urls, calls: calls, unicast: *unicast}
	log.Fatal(http.Serve(l, r))
}

func login(hc *http.Client, u string) (string, error) {
	body, err := xmlrpc.AppendCall(nil, "auth.login", "admin", "admin")
	if err != nil {
		return "", err
	}
	resp, err := hc.Post(u, "text/xml", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	v, err := xmlrpc.DecodeResponse(b, xmlrpc.Limits{})
	if err != nil {
		return "", err
	}
	key, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("login answered %T", v)
	}
	return key, nil
}

type relay struct {
	hc      *http.Client
	urls    []string
	calls   [][]byte
	unicast bool
}

const (
	head = `<?xml version="1.0"?><methodResponse><params><param><value><struct><member><name>Successful</name><value><struct><member><name>Responses</name><value><array><data>`
	tail = `</data></array></value></member></struct></value></member><member><name>Complete</name><value><boolean>1</boolean></value></member></struct></value></param></params></methodResponse>`
)

func (r *relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	_, _ = io.Copy(io.Discard, req.Body)
	if r.unicast {
		b, err := r.call(req, r.urls[0], r.calls[0])
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
		return
	}
	answers := make([][]byte, len(r.urls))
	errs := make([]error, len(r.urls))
	var wg sync.WaitGroup
	for i, u := range r.urls {
		wg.Go(func() { answers[i], errs[i] = r.value(req, u, r.calls[i]) })
	}
	wg.Wait()
	n := len(head) + len(tail)
	for i, a := range answers {
		if errs[i] != nil {
			http.Error(w, errs[i].Error(), http.StatusBadGateway)
			return
		}
		n += len(a)
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(n))
	_, _ = io.WriteString(w, head)
	for _, a := range answers {
		if _, err := w.Write(a); err != nil {
			return
		}
	}
	_, _ = io.WriteString(w, tail)
}

// value returns the <value> of one peripheral's answer, found by
// position, not validated.
func (r *relay) value(req *http.Request, u string, body []byte) ([]byte, error) {
	b, err := r.call(req, u, body)
	if err != nil {
		return nil, err
	}
	start, end := bytes.Index(b, []byte("<param>")), bytes.LastIndex(b, []byte("</param>"))
	if start < 0 || end < start {
		return nil, fmt.Errorf("%s: no param in %d bytes", u, len(b))
	}
	return b[start+len("<param>") : end], nil
}

// call returns one peripheral's whole answer.
func (r *relay) call(req *http.Request, u string, body []byte) ([]byte, error) {
	out, err := http.NewRequestWithContext(req.Context(), http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out.Header.Set("Content-Type", "text/xml")
	resp, err := r.hc.Do(out)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %s", u, resp.Status)
	}
	var b []byte
	if resp.ContentLength >= 0 {
		b = make([]byte, resp.ContentLength)
		_, err = io.ReadFull(resp.Body, b)
	} else {
		b, err = io.ReadAll(resp.Body)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	return b, nil
}
