package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the tests if any goroutine is still running once they are done:
// every client's goroutines, its writer too, must end when it leaves or when the
// server closes.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// patience is how long a test waits for something that should come at once. It is
// generous: it only matters when something is wrong, and then the test fails.
const patience = 10 * time.Second

// startServer runs a server on a free port until the test ends, and returns its address.
func startServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := NewServer(log.New(testWriter{t}, "", 0))
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	t.Cleanup(func() {
		s.Close()
		require.NoError(t, <-served)
	})
	return l.Addr().String()
}

// testWriter sends the server's log to the test's log: go test -v shows it.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// peer is one test client.
type peer struct {
	net.Conn
	r    *bufio.Reader
	name string // how the server names us: our address as it sees it
}

// dial connects a client that hangs up when the test ends.
func dial(t *testing.T, addr string) *peer {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return &peer{Conn: conn, r: bufio.NewReaderSize(conn, 128<<10), name: conn.LocalAddr().String()}
}

// readLine returns the next line p receives, without its "\n". The line is only
// good until the next read: it is in the reader's buffer, not copied.
func (p *peer) readLine() ([]byte, error) {
	if err := p.SetReadDeadline(time.Now().Add(patience)); err != nil {
		return nil, err
	}
	line, err := p.r.ReadSlice('\n')
	return bytes.TrimSuffix(line, []byte("\n")), err
}

// expectLine reads the next line of p and requires it to be want.
func (p *peer) expectLine(t *testing.T, want string) {
	t.Helper()
	line, err := p.readLine()
	require.NoError(t, err, "%s waiting for %q", p.name, want)
	require.Equal(t, want, string(line), "what %s got", p.name)
}

// dialAll connects n clients and returns once the server has all of them on its
// list. A client is surely on the list once a line it sends reaches the others;
// so each new client says hello, and all those before it must hear that.
func dialAll(t *testing.T, addr string, n int) []*peer {
	t.Helper()
	peers := []*peer{dial(t, addr), dial(t, addr)}

	// The first one has nobody to hear it yet, and it may still be joining when
	// the second one speaks; so the second says hello until the first hears it.
	heard := make(chan error, 1)
	go func() { _, err := peers[0].readLine(); heard <- err }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for waiting := true; waiting; {
		_, err := fmt.Fprintf(peers[1], "hello\n")
		require.NoError(t, err)
		select {
		case err := <-heard:
			require.NoError(t, err, "the first client never heard the second")
			waiting = false
		case <-tick.C:
		}
	}
	fmt.Fprintf(peers[1], "hello 1\n") // more hellos may follow: skip to this one
	for {
		line, err := peers[0].readLine()
		require.NoError(t, err)
		if string(line) == peers[1].name+": hello 1" {
			break
		}
	}

	for i := 2; i < n; i++ {
		p := dial(t, addr)
		_, err := fmt.Fprintf(p, "hello %d\n", i)
		require.NoError(t, err)
		for _, q := range peers {
			q.expectLine(t, fmt.Sprintf("%s: hello %d", p.name, i))
		}
		peers = append(peers, p)
	}
	return peers
}

// TestStuckClientIsDropped: one client never reads while another sends big lines
// as fast as it can. The others must get every line, and the stuck client must
// be hung up on, with a notice to the others. A server that writes to every
// client in turn stalls as soon as the stuck client's socket is full.
func TestStuckClientIsDropped(t *testing.T) {
	addr := startServer(t)
	peers := dialAll(t, addr, 4) // stuck comes last, so it has nothing to read here
	sender, h1, h2, stuck := peers[0], peers[1], peers[2], peers[3]

	// Lines near the 64 KiB limit: about 1,200 of them (75 MiB) fill the stuck
	// client's socket buffers and a generous queue. maxSent only keeps a broken
	// server from making the test go on for ever. maxQueued is how many lines the
	// healthy clients may get before they hear of the drop: 85 MiB, the 64 MiB
	// bound and room for what the sockets hold (the stuck client's receive
	// buffer is kept small for that). A server with no bound keeps queueing for
	// the stuck client until its write deadline, if it has one.
	const maxSent, maxQueued = 4000, 1450
	require.NoError(t, stuck.Conn.(*net.TCPConn).SetReadBuffer(64<<10))
	filler := bytes.Repeat([]byte("x"), 60<<10)
	stopSending := make(chan struct{})
	var stopOnce sync.Once
	sent := make(chan int, 1)
	go func() {
		line := append([]byte("000000 "), filler...)
		line = append(line, '\n')
		n := 0
		for ; n < maxSent && !closed(stopSending); n++ {
			copy(line, fmt.Sprintf("%06d", n)) // each line numbered, so a lost one shows
			if _, err := sender.Write(line); err != nil {
				break // the test has failed and hung up
			}
		}
		fmt.Fprintf(sender, "end %d\n", n)
		sent <- n
	}()

	// Both healthy clients read everything, at the same time. Each must see
	// every line in order, the notice about the stuck client, and "end N".
	type result struct {
		got    int
		notice string
		err    error
	}
	results := make(chan result, 2)
	for _, h := range []*peer{h1, h2} {
		go func() {
			var r result
			defer func() { results <- r }()
			prefix := []byte(sender.name + ": ")
			for {
				line, err := h.readLine()
				if err != nil {
					r.err = fmt.Errorf("%s got no more lines after %d (is the server waiting "+
						"for the stuck client?): %w", h.name, r.got, err)
					return
				}
				text, fromSender := bytes.CutPrefix(line, prefix)
				num, rest, _ := bytes.Cut(text, []byte(" "))
				switch {
				case !fromSender && bytes.Contains(line, []byte(stuck.name)) && r.notice == "":
					r.notice = string(line)
					stopOnce.Do(func() { close(stopSending) }) // the point is made
				case !fromSender:
					r.err = fmt.Errorf("%s got an unexpected line %.80q", h.name, line)
					return
				case string(num) == "end":
					if string(rest) != strconv.Itoa(r.got) {
						r.err = fmt.Errorf("%s got %d lines, then %q", h.name, r.got, text)
					}
					return
				case string(num) != fmt.Sprintf("%06d", r.got) || !bytes.Equal(rest, filler):
					r.err = fmt.Errorf("%s: line %d is %.40q...", h.name, r.got, text)
					return
				case r.notice == "" && r.got >= maxQueued:
					r.err = fmt.Errorf("the stuck client is still connected with %d MiB queued for it; "+
						"the queue must be bounded (64 MiB)", r.got*len(filler)>>20)
					return
				default:
					r.got++
				}
			}
		}()
	}
	for range 2 {
		r := <-results
		if r.err != nil {
			sender.Close() // stop the sender and the other reader too
			h1.Close()
			h2.Close()
		}
		require.NoError(t, r.err)
		require.NotEmpty(t, r.notice, "nobody was told that the stuck client was dropped")
	}
	n := <-sent
	t.Logf("sent %d lines (%d MiB) before the stuck client was dropped", n, n*len(filler)>>20)

	// The stuck client's connection must be closed: reading it now gives what
	// was still in its socket buffers, then the end.
	_, err := io.Copy(io.Discard, deadlineReader{stuck})
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the stuck client is still connected")
	}
}

// deadlineReader reads from p with a deadline on each read.
type deadlineReader struct{ p *peer }

func (d deadlineReader) Read(b []byte) (int, error) {
	d.p.SetReadDeadline(time.Now().Add(patience))
	return d.p.r.Read(b)
}

// TestBurstDropsNobody: ten clients each send thousands of lines as fast as they
// can, and read at the same time. A client that is behind for a moment is not
// stuck: nobody may be dropped, and every line must reach every other client,
// each sender's lines in the order sent. One more client, a latecomer, reads
// nothing until the others have had everything: 20,000 short lines wait for it,
// a couple of megabytes, which a queue bounded in bytes keeps for it, and a
// queue bounded in messages does not.
func TestBurstDropsNobody(t *testing.T) {
	const clients, lines = 10, 2000
	addr := startServer(t)
	all := dialAll(t, addr, clients+1)
	peers, late := all[:clients], all[clients]
	// A small receive buffer, so that the kernel holds few of the latecomer's
	// lines for it: they wait in the server's queue.
	require.NoError(t, late.Conn.(*net.TCPConn).SetReadBuffer(64<<10))

	padding := strings.Repeat("-", 100)
	errs := make(chan error, 2*clients)
	for _, p := range peers {
		go func() { // write as fast as the server takes it
			w := bufio.NewWriter(p)
			for n := range lines {
				fmt.Fprintf(w, "%d %s\n", n, padding)
			}
			errs <- w.Flush()
		}()
		go func() { // and read at the same time
			errs <- p.expectAll(peers, lines, padding)
		}()
	}
	for range 2 * clients {
		if err := <-errs; err != nil {
			for _, p := range all {
				p.Close() // stop the other goroutines
			}
			require.NoError(t, err)
		}
	}
	// Everybody else has had every line, so every line is queued for the
	// latecomer too: now it reads them all.
	require.NoError(t, late.expectAll(all, lines, padding), "the client that was behind for a moment")
}

// expectAll reads until p has had lines lines from every other peer, checking that
// each sender's lines come in order and that nothing else comes.
func (p *peer) expectAll(peers []*peer, lines int, padding string) error {
	next := map[string]int{} // sender's name: number of its next line
	for _, q := range peers {
		if q != p {
			next[q.name] = 0
		}
	}
	for total := 0; total < lines*len(next); total++ {
		line, err := p.readLine()
		if err != nil {
			return fmt.Errorf("%s after %d lines: %w", p.name, total, err)
		}
		from, text, _ := strings.Cut(string(line), ": ")
		n, ok := next[from]
		if !ok || text != strconv.Itoa(n)+" "+padding {
			return fmt.Errorf("%s got %q; want line %d of %s", p.name, line, n, from)
		}
		next[from] = n + 1
	}
	return nil
}

// TestLongLine: a line longer than the limit is refused with a message before the
// server hangs up, and the others never see it. The message goes through the
// writer, which must send what is pending before it stops.
func TestLongLine(t *testing.T) {
	addr := startServer(t)
	peers := dialAll(t, addr, 3)
	a, b, c := peers[0], peers[1], peers[2]

	_, err := a.Write(append(bytes.Repeat([]byte("y"), 100<<10), '\n'))
	require.NoError(t, err)
	line, err := a.readLine()
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(line, []byte("error: ")), "got %q; want an error message", line)

	_, err = fmt.Fprintf(c, "after\n")
	require.NoError(t, err)
	b.expectLine(t, c.name+": after") // and nothing of the long line before it
}

// closed reports whether ch is closed, without waiting.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
