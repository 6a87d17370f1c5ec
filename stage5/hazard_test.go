package main

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

// Stage5's weakness: broadcast writes to every client while it holds the lock. A
// client that stops reading fills its socket buffers (the server's send buffer and
// its own receive buffer, a few megabytes); then Write blocks on it, with the lock
// held, and nobody else hears anything until that client leaves.
func TestHazardStuckClientStallsEveryone(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	stuck := ts.Join(t) // connected, but never reads a byte
	reader, sender := ts.Join(t), ts.Join(t)

	// The sender floods the chat with big lines, until the test ends or it has sent
	// 64 MiB: far more than the stuck client's buffers can hold.
	line := strings.Repeat("x", 32*1024) + "\n"
	flooding := make(chan struct{})
	go func() {
		defer close(flooding)
		for range 2048 {
			sender.Conn.SetWriteDeadline(time.Now().Add(4 * chattest.Wait))
			if _, err := io.WriteString(sender.Conn, line); err != nil {
				return // the test is over and closed the connection
			}
		}
	}()
	t.Cleanup(func() { sender.Conn.Close(); <-flooding })

	// The reader gets lines until the stuck client's buffers are full; then nothing
	// comes. (A whole second with no line, when lines were streaming in: a stall.)
	received := 0
	for {
		require.NoError(t, reader.Conn.SetReadDeadline(time.Now().Add(stall)))
		_, err := reader.R.ReadString('\n')
		var netErr net.Error
		if errors.As(err, &netErr) && netErr.Timeout() {
			break
		}
		require.NoError(t, err)
		received++
		require.Less(t, received, 2048, "the reader got every line: nobody stalled it")
	}
	t.Logf("the reader got %d lines (%d MiB), then nothing", received, received*len(line)>>20)

	// The stall is the stuck client's doing: once it leaves, the lines flow again.
	// (The read that timed out may have taken the start of a line: skip the rest.)
	stuck.Conn.Close()
	reader.ReadLine()
	require.True(t, reader.ReadLine() == sender.Name()+": "+line, "the lines did not flow again once the stuck client left")
	reader.Conn.Close() // it reads no more: staying, it would stall the flood once again
}

// stall is how long the reader must hear nothing before the test calls it stalled.
const stall = time.Second
