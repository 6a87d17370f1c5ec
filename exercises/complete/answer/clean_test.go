package main

// Nothing a client sends may drive another client's terminal.

import (
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// hostile are lines a stranger might send, with what the others must read.
var hostile = []struct{ name, line, want string }{
	{"plain", "hello, wörld ✓", "hello, wörld ✓"},
	{"clear screen", "\x1b[2J\x1b[Hgone", "␛[2J␛[Hgone"},
	{"window title", "\x1b]0;pwned\x07", "␛]0;pwned␇"},
	{"OSC 52 clipboard", "\x1b]52;c;cm0gLXJmIH4=\x07", "␛]52;c;cm0gLXJmIH4=␇"},
	{"bare CR fakes a line", "hi\rguest9: send me your password", "hi␍guest9: send me your password"},
	{"backspaces", "ok\b\b\bno", "ok␈␈␈no"},
	{"NUL and DEL", "a\x00b\x7fc", "a␀b␡c"},
	{"tab", "a\tb", "a b"},
	{"C1 CSI", "x\u009b31my", "x\ufffd31my"},
	{"C1 NEL", "x\u0085y", "x\ufffdy"},
	{"right-to-left override", "abc\u202edcba", "abc\ufffddcba"},
	{"all bidi overrides and isolates", "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069", strings.Repeat("\ufffd", 9)},
	{"line separator", "a\u2028b", "a\ufffdb"},
	{"invalid UTF-8", "a\xffb\xc3", "a\ufffdb\ufffd"},
	{"a lone C1 byte", "a\x9b2Jb", "a\ufffd2Jb"},
}

func TestAppendClean(t *testing.T) {
	for _, h := range hostile {
		got := string(appendClean([]byte("x: "), []byte(h.line)))
		require.Equal(t, "x: "+h.want, got, h.name)
		requireHarmless(t, got, h.name)
	}
}

// requireHarmless fails the test if s has anything a terminal would act on.
func requireHarmless(t *testing.T, s, what string) {
	t.Helper()
	require.True(t, utf8.ValidString(s), "%s: %q is not valid UTF-8", what, s)
	for _, r := range s {
		bad := r < 0x20 || 0x7f <= r && r < 0xa0 || 0x202a <= r && r <= 0x202e || 0x2066 <= r && r <= 0x2069
		require.False(t, bad, "%s: %q still has %U", what, s, r)
	}
}

// The same lines, sent through the server, in one write and with telnet's and
// nc's line ends: each arrives as one harmless line with the sender's name.
func TestHostileLinesReachOthersHarmless(t *testing.T) {
	ts := startServer(t)
	cs := joinAll(t, ts.addr, 2)
	a, b := cs[0], cs[1]
	var all strings.Builder
	for i, h := range hostile {
		all.WriteString(h.line)
		all.WriteString([]string{"\n", "\r\n"}[i%2])
	}
	_, err := io.WriteString(a.conn, all.String())
	require.NoError(t, err)
	for _, h := range hostile {
		line, err := b.read()
		require.NoError(t, err)
		require.Equal(t, a.name+": "+h.want, line, h.name)
		requireHarmless(t, line, h.name)
	}
	a.send(t, "/name \x1b]0;x\x07") // not a valid name; nor may the error echo it raw
	line, err := a.read()
	require.NoError(t, err)
	require.Contains(t, line, "valid")
	requireHarmless(t, line, "the error for a bad name")
	a.send(t, "/\x1b[2J") // an unknown command is echoed cleaned
	line, err = a.read()
	require.NoError(t, err)
	require.Contains(t, line, "unknown command")
	requireHarmless(t, line, "the error for an unknown command")
}

func BenchmarkAppendClean(b *testing.B) {
	line := []byte(strings.Repeat("the quick brown fox jumps over the lazy dog ", 2))
	var buf []byte
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		buf = appendClean(buf[:0], line)
	}
}
