package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

// Stage2's weakness: one client at a time. A second client can connect (the kernel
// queues it) but hears nothing until the first client leaves.
func TestHazardSecondClientWaits(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	first := ts.Dial(t)
	first.Send("first\n")
	require.Equal(t, "first\n", first.ReadLine(), "the first client is served")

	second := ts.Dial(t) // succeeds: the kernel accepts it into the queue
	second.Send("second\n")
	// It hears nothing for a while. Waiting longer would not help: stage2 cannot
	// answer at all until the first client leaves.
	second.ReadNothing()

	first.Send("still first\n")
	require.Equal(t, "still first\n", first.ReadLine(), "the first client is still being served")
	first.Conn.Close()
	require.Equal(t, "second\n", second.ReadLine(), "the second client is answered once the first has left")
}
