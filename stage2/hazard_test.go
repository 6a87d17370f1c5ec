package main

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// quiet is how long a test listens for an answer that must NOT come. Nothing here
// makes the answer late: stage2 cannot answer at all until the first client leaves.
const quiet = 300 * time.Millisecond

// Stage2's weakness: one client at a time. A second client can connect (the kernel
// queues it) but hears nothing until the first client leaves.
func TestHazardSecondClientWaits(t *testing.T) {
	ts := startServer(t)
	first := dial(t, ts.addr)
	first.send("first\n")
	require.Equal(t, "first\n", first.readLine(), "the first client is served")

	second := dial(t, ts.addr) // succeeds: the kernel accepts it into the queue
	second.send("second\n")
	require.NoError(t, second.conn.SetReadDeadline(time.Now().Add(quiet)))
	line, err := second.r.ReadString('\n')
	var netErr net.Error
	require.ErrorAs(t, err, &netErr, "the second client got %q while the first was still connected", line)
	require.True(t, netErr.Timeout())

	first.send("still first\n")
	require.Equal(t, "still first\n", first.readLine(), "the first client is still being served")
	first.conn.Close()
	require.Equal(t, "second\n", second.readLine(), "the second client is answered once the first has left")
}
