package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// scenarioEnv, set to 1, runs TestRaceScenario: stage4's racy chat, now race-free,
// in the foreground:
//
//	CHATBOOK_RACE_SCENARIO=1 go test -race -run TestRaceScenario ./stage5
const scenarioEnv = "CHATBOOK_RACE_SCENARIO"

// raceExit is the exit code we ask the race detector to use when it finds a race.
const raceExit = 66

// Stage5's lesson: with a mutex around the client list, the chat that made stage4
// fail under the race detector runs clean. This test runs it in a child process,
// exactly as stage4's TestHazardDataRace does, and checks that the child passed.
func TestNoDataRace(t *testing.T) {
	if !raceEnabled {
		t.Skip("the race detector is off; to check for races: go test -race -v -run NoDataRace ./stage5")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRaceScenario$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), scenarioEnv+"=1",
		fmt.Sprintf("GORACE=halt_on_error=1 exitcode=%d atexit_sleep_ms=0", raceExit)) // stop at the first race
	out, err := cmd.CombinedOutput()

	require.NoError(t, err, "the chat failed:\n%s", out)
	require.NotContains(t, string(out), "WARNING: DATA RACE")
	require.Contains(t, string(out), "--- PASS: TestRaceScenario", "the chat did not run:\n%s", out)
}

// Stage5's weakness: broadcast writes to every client while it holds the lock. A
// client that stops reading fills its socket buffers (the server's send buffer and
// its own receive buffer, a few megabytes); then Write blocks on it, with the lock
// held, and nobody else hears anything until that client leaves.
func TestHazardStuckClientStallsEveryone(t *testing.T) {
	ts := startServer(t)
	stuck := ts.join(t) // connected, but never reads a byte
	reader, sender := ts.join(t), ts.join(t)

	// The sender floods the chat with big lines, until the test ends or it has sent
	// 64 MiB: far more than the stuck client's buffers can hold.
	line := strings.Repeat("x", 32*1024) + "\n"
	flooding := make(chan struct{})
	go func() {
		defer close(flooding)
		for range 2048 {
			sender.conn.SetWriteDeadline(time.Now().Add(4 * wait))
			if _, err := io.WriteString(sender.conn, line); err != nil {
				return // the test is over and closed the connection
			}
		}
	}()
	t.Cleanup(func() { sender.conn.Close(); <-flooding })

	// The reader gets lines until the stuck client's buffers are full; then nothing
	// comes. (A whole second with no line, when lines were streaming in: a stall.)
	received := 0
	for {
		require.NoError(t, reader.conn.SetReadDeadline(time.Now().Add(stall)))
		_, err := reader.r.ReadString('\n')
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
	stuck.conn.Close()
	reader.readLine()
	require.True(t, reader.readLine() == sender.name()+": "+line, "the lines did not flow again once the stuck client left")
	reader.conn.Close() // it reads no more: staying, it would stall the flood once again
}

// stall is how long the reader must hear nothing before the test calls it stalled.
const stall = time.Second

// TestRaceScenario is the chat that TestNoDataRace runs in a child process.
// Clients join, talk and leave, all at the same time, as in a real classroom.
func TestRaceScenario(t *testing.T) {
	if os.Getenv(scenarioEnv) == "" {
		t.Skip("run by TestNoDataRace; to run it yourself: " + scenarioEnv + "=1 go test -race -run TestRaceScenario ./stage4")
	}
	raceScenario(t)
}

// raceScenario starts a server and has eight clients join, all say five lines
// while everybody is there, and all leave. Nobody speaks before the server has
// logged all eight "Connected" lines: each client's goroutine joins the list just
// before it logs, so all eight joins are under way at once, whatever the scheduler
// does. The log goes to a channel, not to a file or a terminal: the race detector
// counts every write to a file as synchronising with every later read, which can
// hide a race. The scenario asserts nothing about what arrives: only the race
// detector judges it.
func raceScenario(t *testing.T) {
	const clients = 8
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	connected := make(chan string, clients)
	srv := NewServer(log.New(lineFunc(func(line string) {
		if strings.HasPrefix(line, "Connected ") {
			connected <- line
		}
	}), "", 0))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	var conns []net.Conn
	for range clients {
		conn, err := net.DialTimeout("tcp", l.Addr().String(), wait)
		require.NoError(t, err)
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(wait))
		conns = append(conns, conn)
	}
	for range clients {
		select {
		case <-connected:
		case <-time.After(wait):
			t.Fatal("the server did not log all the Connected lines")
		}
	}

	var said, done sync.WaitGroup // all have spoken; all are gone
	said.Add(clients)
	for i, conn := range conns {
		done.Add(2)
		go func() { // read what the others say, so nobody stalls; ends at Close
			defer done.Done()
			io.Copy(io.Discard, conn)
		}()
		go func() {
			defer done.Done()
			defer conn.Close()
			for j := range 5 {
				fmt.Fprintf(conn, "line %d from client %d\n", j, i)
			}
			said.Done()
			said.Wait() // nobody leaves before everybody has spoken
		}()
	}
	done.Wait()
	srv.Close()
	require.NoError(t, <-served)
}

// lineFunc is a log destination that hands each line to a function.
type lineFunc func(line string)

func (f lineFunc) Write(p []byte) (int, error) {
	f(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
