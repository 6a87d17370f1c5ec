package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

// The tests of this exercise: no lock, a client that stops reading is hung up on
// while the others chat on, everybody hears the lines in one order, and Close
// stops everything. The tests in server_test.go and main_test.go are stage5's: the
// chat must still behave as it did.

// next returns the next line c receives, without its newline, or an error once
// nothing has come for a while. For goroutines: it does not stop the test. The
// line is only good until the next read.
func (c *peer) next() ([]byte, error) {
	if err := c.conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return nil, err
	}
	line, err := c.r.ReadSlice('\n')
	return bytes.TrimSuffix(line, []byte("\n")), err
}

// TestStuckClientIsHungUp: one client never reads while another floods the chat.
// The stuck client's socket buffers fill up, then its channel; the hub must not
// wait for it (then nobody would hear anything), but hang up on it and tell the
// others. The two healthy clients get every line, in order, and the notice.
func TestStuckClientIsHungUp(t *testing.T) {
	ts := startServer(t)
	stuck := ts.join(t)
	h1, h2, sender := ts.join(t), ts.join(t), ts.join(t)

	// Numbered 16 KiB lines, until the notice comes. A few hundred fill the stuck
	// client's socket buffers, and a channel of a thousand or so lines fills
	// after that; maxSent only keeps a broken server from making this go on.
	const maxSent = 6000
	filler := bytes.Repeat([]byte("x"), 16<<10)
	stopSending := make(chan struct{})
	var stopOnce sync.Once
	sent := make(chan int, 1)
	go func() {
		line := append([]byte("000000 "), filler...)
		line = append(line, '\n')
		n := 0
		for ; n < maxSent && !closed(stopSending); n++ {
			copy(line, fmt.Sprintf("%06d", n)) // each line numbered, so a lost one shows
			sender.conn.SetWriteDeadline(time.Now().Add(wait))
			if _, err := sender.conn.Write(line); err != nil {
				break // the server has stopped reading us, or the test has failed
			}
		}
		sender.conn.SetWriteDeadline(time.Now().Add(wait))
		fmt.Fprintf(sender.conn, "end %d\n", n)
		sent <- n
	}()

	// Each healthy client must see every line in order, the notice that names the
	// stuck client once, and then "end N".
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
			prefix := []byte(sender.name() + ": ")
			for {
				line, err := h.next()
				if err != nil {
					r.err = fmt.Errorf("%s got no more lines after %d (is the hub waiting "+
						"for the stuck client?): %w", h.name(), r.got, err)
					return
				}
				text, fromSender := bytes.CutPrefix(line, prefix)
				num, rest, _ := bytes.Cut(text, []byte(" "))
				switch {
				case !fromSender && bytes.HasPrefix(line, []byte("server: ")) &&
					bytes.Contains(line, []byte(stuck.name())) && r.notice == "":
					r.notice = string(line)
					stopOnce.Do(func() { close(stopSending) }) // the point is made
				case !fromSender:
					r.err = fmt.Errorf("%s got an unexpected line %.80q", h.name(), line)
					return
				case string(num) == "end":
					if string(rest) != strconv.Itoa(r.got) {
						r.err = fmt.Errorf("%s got %d lines, then %q", h.name(), r.got, text)
					}
					return
				case string(num) != fmt.Sprintf("%06d", r.got) || !bytes.Equal(rest, filler):
					r.err = fmt.Errorf("%s: line %d is %.40q...", h.name(), r.got, text)
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
			stopOnce.Do(func() { close(stopSending) })
			h1.conn.Close() // stop the other reader too
			h2.conn.Close()
		}
		require.NoError(t, r.err)
		require.NotEmpty(t, r.notice, "nobody was told that the stuck client was hung up on")
	}
	n := <-sent
	t.Logf("sent %d lines (%d MiB) before the stuck client was hung up on", n, n*len(filler)>>20)
	ts.waitLog(t, "Dropped "+stuck.name())

	// The stuck client's connection must be closed: reading it now gives what was
	// still in its socket buffers, then the end.
	stuck.conn.SetReadDeadline(time.Now().Add(wait))
	_, err := io.Copy(io.Discard, stuck.r)
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the stuck client is still connected")
}

// TestOneOrderForEveryone: four clients talk at once, two only listen. Each line
// reaches every client but its sender, each sender's lines in the order sent; and
// since one goroutine hands every line out, all the clients hear them in one and
// the same order.
func TestOneOrderForEveryone(t *testing.T) {
	const talkers, listeners, lines = 4, 2, 300
	ts := startServer(t)
	var peers []*peer
	for range talkers + listeners {
		peers = append(peers, ts.join(t))
	}

	// Everybody reads, into a list of its own; the talkers also talk.
	heard := make([][]string, len(peers))
	errs := make(chan error, len(peers)+talkers)
	for i, p := range peers {
		want := talkers * lines
		if i < talkers {
			want -= lines // not its own lines
			go func() {
				for n := range lines { // no deadline: the readers below notice a stall
					if _, err := fmt.Fprintf(p.conn, "%d\n", n); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		go func() {
			for range want {
				line, err := p.next()
				if err != nil {
					errs <- fmt.Errorf("%s after %d lines: %w", p.name(), len(heard[i]), err)
					return
				}
				heard[i] = append(heard[i], string(line))
			}
			errs <- nil
		}()
	}
	for range len(peers) + talkers {
		if err := <-errs; err != nil {
			for _, p := range peers {
				p.conn.Close() // stop the other goroutines
			}
			require.NoError(t, err)
		}
	}

	// A listener heard everything: every talker's lines, each in order.
	order := heard[talkers]
	next := map[string]int{}
	for _, line := range order {
		from, n, _ := strings.Cut(line, ": ")
		require.Equal(t, strconv.Itoa(next[from]), n, "line from %s out of order", from)
		next[from]++
	}
	require.Len(t, next, talkers)
	// Everybody heard that very order, leaving out its own lines.
	for i, p := range peers {
		want := slices.DeleteFunc(slices.Clone(order), func(line string) bool {
			return strings.HasPrefix(line, p.name()+": ")
		})
		require.Equal(t, want, heard[i], "%s heard the lines in another order", p.name())
	}
}

// TestBurstDropsNobody: ten clients each send a thousand lines as fast as they
// can, and read at the same time. A client that is behind for a moment has not
// stopped reading: nobody may be hung up on, and every line must reach every
// other client, each sender's lines in the order sent.
func TestBurstDropsNobody(t *testing.T) {
	const clients, lines = 10, 1000
	ts := startServer(t)
	var peers []*peer
	for range clients {
		peers = append(peers, ts.join(t))
	}

	padding := strings.Repeat("-", 100)
	errs := make(chan error, 2*clients)
	for _, p := range peers {
		go func() { // write as fast as the server takes it
			var batch bytes.Buffer
			for n := range lines {
				fmt.Fprintf(&batch, "%d %s\n", n, padding)
			}
			_, err := p.conn.Write(batch.Bytes())
			errs <- err
		}()
		go func() { // and read at the same time
			next := map[string]int{} // sender's name: number of its next line
			for total := 0; total < lines*(clients-1); total++ {
				line, err := p.next()
				if err != nil {
					errs <- fmt.Errorf("%s after %d lines: %w", p.name(), total, err)
					return
				}
				from, text, _ := strings.Cut(string(line), ": ")
				if text != strconv.Itoa(next[from])+" "+padding {
					errs <- fmt.Errorf("%s got %.60q; want line %d of %s", p.name(), line, next[from], from)
					return
				}
				next[from]++
			}
			errs <- nil
		}()
	}
	for range 2 * clients {
		if err := <-errs; err != nil {
			for _, p := range peers {
				p.conn.Close()
			}
			require.NoError(t, err)
		}
	}
	require.NotContains(t, ts.logs.String(), "Dropped")
}

// TestCloseWithAStuckClient: Close must stop everything, even while a writer is
// blocked on a client that does not read and lines wait in its channel. goleak,
// in TestMain, checks that no goroutine is left.
func TestCloseWithAStuckClient(t *testing.T) {
	ts := startServer(t)
	stuck := ts.join(t)
	reader, sender := ts.join(t), ts.join(t)

	// 300 lines of 32 KiB, 9 MiB: more than the stuck client's socket buffers
	// hold, so its writer is blocked in Write, and lines wait in its channel.
	line := strings.Repeat("x", 32<<10) + "\n"
	go func() {
		for range 300 {
			if _, err := io.WriteString(sender.conn, line); err != nil {
				return // Close has hung up
			}
		}
	}()
	for range 300 {
		require.Equal(t, sender.name()+": "+line, reader.readLine())
	}

	ts.stuck = !closeServer(t, ts.Server)
	require.False(t, ts.stuck, "is a goroutine waiting for the stuck client?")
	for _, p := range []*peer{reader, sender} {
		p.readEOF()
	}
	stuck.conn.SetReadDeadline(time.Now().Add(wait))
	_, err := io.Copy(io.Discard, stuck.r)
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the stuck client is still connected")
}

// TestClientsComeAndGoAtOnce: eight clients join at the same moment, each says five
// lines and hears the others' 35, and all leave at once. Built with -race (as the
// sheet says to test), this is what catches a goroutine other than the hub that
// touches the list of clients: the race detector fails the test.
func TestClientsComeAndGoAtOnce(t *testing.T) {
	const clients, lines = 8, 5
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	// The log goes to a channel, not a shared buffer with a lock: that lock would
	// order the goroutines that log, and could hide a race from the detector.
	connected := make(chan string, clients)
	s := NewServer(log.New(lineFunc(func(line string) {
		if strings.HasPrefix(line, "Connected ") {
			connected <- line
		}
	}), "", 0))
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	defer func() {
		if closeServer(t, s) {
			require.NoError(t, <-served)
		}
	}()

	var conns []net.Conn
	for range clients { // all dial first: the joins all happen at once
		conn, err := net.DialTimeout("tcp", l.Addr().String(), wait)
		require.NoError(t, err)
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(wait))
		conns = append(conns, conn)
	}
	for range clients {
		select {
		case <-connected:
		case <-time.After(wait):
			t.Fatal("the server did not log all the Connected lines")
		}
	}

	errs := make(chan error, clients)
	for i, conn := range conns {
		said := make(chan error, 1)
		go func() {
			for j := range lines {
				if _, err := fmt.Fprintf(conn, "line %d from client %d\n", j, i); err != nil {
					said <- err
					return
				}
			}
			said <- nil
		}()
		go func() { // hear all the others, and leave once we have said it all too
			defer conn.Close()
			p := &peer{conn: conn, r: bufio.NewReader(conn)}
			for n := range (clients - 1) * lines {
				if _, err := p.next(); err != nil {
					errs <- fmt.Errorf("client %d after %d lines: %w", i, n, err)
					return
				}
			}
			errs <- <-said
		}()
	}
	for range clients {
		require.NoError(t, <-errs)
	}
}

// lineFunc is a log destination that hands each line to a function.
type lineFunc func(line string)

func (f lineFunc) Write(p []byte) (int, error) {
	f(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// TestNoLocks: the rule of this exercise. The hub goroutine owns the clients; the
// other goroutines talk to it over channels. No mutex, and no atomic either.
func TestNoLocks(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			if imp.Path.Value == `"sync/atomic"` {
				t.Errorf("%s imports sync/atomic: in this exercise, the hub owns the state", fset.Position(imp.Pos()))
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "sync" &&
					(sel.Sel.Name == "Mutex" || sel.Sel.Name == "RWMutex") {
					t.Errorf("%s: sync.%s: this exercise has no lock; the hub goroutine owns the "+
						"clients, and the others talk to it over channels", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
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

// TestJoinsWhileTheHubIsBusy: one client talks all the time while eight quiet
// clients join; each of them must hear the talk. Built with -race, this catches a
// goroutine other than the hub that puts a client on the list, every time: the
// hub reads the list for each line, and a quiet newcomer has done nothing that
// orders its write before those reads. (Nothing in this test may order it either:
// the race detector counts a socket write as happening before every later socket
// read, so the test writes to no socket after the newcomers arrive, except through
// the talker, which started before them and waits for nobody.)
//
// The race detector reports a race once per process, so under -race the test runs
// itself again in a child process, and fails when the child does: then a second
// run (-count 2) catches the race as surely as the first.
func TestJoinsWhileTheHubIsBusy(t *testing.T) {
	if chattest.RaceEnabled && os.Getenv("CHATBOOK_RACE_SCENARIO") == "" {
		out, err := chattest.RunScenario(t, t.Name())
		require.NotContains(t, out, "WARNING: DATA RACE", "a goroutine other than the hub touches the list")
		require.NoError(t, err, "the test failed in its child process:\n%s", out)
		require.Contains(t, out, "--- PASS: "+t.Name(), "the test did not run in its child process:\n%s", out)
		return
	}
	const newcomers = 8
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := NewServer(log.New(io.Discard, "", 0))
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	defer func() {
		if closeServer(t, s) {
			require.NoError(t, <-served)
		}
	}()
	dial := func() *peer {
		conn, err := net.DialTimeout("tcp", l.Addr().String(), wait)
		require.NoError(t, err)
		t.Cleanup(func() { conn.Close() })
		conn.SetDeadline(time.Now().Add(wait))
		return &peer{conn: conn, r: bufio.NewReader(conn)}
	}

	// The talker and a listener, on the list before anybody else comes.
	talker, listener := dial(), dial()
	require.Eventually(t, func() bool {
		fmt.Fprintf(talker.conn, "anyone?\n")
		listener.conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, err := listener.r.ReadSlice('\n')
		return err == nil
	}, wait, time.Millisecond, "the listener never heard the talker")
	listener.conn.SetDeadline(time.Now().Add(wait))

	stop := make(chan struct{})
	talked := make(chan struct{})
	go func() { // talks until told to stop: every line makes the hub read its list
		defer close(talked)
		for i := 0; i < 100000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := fmt.Fprintf(talker.conn, "tick %d\n", i); err != nil {
				return
			}
		}
	}()
	go io.Copy(io.Discard, listener.r) // the listener keeps reading, so nobody is stuck

	for range newcomers {
		p := dial()
		line, err := p.next() // a tick: the hub has read its list with p on it
		require.NoError(t, err, "a newcomer heard nothing of the talk")
		require.Contains(t, string(line), "tick")
	}
	close(stop)
	<-talked
}

// TestAPauseIsNotAStop: a client stops reading long enough for its channel to
// fill, then reads again. It was behind, not stuck: it must keep its connection and
// get every line. This is what the hub's grace period is for: a hub that hangs up
// the moment a channel is full (the second choice of the sheet) fails here.
//
// When the paused client's channel is full, the hub waits for it, and so the other
// client hears nothing. The test takes that silence as its cue: once the listener
// has heard more lines than one channel holds and then nothing for pause, the
// paused client reads again, well within the hub's grace period.
func TestAPauseIsNotAStop(t *testing.T) {
	const pause = 200 * time.Millisecond
	ts := startServer(t)
	paused := ts.join(t)
	listener, sender := ts.join(t), ts.join(t)

	filler := strings.Repeat("x", 8<<10)
	resumed := make(chan struct{}) // closed when the paused client reads again
	sent := make(chan int, 1)
	go func() { // numbered 8 KiB lines until the paused client has read again, then "end N"
		n := 0
		for ; n < 8000; n++ {
			if n%100 == 0 && closed(resumed) {
				break
			}
			sender.conn.SetWriteDeadline(time.Now().Add(wait))
			if _, err := fmt.Fprintf(sender.conn, "%06d %s\n", n, filler); err != nil {
				break
			}
		}
		sender.conn.SetWriteDeadline(time.Now().Add(wait))
		fmt.Fprintf(sender.conn, "end %d\n", n)
		sent <- n
	}()

	// readAll checks that p hears every line in order, then "end N".
	var heard atomic.Int64 // lines the listener has heard so far
	var heardBefore int64  // and when the paused client read again
	readAll := func(p *peer, count *atomic.Int64) error {
		prefix := sender.name() + ": "
		for n := 0; ; n++ {
			line, err := p.next()
			if err != nil {
				return fmt.Errorf("%s heard nothing more after %d lines (the paused client reads "+
					"again only once the others have had more than 1,024 lines: does the server "+
					"wait for it before that?): %w", p.name(), n, err)
			}
			text, ok := strings.CutPrefix(string(line), prefix)
			switch {
			case !ok:
				return fmt.Errorf("%s got %.80q after %d lines (was the paused client hung up on?)", p.name(), line, n)
			case text == fmt.Sprintf("end %d", n):
				return nil
			case text != fmt.Sprintf("%06d %s", n, filler):
				return fmt.Errorf("%s: line %d is %.40q...", p.name(), n, text)
			}
			if count != nil {
				count.Add(1)
			}
		}
	}
	errs := make(chan error, 2)
	go func() { errs <- readAll(listener, &heard) }()
	go func() {
		// Wait for the listener to fall silent with more than a channel's worth heard.
		last, quietSince := int64(-1), time.Now()
		for tick := time.NewTicker(10 * time.Millisecond); ; <-tick.C {
			if now := heard.Load(); now != last {
				last, quietSince = now, time.Now()
			} else if now > 1024 && time.Since(quietSince) >= pause || time.Since(quietSince) >= wait {
				tick.Stop()
				break
			}
		}
		heardBefore = heard.Load()
		close(resumed)
		errs <- readAll(paused, nil)
	}()
	for range 2 {
		if err := <-errs; err != nil {
			for _, p := range []*peer{paused, listener, sender} {
				p.conn.Close() // stop the other goroutines
			}
			require.NoError(t, err)
		}
	}
	t.Logf("sent %d lines; the paused client read again after %d", <-sent, heardBefore)
	require.NotContains(t, ts.logs.String(), "Dropped")
}
