package main

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"chatbook/exercises/tools/chattest"

	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { chattest.Main(m) }

// chatTest skips a test in which clients meet, when the race detector is on. Stage4
// races on purpose: the detector would stop such a test at once. These tests run
// without -race (go test ./stage4); TestHazardDataRace shows the race itself.
func chatTest(t *testing.T) {
	if chattest.RaceEnabled {
		t.Skip("stage4 has a data race on purpose; this test runs without -race: go test ./stage4")
	}
}

func TestBroadcastsToTheOthers(t *testing.T) {
	chatTest(t)
	ts := chattest.Start(t, NewServer)
	a, b, c := ts.Join(t), ts.Join(t), ts.Join(t)
	a.Send("hello\n")
	require.Equal(t, a.Name()+": hello\n", b.ReadLine())
	require.Equal(t, a.Name()+": hello\n", c.ReadLine())

	b.Send("hi a\n")
	require.Equal(t, b.Name()+": hi a\n", a.ReadLine(), "a's next line is b's: a did not get its own line back")
	require.Equal(t, b.Name()+": hi a\n", c.ReadLine())
}

// Many clients at once: every line reaches every other client.
func TestManyClients(t *testing.T) {
	chatTest(t)
	ts := chattest.Start(t, NewServer)
	var clients []*chattest.Client
	for range 10 {
		clients = append(clients, ts.Join(t))
	}
	for i, c := range clients {
		c.Send(fmt.Sprintf("line from %d\n", i))
		for j, other := range clients {
			if j != i {
				require.Equal(t, fmt.Sprintf("%s: line from %d\n", c.Name(), i), other.ReadLine())
			}
		}
	}
}

// A client that leaves is taken off the list, and the others chat on.
func TestLeavingClientIsRemoved(t *testing.T) {
	chatTest(t)
	ts := chattest.Start(t, NewServer)
	a, b, c := ts.Join(t), ts.Join(t), ts.Join(t)
	b.Conn.Close()
	require.Eventually(t, func() bool { return ts.Server.count() == 2 }, chattest.Wait, time.Millisecond, "b is still on the list")
	a.Send("still here\n")
	require.Equal(t, a.Name()+": still here\n", c.ReadLine())
}

// telnet ends lines with \r\n, netcat with \n: the others get the same line from both.
func TestTelnetLineEndings(t *testing.T) {
	chatTest(t)
	ts := chattest.Start(t, NewServer)
	a, b := ts.Join(t), ts.Join(t)
	a.Send("from telnet\r\n")
	require.Equal(t, a.Name()+": from telnet\n", b.ReadLine())
	a.Send("\r\n")
	require.Equal(t, a.Name()+": \n", b.ReadLine(), "an empty line is passed on as an empty line")
}

func TestLogsConnectedAndDisconnected(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	c := ts.Join(t)
	c.Conn.Close()
	ts.WaitLeft(t, c)
}

// Bytes that are not text are passed on exactly as they came.
func TestBinaryBytes(t *testing.T) {
	chatTest(t)
	ts := chattest.Start(t, NewServer)
	a, b := ts.Join(t), ts.Join(t)
	line := "\x00\x01\xff\xfe\x1b[31m\tend"
	a.Send(line + "\n")
	require.Equal(t, a.Name()+": "+line+"\n", b.ReadLine())
}

// A line at the limit is passed on; a longer one gets its sender a clear error and
// a goodbye, and the others chat on.
func TestLongLine(t *testing.T) {
	chatTest(t)
	ts := chattest.Start(t, NewServer)
	a, b, c := ts.Join(t), ts.Join(t), ts.Join(t)
	longest := strings.Repeat("x", maxLine-1)
	a.Send(longest + "\n")
	require.Equal(t, a.Name()+": "+longest+"\n", b.ReadLine())
	require.Equal(t, a.Name()+": "+longest+"\n", c.ReadLine())

	go a.Conn.Write([]byte(strings.Repeat("y", maxLine+1) + "\n")) // may block: the server stops reading
	require.Equal(t, "error: line too long (the limit is 65536 bytes, newline included); goodbye\n", a.ReadLine())
	ts.WaitLog(t, "token too long")
	b.Send("on we go\n")
	require.Equal(t, b.Name()+": on we go\n", c.ReadLine())
	b.ReadNothing() // and nothing of the long line reached the others
}

// A client that half-closes in the middle of a line: its last words still reach
// the others. Nothing it typed is lost.
func TestLastLineWithoutNewline(t *testing.T) {
	chatTest(t)
	ts := chattest.Start(t, NewServer)
	a, b := ts.Join(t), ts.Join(t)
	a.Send("no newline at the end")
	require.NoError(t, a.Conn.(*net.TCPConn).CloseWrite())
	require.Equal(t, a.Name()+": no newline at the end\n", b.ReadLine())
	a.ReadEOF()
}

// A client that vanishes mid-line, or resets the connection, does not crash the
// server, and the others chat on.
func TestClientVanishes(t *testing.T) {
	chatTest(t)
	for _, reset := range []bool{false, true} {
		ts := chattest.Start(t, NewServer)
		a, b, c := ts.Join(t), ts.Join(t), ts.Join(t)
		a.Send("half a li")
		if reset {
			require.NoError(t, a.Conn.(*net.TCPConn).SetLinger(0)) // close with RST, not FIN
		}
		a.Conn.Close()
		ts.WaitLeft(t, a)
		b.Send("still there?\n")
		got := c.ReadLine()
		if !reset {
			require.Equal(t, a.Name()+": half a li\n", got, "a's last words still reach the others")
		}
		if got == a.Name()+": half a li\n" { // after a reset, they may or may not
			got = c.ReadLine()
		}
		require.Equal(t, b.Name()+": still there?\n", got)
	}
}

// Close hangs up on the client and makes Serve return. (One client only: the
// goroutines of two would leave the list at the same moment, and stage4's map,
// with no lock, may then crash the server with "concurrent map writes".)
func TestCloseHangsUp(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	a := ts.Join(t)
	ts.Server.Close()
	a.ReadEOF()
	require.NoError(t, ts.Served(t), "Serve returns after Close")
}

// count is the number of clients on the server's list. Reading the map while the
// server runs is itself a data race, like the rest of stage4: without -race only.
func (s *Server) count() int {
	return len(s.clients)
}
