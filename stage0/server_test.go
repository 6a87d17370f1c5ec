package main

import (
	"bytes"
	"log"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

func TestMain(m *testing.M) { chattest.Main(m) }

// serve runs a Server on input and returns everything it wrote, log and echo together,
// just as a learner sees them in the terminal.
func serve(t *testing.T, input string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := NewServer(log.New(&out, "", 0)).Serve(strings.NewReader(input), &out)
	return out.String(), err
}

func TestEchoesEachLine(t *testing.T) {
	out, err := serve(t, "hello\nworld\n")
	require.NoError(t, err)
	require.Equal(t, "Connected\nhello\nworld\nDisconnected\n", out)
}

// An empty line means goodbye: what follows it is not read.
func TestEmptyLineEnds(t *testing.T) {
	out, err := serve(t, "hello\n\nnever read\n")
	require.NoError(t, err)
	require.Equal(t, "Connected\nhello\nDisconnected\n", out)
}

// The end of input (Ctrl+D) ends too, and a last line without a newline still counts.
func TestEndOfInputEnds(t *testing.T) {
	out, err := serve(t, "last words")
	require.NoError(t, err)
	require.Equal(t, "Connected\nlast words\nDisconnected\n", out)
}

// Windows terminals and telnet end lines with \r\n: the \r is not part of the line,
// so "\r\n" alone is an empty line, which ends the session.
func TestCRLF(t *testing.T) {
	out, err := serve(t, "hello\r\n\r\nnever read\r\n")
	require.NoError(t, err)
	require.Equal(t, "Connected\nhello\nDisconnected\n", out)
}

func TestBinaryBytes(t *testing.T) {
	line := "\x00\x01\xff\xfe\x1b[31m\tend"
	out, err := serve(t, line+"\n")
	require.NoError(t, err)
	require.Equal(t, "Connected\n"+line+"\nDisconnected\n", out)
}

// A line at the limit is echoed; a longer one is an error that says so.
func TestLongLine(t *testing.T) {
	longest := strings.Repeat("x", maxLine-1)
	out, err := serve(t, longest+"\n")
	require.NoError(t, err)
	require.Equal(t, "Connected\n"+longest+"\nDisconnected\n", out)

	out, err = serve(t, "before\n"+strings.Repeat("y", maxLine+1)+"\n")
	require.EqualError(t, err, "line too long (the limit is 65536 bytes, newline included)")
	require.Equal(t, "Connected\nbefore\nDisconnected\n", out)
}
