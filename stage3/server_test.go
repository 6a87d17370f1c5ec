package main

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"chatbook/exercises/tools/chattest"

	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { chattest.Main(m) }

func TestEchoesEachLine(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	c := ts.Dial(t)
	c.Send("hello\n")
	require.Equal(t, "hello\n", c.ReadLine())
	c.Send("two\nlines\n")
	require.Equal(t, "two\n", c.ReadLine())
	require.Equal(t, "lines\n", c.ReadLine())
}

// Stage2's lesson: when one client leaves, the server serves the next.
func TestServesTheNextClient(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	for _, text := range []string{"first\n", "second\n", "third\n"} {
		c := ts.Dial(t)
		c.Send(text)
		require.Equal(t, text, c.ReadLine())
		c.Conn.Close()
	}
}

// Stage3's lesson: many clients are served at once, each by its own goroutine.
func TestServesClientsAtOnce(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	var clients []*chattest.Client
	for range 10 {
		clients = append(clients, ts.Dial(t))
	}
	for round := range 3 { // every client is answered while all the others stay connected
		for i, c := range clients {
			text := fmt.Sprintf("client %d, round %d\n", i, round)
			c.Send(text)
			require.Equal(t, text, c.ReadLine())
		}
	}
}

// telnet ends lines with \r\n, netcat with \n: the echo is the same line for both.
func TestTelnetLineEndings(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	c := ts.Dial(t)
	c.Send("from telnet\r\n")
	require.Equal(t, "from telnet\n", c.ReadLine())
	c.Send("\r\n")
	require.Equal(t, "\n", c.ReadLine(), "an empty line is echoed as an empty line")
}

func TestLogsConnectedAndDisconnected(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	c := ts.Dial(t)
	c.Send("hi\n")
	c.ReadLine()
	me := c.Conn.LocalAddr().String()
	ts.WaitLog(t, "Connected "+me)
	c.Conn.Close()
	ts.WaitLog(t, "Disconnected "+me)
}

// Bytes that are not text come back exactly as they went in.
func TestBinaryBytes(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	c := ts.Dial(t)
	line := "\x00\x01\xff\xfe\x1b[31m\tend"
	c.Send(line + "\n")
	require.Equal(t, line+"\n", c.ReadLine())
}

// A line at the limit is echoed; a longer one gets a clear error, then the server hangs up.
func TestLongLine(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	c := ts.Dial(t)
	longest := strings.Repeat("x", maxLine-1)
	c.Send(longest + "\n")
	require.Equal(t, longest+"\n", c.ReadLine())

	go c.Conn.Write([]byte(strings.Repeat("y", maxLine+1) + "\n")) // may block: the server stops reading
	require.Equal(t, "error: line too long (the limit is 65536 bytes, newline included); goodbye\n", c.ReadLine())
	ts.WaitLog(t, "token too long")
}

// A client that half-closes in the middle of a line still gets that line back:
// nothing it typed is lost.
func TestLastLineWithoutNewline(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	c := ts.Dial(t)
	c.Send("no newline at the end")
	require.NoError(t, c.Conn.(*net.TCPConn).CloseWrite())
	require.Equal(t, "no newline at the end\n", c.ReadLine())
	c.ReadEOF()
}

// A client that vanishes mid-line, or resets the connection, does not crash the server.
func TestClientVanishes(t *testing.T) {
	for _, reset := range []bool{false, true} {
		ts := chattest.Start(t, NewServer)
		c := ts.Dial(t)
		c.Send("hi\n")
		c.ReadLine()
		c.Send("half a li")
		if reset {
			require.NoError(t, c.Conn.(*net.TCPConn).SetLinger(0)) // close with RST, not FIN
		}
		c.Conn.Close()
		ts.WaitLog(t, "Disconnected "+c.Conn.LocalAddr().String())

		next := ts.Dial(t) // and the server goes on to serve the next client
		next.Send("still there?\n")
		require.Equal(t, "still there?\n", next.ReadLine())
	}
}

// Close hangs up on every client and makes Serve return.
func TestCloseHangsUp(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	a, b := ts.Dial(t), ts.Dial(t)
	for _, c := range []*chattest.Client{a, b} {
		c.Send("hi\n")
		c.ReadLine()
	}
	ts.Server.Close()
	a.ReadEOF()
	b.ReadEOF()
	require.NoError(t, ts.Served(t), "Serve returns after Close")
}
