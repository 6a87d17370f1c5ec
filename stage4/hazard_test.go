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

// scenarioEnv, set to 1, runs TestRaceScenario: the racy chat, in the foreground.
// Try it, to see the race detector's report exactly as in your own code:
//
//	CHATBOOK_RACE_SCENARIO=1 go test -race -run TestRaceScenario ./stage4
const scenarioEnv = "CHATBOOK_RACE_SCENARIO"

// raceExit is the exit code we ask the race detector to use when it finds a race.
const raceExit = 66

// Stage4's weakness: the client list is a map that many goroutines use at once with
// no lock, and the race detector says so. A race makes a test binary fail, so this
// test runs the racy chat in a child process (this same test binary, running only
// TestRaceScenario) and checks that the CHILD failed with the race detector's report.
//
// Run it with -v to read the report: go test -race -v -run Hazard ./stage4
func TestHazardDataRace(t *testing.T) {
	if !raceEnabled {
		t.Skip("the race detector is off; to see the race: go test -race -v -run Hazard ./stage4")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRaceScenario$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), scenarioEnv+"=1",
		fmt.Sprintf("GORACE=halt_on_error=1 exitcode=%d atexit_sleep_ms=0", raceExit)) // stop at the first race
	out, err := cmd.CombinedOutput()

	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the racy chat ran without a race report (err %v):\n%s", err, out)
	require.Equal(t, raceExit, exit.ExitCode(), "the child failed, but not with a race:\n%s", out)
	report := string(out)
	require.Contains(t, report, "WARNING: DATA RACE")
	require.Regexp(t, `\(\*Server\)\.(join|leave|broadcast)`, report, "the race is not in the client list")
	if i := strings.Index(report, "=================="); i >= 0 {
		report = report[i:]
	}
	t.Logf("as expected, the race detector stopped the chat:\n%s", report)
}

// TestRaceScenario is the racy chat that TestHazardDataRace runs in a child process.
// Clients join, talk and leave, all at the same time, as in a real classroom.
func TestRaceScenario(t *testing.T) {
	if os.Getenv(scenarioEnv) == "" {
		t.Skip("run by TestHazardDataRace; to run it yourself: " + scenarioEnv + "=1 go test -race -run TestRaceScenario ./stage4")
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
