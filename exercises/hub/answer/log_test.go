package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLogSaysWhyAStuckClientWent: the server's log is for the person who runs it,
// and when the hub hangs up on a client, it must say why, once. Hanging up closes
// the client's connection, so its reader then fails with "use of closed network
// connection": that is the server's own doing, not a cause, and logging it after
// the real reason sends whoever reads the log looking for a network fault.
func TestLogSaysWhyAStuckClientWent(t *testing.T) {
	ts := startServer(t)
	stuck, sender := ts.join(t), ts.join(t) // stuck reads nothing from here on

	// 4 KiB lines until the hub hangs up on stuck: a couple of thousand fill its
	// socket buffers and its channel. Nobody else reads them: the sender does not
	// get its own lines back.
	line := strings.Repeat("x", 4<<10) + "\n"
	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for n := 0; n < 100_000 && !closed(stop); n++ {
			sender.conn.SetWriteDeadline(time.Now().Add(wait))
			if _, err := sender.conn.Write([]byte(line)); err != nil {
				return // the test has failed and hung up
			}
		}
	}()
	defer func() { close(stop); <-sent }()

	dropped := "Dropped " + stuck.name() + ": "
	ts.waitLog(t, dropped)
	ts.waitLeft(t, stuck) // its reader has logged all it will log

	var about []string // the lines that name the stuck client
	for l := range strings.Lines(ts.logs.String()) {
		if strings.Contains(l, stuck.name()) {
			about = append(about, strings.TrimSuffix(l, "\n"))
		}
	}
	said := strings.Join(about, "\n")
	require.NotContains(t, said, "use of closed network connection",
		"the hub closed this connection itself: that is no reason to log; the reason is in the Dropped line")
	reasons := 0
	for _, l := range about {
		if why, ok := strings.CutPrefix(l, dropped); ok {
			require.NotEmpty(t, strings.TrimSpace(why), "a Dropped line must say why")
			reasons++
		}
	}
	require.Equal(t, 1, reasons, "the reason is said once; the log about %s:\n%s", stuck.name(), said)
	t.Logf("the log about the stuck client:\n%s", said)
}
