package chattest

import (
	"fmt"
	"log"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Chat runs, as subtests, what every chat server does (stage4 on), each with a
// server of its own: every line reaches every other client and never comes back
// to its sender, a client that leaves is taken off the list, and bad lines and
// vanishing clients do not stop the others. It needs nothing of the server but
// NewServer and its log, so a learner's copy of the stage before compiles with it.
func Chat[S Server](t *testing.T, newServer func(*log.Logger) S) {
	t.Run("BroadcastsToTheOthers", func(t *testing.T) {
		ts := Start(t, newServer)
		a, b, c := ts.Join(t), ts.Join(t), ts.Join(t)
		a.Send("hello\n")
		require.Equal(t, a.Name()+": hello\n", b.ReadLine())
		require.Equal(t, a.Name()+": hello\n", c.ReadLine())

		b.Send("hi a\n")
		require.Equal(t, b.Name()+": hi a\n", a.ReadLine(), "a's next line is b's: a did not get its own line back")
		require.Equal(t, b.Name()+": hi a\n", c.ReadLine())
	})

	// Many clients at once: every line reaches every other client.
	t.Run("ManyClients", func(t *testing.T) {
		ts := Start(t, newServer)
		var clients []*Client
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
	})

	// A client that leaves is taken off the list, and the others chat on.
	t.Run("LeavingClientIsRemoved", func(t *testing.T) {
		ts := Start(t, newServer)
		a, b, c := ts.Join(t), ts.Join(t), ts.Join(t)
		b.Conn.Close()
		ts.WaitLeft(t, b) // the server logs "Disconnected" after it has taken b off the list
		a.Send("still here\n")
		require.Equal(t, a.Name()+": still here\n", c.ReadLine())
	})

	// telnet ends lines with \r\n, netcat with \n: the others get the same line from both.
	t.Run("TelnetLineEndings", func(t *testing.T) {
		ts := Start(t, newServer)
		a, b := ts.Join(t), ts.Join(t)
		a.Send("from telnet\r\n")
		require.Equal(t, a.Name()+": from telnet\n", b.ReadLine())
		a.Send("\r\n")
		require.Equal(t, a.Name()+": \n", b.ReadLine(), "an empty line is passed on as an empty line")
	})

	t.Run("LogsConnectedAndDisconnected", func(t *testing.T) {
		ts := Start(t, newServer)
		c := ts.Join(t)
		c.Conn.Close()
		ts.WaitLeft(t, c)
	})

	// Bytes that are not text are passed on exactly as they came.
	t.Run("BinaryBytes", func(t *testing.T) {
		ts := Start(t, newServer)
		a, b := ts.Join(t), ts.Join(t)
		line := "\x00\x01\xff\xfe\x1b[31m\tend"
		a.Send(line + "\n")
		require.Equal(t, a.Name()+": "+line+"\n", b.ReadLine())
	})

	// A line at the limit is passed on; a longer one gets its sender a clear error and
	// a goodbye, and the others chat on.
	t.Run("LongLine", func(t *testing.T) {
		ts := Start(t, newServer)
		a, b, c := ts.Join(t), ts.Join(t), ts.Join(t)
		longest := strings.Repeat("x", MaxLine-1)
		a.Send(longest + "\n")
		require.Equal(t, a.Name()+": "+longest+"\n", b.ReadLine())
		require.Equal(t, a.Name()+": "+longest+"\n", c.ReadLine())

		go a.Conn.Write([]byte(strings.Repeat("y", MaxLine+1) + "\n")) // may block: the server stops reading
		require.Equal(t, tooLong, a.ReadLine())
		ts.WaitLog(t, "token too long")
		b.Send("on we go\n")
		require.Equal(t, b.Name()+": on we go\n", c.ReadLine())
		b.ReadNothing() // and nothing of the long line reached the others
	})

	// A client that half-closes in the middle of a line: its last words still reach
	// the others. Nothing it typed is lost.
	t.Run("LastLineWithoutNewline", func(t *testing.T) {
		ts := Start(t, newServer)
		a, b := ts.Join(t), ts.Join(t)
		a.Send("no newline at the end")
		require.NoError(t, a.Conn.(*net.TCPConn).CloseWrite())
		require.Equal(t, a.Name()+": no newline at the end\n", b.ReadLine())
		a.ReadEOF()
	})

	// A client that vanishes mid-line, or resets the connection, does not crash the
	// server, and the others chat on.
	t.Run("ClientVanishes", func(t *testing.T) {
		for _, reset := range []bool{false, true} {
			ts := Start(t, newServer)
			a, b, c := ts.Join(t), ts.Join(t), ts.Join(t)
			leave(t, a, reset)
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
	})
}

// ChatWithNetcat runs the program with two nc in two terminals, as the README
// says: one watches, the other says something, then leaves.
func ChatWithNetcat(t *testing.T) {
	t.Helper()
	p, addr := Listening(t)
	watcher := Netcat(t, addr)
	watcherName := p.Connected(t)
	sender := Netcat(t, addr)
	senderName := p.Connected(t)

	sender.Type(t, "hello from nc")
	require.Equal(t, senderName+": hello from nc", watcher.Next(t))
	watcher.Type(t, "hello back")
	require.Equal(t, watcherName+": hello back", sender.Next(t),
		"the sender's next line is the watcher's: it did not get its own line back")
	sender.Quit(t) // Ctrl+C: the sender leaves
	p.Expect(t, "Disconnected "+senderName)
}

// ChatWithTelnet runs the program with an nc watching and telnet talking: telnet
// sends \r\n line endings, and the watcher gets the line without the \r.
func ChatWithTelnet(t *testing.T) {
	t.Helper()
	p, addr := Listening(t)
	watcher := Netcat(t, addr)
	p.Connected(t)
	telnet := Telnet(t, addr)
	sender := p.Connected(t)
	telnet.Type(t, "hello from telnet")
	require.Equal(t, sender+": hello from telnet", watcher.Next(t))
}
