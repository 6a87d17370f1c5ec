package chattest

import (
	"log"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// MaxLine is the most bytes one line may take in every stage, its newline included.
const MaxLine = 64 * 1024

// tooLong is what a server says to a client whose line is longer than MaxLine.
const tooLong = "error: line too long (the limit is 65536 bytes, newline included); goodbye\n"

// Echo runs, as subtests, what every echo server does (stage1 to stage3), each
// with a server of its own: it sends every line back, whatever the line ending
// or the bytes in it, refuses a line that is too long, loses nothing a client
// typed, and survives a client that vanishes.
func Echo[S Server](t *testing.T, newServer func(*log.Logger) S) {
	t.Run("EchoesEachLine", func(t *testing.T) {
		c := Start(t, newServer).Dial(t)
		c.Send("hello\n")
		require.Equal(t, "hello\n", c.ReadLine())
		c.Send("two\nlines\n")
		require.Equal(t, "two\n", c.ReadLine())
		require.Equal(t, "lines\n", c.ReadLine())
	})

	// telnet ends lines with \r\n, netcat with \n: the echo is the same line for both.
	t.Run("TelnetLineEndings", func(t *testing.T) {
		c := Start(t, newServer).Dial(t)
		c.Send("from telnet\r\n")
		require.Equal(t, "from telnet\n", c.ReadLine())
		c.Send("\r\n")
		require.Equal(t, "\n", c.ReadLine(), "an empty line is echoed as an empty line")
	})

	t.Run("LogsConnectedAndDisconnected", func(t *testing.T) {
		ts := Start(t, newServer)
		c := ts.Dial(t)
		c.Send("hi\n")
		c.ReadLine()
		ts.WaitLog(t, "Connected "+c.Name())
		c.Conn.Close()
		ts.WaitLog(t, "Disconnected "+c.Name())
	})

	// Bytes that are not text come back exactly as they went in.
	t.Run("BinaryBytes", func(t *testing.T) {
		c := Start(t, newServer).Dial(t)
		line := "\x00\x01\xff\xfe\x1b[31m\tend"
		c.Send(line + "\n")
		require.Equal(t, line+"\n", c.ReadLine())
	})

	// A line at the limit is echoed; a longer one gets a clear error, then the server hangs up.
	t.Run("LongLine", func(t *testing.T) {
		ts := Start(t, newServer)
		c := ts.Dial(t)
		longest := strings.Repeat("x", MaxLine-1)
		c.Send(longest + "\n")
		require.Equal(t, longest+"\n", c.ReadLine())

		go c.Conn.Write([]byte(strings.Repeat("y", MaxLine+1) + "\n")) // may block: the server stops reading
		require.Equal(t, tooLong, c.ReadLine())
		ts.WaitLog(t, "token too long")
	})

	// A client that half-closes in the middle of a line still gets that line back:
	// nothing it typed is lost.
	t.Run("LastLineWithoutNewline", func(t *testing.T) {
		c := Start(t, newServer).Dial(t)
		c.Send("no newline at the end")
		require.NoError(t, c.Conn.(*net.TCPConn).CloseWrite())
		require.Equal(t, "no newline at the end\n", c.ReadLine())
		c.ReadEOF()
	})

	// A client that vanishes mid-line, or resets the connection, does not crash the server.
	t.Run("ClientVanishes", func(t *testing.T) {
		for _, reset := range []bool{false, true} {
			ts := Start(t, newServer)
			c := ts.Dial(t)
			c.Send("hi\n")
			c.ReadLine()
			leave(t, c, reset)
			ts.WaitLog(t, "Disconnected "+c.Name())
		}
	})

	// Close hangs up on the client and makes Serve return.
	t.Run("CloseHangsUp", func(t *testing.T) {
		ts := Start(t, newServer)
		c := ts.Dial(t)
		c.Send("hi\n")
		c.ReadLine()
		ts.Server.Close()
		c.ReadEOF()
		require.NoError(t, ts.Served(t), "Serve returns after Close")
	})
}

// leave closes c in the middle of a line, and with reset, with a TCP reset (RST)
// instead of the usual goodbye (FIN): as a client does whose machine crashes.
func leave(t *testing.T, c *Client, reset bool) {
	t.Helper()
	c.Send("half a li")
	if reset {
		require.NoError(t, c.Conn.(*net.TCPConn).SetLinger(0)) // close with RST, not FIN
	}
	c.Conn.Close()
}

// ServesTheNextClient checks stage2's lesson, which every later server keeps:
// when a client leaves, however it leaves, the server goes on to the next.
func ServesTheNextClient[S Server](t *testing.T, newServer func(*log.Logger) S) {
	t.Helper()
	ts := Start(t, newServer)
	for _, way := range []string{"hangs up", "vanishes mid-line", "resets"} {
		c := ts.Dial(t)
		c.Send(way + "\n")
		require.Equal(t, way+"\n", c.ReadLine())
		if way == "hangs up" {
			c.Conn.Close()
		} else {
			leave(t, c, way == "resets")
		}
	}
	next := ts.Dial(t)
	next.Send("still there?\n")
	require.Equal(t, "still there?\n", next.ReadLine(), "the client after them is served")
}

// EchoWithTelnet runs the program and checks that telnet, which sends \r\n line
// endings, gets its line back. Its input is a pipe here, not a terminal.
func EchoWithTelnet(t *testing.T) {
	t.Helper()
	_, addr := Listening(t)
	telnet := Telnet(t, addr)
	telnet.Type(t, "hello telnet")
	telnet.Await(t, "hello telnet") // the echo, after telnet's own "Connected to ..."
}
