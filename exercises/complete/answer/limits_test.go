package main

// The limits exercise's features (its tests, adapted), and the limits a server
// open to strangers needs on top: per address, and on idle clients.

import (
	"errors"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A line longer than -max-line is not passed on, its sender is told, and the
// connection goes on working.
func TestLongLine(t *testing.T) {
	ts := startServer(t, "-max-line", "100")
	cs := joinAll(t, ts.addr, 2)
	a, b := cs[0], cs[1]

	a.send(t, strings.Repeat("y", 100)) // 100 bytes is allowed, with "\n" or "\r\n"
	b.expect(t, a.name+": "+strings.Repeat("y", 100))
	a.send(t, strings.Repeat("Y", 100)+"\r")
	b.expect(t, a.name+": "+strings.Repeat("Y", 100))

	a.send(t, strings.Repeat("z", 101)) // 101 is not, nor a long line in two pieces
	_, err := io.WriteString(a.conn, strings.Repeat("z", 3000))
	require.NoError(t, err)
	a.send(t, strings.Repeat("z", 3000))
	for range 2 {
		line, err := a.read()
		require.NoError(t, err, "a was hung up on: it should only be told")
		require.True(t, strings.HasPrefix(line, "error: line too long"), "a got %q", line)
	}
	a.send(t, "after")
	b.expect(t, a.name+": after")
	b.send(t, "reply")
	a.expect(t, b.name+": reply")
}

// refused requires the next line of conn to be an error that contains want,
// and then the end of the connection.
func refused(t *testing.T, conn net.Conn, want string) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(wait))
	b, err := io.ReadAll(conn)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(b), "error: ") && strings.Contains(string(b), want),
		"a refused client got %q; want one error line about %q", b, want)
	require.Equal(t, 1, strings.Count(string(b), "\n"), "a refused client gets one line, then the end")
}

// With -max-clients 3, a fourth client is told why and hung up on; once one
// leaves, a newcomer gets in.
func TestTooManyClients(t *testing.T) {
	ts := startServer(t, "-max-clients", "3")
	cs := joinAll(t, ts.addr, 3)
	conn, err := net.Dial("tcp", ts.addr)
	require.NoError(t, err)
	defer conn.Close()
	refused(t, conn, "full")

	cs[0].send(t, "still here")
	cs[1].expect(t, cs[0].name+": still here")
	cs[2].conn.Close()
	cs[0].readNotice(t) // it has left: there is room for one
	d := join(t, ts.addr)
	require.Equal(t, 3, d.online)
}

// With -max-per-addr 2, a third client from the same address is refused, while
// the limit on all clients is far away.
func TestTooManyFromOneAddress(t *testing.T) {
	ts := startServer(t, "-max-per-addr", "2")
	cs := joinAll(t, ts.addr, 2)
	conn, err := net.Dial("tcp", ts.addr)
	require.NoError(t, err)
	defer conn.Close()
	refused(t, conn, "too many connections from 127.0.0.1")
	cs[0].conn.Close()
	cs[1].readNotice(t)
	join(t, ts.addr)
}

// A client that sends nothing for -idle is told so and hung up on; the others
// hear why it left. A client that talks stays.
func TestIdleClientsAreHungUpOn(t *testing.T) {
	t.Parallel()
	ts := startServer(t, "-idle", "1s")
	talker := join(t, ts.addr)
	idle := join(t, ts.addr)
	talker.readNotice(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(stop)
	spawn(&wg, func() { // talks every 50ms, and so never idles
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				io.WriteString(talker.conn, "/name talker\n")
			}
		}
	})
	lines, err := idle.rest(wait)
	require.NoError(t, err, "an idle client must be hung up on")
	require.Contains(t, last(lines), "error: you sent nothing for 1s")
	for { // the talker gets its own replies meanwhile; then the leave
		line, err := talker.read()
		require.NoError(t, err)
		if strings.Contains(line, " left ") {
			require.Equal(t, idle.name+" left (1 online): idle for 1s", line)
			break
		}
	}
}

// Accept fails a few times with errors that pass (out of file descriptors, a
// timeout): the server waits 5ms, then twice as long each time, and serves.
func TestAcceptBackoff(t *testing.T) {
	real, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	emfile := &net.OpError{Op: "accept", Net: "tcp", Addr: real.Addr(), Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	timeout := &net.OpError{Op: "accept", Net: "tcp", Addr: real.Addr(), Err: os.ErrDeadlineExceeded}
	l := &flakyListener{Listener: real, fails: []error{emfile, timeout, emfile, emfile}}
	ts := serveOn(t, l)
	a := join(t, ts.addr) // Serve survived
	calls := l.times()
	require.GreaterOrEqual(t, len(calls), 5)
	for i, wait := 0, 5*time.Millisecond; i < 4; i, wait = i+1, 2*wait {
		gap := calls[i+1].Sub(calls[i])
		require.GreaterOrEqual(t, gap, wait, "Accept was called again %v after failure %d", gap, i+1)
	}
	b := join(t, ts.addr)
	a.expect(t, b.name+" joined (2 online)")
}

// An Accept error that will not pass ends Serve, which returns it.
func TestAcceptError(t *testing.T) {
	real, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	broken := errors.New("the listener is broken")
	srv := NewServer(log.New(io.Discard, "", 0))
	err = srv.Serve(&flakyListener{Listener: real, fails: []error{broken}})
	require.ErrorIs(t, err, broken)
	srv.Close()
}

// flakyListener is a real listener whose first Accepts fail with made-up errors.
type flakyListener struct {
	net.Listener
	mu    sync.Mutex
	fails []error     // what the next Accepts return
	calls []time.Time // when Accept was called
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	l.calls = append(l.calls, time.Now())
	if len(l.fails) > 0 {
		err := l.fails[0]
		l.fails = l.fails[1:]
		l.mu.Unlock()
		return nil, err
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}

func (l *flakyListener) times() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.calls...)
}

// Wrong flags are refused with a reason.
func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-max-clients", "0"}, {"-max-per-addr", "0"}, {"-max-line", "0"},
		{"-max-queue", "100"}, {"-idle", "0s"}, {"-write-timeout", "-1s"},
		{"-shutdown-timeout", "0s"}, {"-coalesce", "-1ms"}, {"-coalesce", "2s"}, {"extra"}, {"-no-such-flag"},
	} {
		_, err := parseFlags(args, nil, io.Discard)
		require.Error(t, err, "%q", args)
	}
	_, err := parseFlags([]string{"-max-per-addr", "5", "-idle", "10m", "-max-queue", "1000000",
		"-write-timeout", "5s", "-shutdown-timeout", "2s", "-max-line", "500", "-max-clients", "9", "-coalesce", "0"}, nil, io.Discard)
	require.NoError(t, err)
}
