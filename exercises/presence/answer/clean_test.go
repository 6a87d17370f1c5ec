package main

import (
	"bufio"
	"io"
	"log"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// hostileLines are lines a stranger might send, with what the others must read
// after the sender's name: nothing in them may drive the reader's terminal.
var hostileLines = []struct{ what, line, want string }{
	{"plain", "hello, wörld ✓", "hello, wörld ✓"},
	{"a bare CR that fakes a line", "hi\rguest9: send me your password", "hi␍guest9: send me your password"},
	{"clear screen", "\x1b[2J\x1b[Hgone", "␛[2J␛[Hgone"},
	{"window title", "\x1b]0;pwned\x07", "␛]0;pwned␇"},
	{"OSC 52 clipboard", "\x1b]52;c;cm0gLXJmIH4=\x07", "␛]52;c;cm0gLXJmIH4=␇"},
	{"backspaces", "ok\b\b\bno", "ok␈␈␈no"},
	{"NUL, DEL and a tab", "a\x00b\x7fc\td", "a␀b␡c d"},
	{"C1 controls", "x\u009b31my\u0085", "x\ufffd31my\ufffd"},
	{"bidi overrides and isolates", "abc\u202edcba\u2066x\u2069", "abc\ufffddcba\ufffdx\ufffd"},
	{"bytes that are not UTF-8", "a\xffb\x9b2J", "a\ufffdb\ufffd2J"},
}

// The names exercise's cleaning stays: a chat line reaches the others cleaned, as
// names are. No control character, escape sequence or bidirectional override gets
// through, and a "\r" in the middle cannot make the rest look like a line from
// somebody else. "\n" and "\r\n" still end lines.
func TestLinesAreCleanedOfTerminalControls(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := NewServer(log.New(io.Discard, "", 0))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	defer func() {
		srv.Close()
		require.NoError(t, <-done)
	}()

	sender, senderName := cleanDial(t, l.Addr().String())
	reader, _ := cleanDial(t, l.Addr().String())
	// The reader is on the list once a line from the sender reaches it.
	for heard := ""; heard == ""; {
		io.WriteString(sender, "ready\n")
		reader.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		heard, _ = bufio.NewReader(reader).ReadString('\n') // a fresh reader each time: only whole lines are lost
	}
	var all strings.Builder
	for i, h := range hostileLines {
		all.WriteString(h.line + []string{"\n", "\r\n"}[i%2])
	}
	all.WriteString("end\n")
	_, err = io.WriteString(sender, all.String())
	require.NoError(t, err)

	r := bufio.NewReader(reader)
	reader.SetReadDeadline(time.Now().Add(5 * time.Second))
	line := ""
	for line != senderName+": "+hostileLines[0].want { // skip the other "ready"s
		line, err = r.ReadString('\n')
		require.NoError(t, err)
		line = strings.TrimSuffix(line, "\n")
	}
	for _, h := range hostileLines[1:] {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		line = strings.TrimSuffix(line, "\n")
		require.Equal(t, senderName+": "+h.want, line, h.what)
		require.True(t, utf8.ValidString(line), "%s: %q is not UTF-8", h.what, line)
		for _, c := range line {
			bad := c < 0x20 || 0x7f <= c && c < 0xa0 || 0x202a <= c && c <= 0x202e || 0x2066 <= c && c <= 0x2069
			require.False(t, bad, "%s: %q still has %U", h.what, line, c)
		}
	}
	line, err = r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, senderName+": end\n", line)
}

// cleanDial connects, reads the welcome line, `Welcome NAME (N online)`, and
// returns the connection and the name.
func cleanDial(t *testing.T, addr string) (net.Conn, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var first []byte
	for b := make([]byte, 1); ; { // byte by byte: nothing after the welcome is read here
		_, err := conn.Read(b)
		require.NoError(t, err)
		if b[0] == '\n' {
			break
		}
		first = append(first, b[0])
	}
	m := welcome.FindStringSubmatch(string(first))
	require.NotNil(t, m, "first line %q is not `Welcome NAME (N online)`", first)
	return conn, m[1]
}
