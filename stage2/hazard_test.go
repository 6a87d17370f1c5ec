package main

import (
	"net"
	"testing"
	"time"

	"chatbook/exercises/tools/chattest"

	"github.com/stretchr/testify/require"
)

// quiet is how long a test listens for an answer that must NOT come. Nothing here
// makes the answer late: stage2 cannot answer at all until the first client leaves.
const quiet = 300 * time.Millisecond

// Stage2's weakness: one client at a time. A second client can connect (the kernel
// queues it) but hears nothing until the first client leaves.
func TestHazardSecondClientWaits(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	first := ts.Dial(t)
	first.Send("first\n")
	require.Equal(t, "first\n", first.ReadLine(), "the first client is served")

	second := ts.Dial(t) // succeeds: the kernel accepts it into the queue
	second.Send("second\n")
	require.NoError(t, second.Conn.SetReadDeadline(time.Now().Add(quiet)))
	line, err := second.R.ReadString('\n')
	var netErr net.Error
	require.ErrorAs(t, err, &netErr, "the second client got %q while the first was still connected", line)
	require.True(t, netErr.Timeout())

	first.Send("still first\n")
	require.Equal(t, "still first\n", first.ReadLine(), "the first client is still being served")
	first.Conn.Close()
	require.Equal(t, "second\n", second.ReadLine(), "the second client is answered once the first has left")
}
