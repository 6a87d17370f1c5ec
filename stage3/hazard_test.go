package main

import (
	"net"
	"testing"
	"time"

	"chatbook/exercises/tools/chattest"

	"github.com/stretchr/testify/require"
)

// quiet is how long a test listens for an answer that must NOT come. Nothing here
// makes it late: stage3 never sends one client's line to another at all.
const quiet = 300 * time.Millisecond

// Stage3's weakness: every client is served, but each hears only its own echo.
// A line that a sends never reaches b.
func TestHazardClientsCannotTalk(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	a, b := ts.Dial(t), ts.Dial(t)
	b.Send("b is here\n")
	require.Equal(t, "b is here\n", b.ReadLine(), "b is being served")

	a.Send("hello from a\n")
	require.Equal(t, "hello from a\n", a.ReadLine(), "a hears its own echo")

	b.Send("anything for me?\n")
	require.Equal(t, "anything for me?\n", b.ReadLine(), "b's next line is its own echo, not a's line")
	require.NoError(t, b.Conn.SetReadDeadline(time.Now().Add(quiet)))
	line, err := b.R.ReadString('\n')
	var netErr net.Error
	require.ErrorAs(t, err, &netErr, "b received %q", line)
	require.True(t, netErr.Timeout(), "b received nothing else")
}
