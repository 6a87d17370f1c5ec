package chattest

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// scenarioEnv, set to 1, lets RaceScenario run: in a child process that
// RunScenario starts, or in the foreground when a learner asks for it.
const scenarioEnv = "CHATBOOK_RACE_SCENARIO"

// RaceExit is the exit code RunScenario asks the race detector to use when it
// finds a race.
const RaceExit = 66

// RunScenario runs the test named test (a TestRaceScenario that calls
// RaceScenario) of this same test binary, in a child process, and returns all it
// printed and how it ended. The child stops at the first race it finds, with
// exit code RaceExit. A child, because a race makes the whole test binary fail:
// only a child can fail while the test that watches it passes.
func RunScenario(t *testing.T, test string) (output string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), scenarioEnv+"=1",
		fmt.Sprintf("GORACE=halt_on_error=1 exitcode=%d atexit_sleep_ms=0", RaceExit))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// RaceScenario is a busy classroom: it starts newServer's server and has eight
// clients join, all say five lines while everybody is there, and all leave. It
// runs only when RunScenario asks for it (or a learner, as the skip message says):
// it is there to be judged by the race detector, in a child process.
//
// Nobody speaks before the server has logged all eight "Connected" lines: each
// client's goroutine joins the list just before it logs, so all eight joins are
// under way at once, whatever the scheduler does. The log goes to a channel, not
// to a file or a terminal: the race detector counts every write to a file as
// synchronising with every later read, which can hide a race. The scenario
// asserts nothing about what arrives: only the race detector judges it.
func RaceScenario[S Server](t *testing.T, newServer func(*log.Logger) S) {
	t.Helper()
	if os.Getenv(scenarioEnv) == "" {
		t.Skipf("run in a child process by another test; to run it yourself: %s=1 go test -race -run %s %s",
			scenarioEnv, t.Name(), packageDir(t))
	}
	const clients = 8
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	connected := make(chan string, clients)
	srv := newServer(log.New(lineFunc(func(line string) {
		if strings.HasPrefix(line, "Connected ") {
			connected <- line
		}
	}), "", 0))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	var conns []net.Conn
	for range clients {
		conn, err := net.DialTimeout("tcp", l.Addr().String(), Wait)
		require.NoError(t, err)
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(Wait))
		conns = append(conns, conn)
	}
	for range clients {
		select {
		case <-connected:
		case <-time.After(Wait):
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

// packageDir is the folder of the package under test as a learner names it on
// the go command line, from the workbook's root: ./stage5, ./mine/ex4.
func packageDir(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			require.NoError(t, err)
			if rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
		if dir == filepath.Dir(dir) {
			return "." // no go.mod above: the folder go test ran in
		}
	}
}
