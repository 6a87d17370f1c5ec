//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFindServerFindsThisProcess: a socket this test listens on, on IPv4 or
// IPv6, leads to this process.
func TestFindServerFindsThisProcess(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		l, err := net.Listen("tcp", addr)
		if err != nil && strings.HasPrefix(addr, "[") {
			continue // no IPv6 here
		}
		require.NoError(t, err)
		pid, why := findServer(l.Addr().String(), 0)
		l.Close()
		assert.Equal(t, os.Getpid(), pid, "%s: %s", l.Addr(), why)
		assert.Empty(t, why)
	}

	// A run against this process does not count the tool's CPU twice.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	m := newCPUMeter(l.Addr().String(), 0)
	assert.Zero(t, m.pid)
	assert.Contains(t, m.why, "this very process")
}

// TestFindServerNobodyListens: a port nobody listens on gives one line saying why.
func TestFindServerNobodyListens(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)

	pid, why := findServer(addr, 0)
	assert.Zero(t, pid)
	assert.Contains(t, why, "listens on port "+port)
	assert.NotContains(t, why, "\n")

	pid, why = findServer("localhost", 0)
	assert.Zero(t, pid)
	assert.Equal(t, "cannot tell the port of localhost; give -pid", why)

	// A server elsewhere: the same port here is not it.
	pid, why = findServer("192.0.2.1:"+port, 0) // TEST-NET-1: nobody's address
	assert.Zero(t, pid)
	assert.Equal(t, "192.0.2.1 is another machine: its processes are not ours to see", why)
	assert.True(t, isThisMachine(""))
	assert.True(t, isThisMachine("localhost"))
	assert.True(t, isThisMachine("::"))
}

// TestFindServerPid: -pid names the process, if there is one.
func TestFindServerPid(t *testing.T) {
	pid, why := findServer("anywhere:1", os.Getpid())
	assert.Equal(t, os.Getpid(), pid)
	assert.Empty(t, why)

	pid, why = findServer("anywhere:1", 1<<30) // above any pid_max
	assert.Zero(t, pid)
	assert.Equal(t, fmt.Sprintf("-pid %d: there is no such process", 1<<30), why)
}

// TestServerInAnotherProcess: a run against a server in a process of its own
// finds it by its port and measures its CPU.
func TestServerInAnotherProcess(t *testing.T) {
	addr, proc := startChildServer(t)
	begin := time.Now()
	res, err := run(testConfig(addr, 4, 200))
	require.NoError(t, err)
	require.True(t, res.ok())
	u := res.cpu
	require.True(t, u.measured)
	assert.Equal(t, proc.Pid, u.pid)
	assert.Empty(t, u.why)
	assert.GreaterOrEqual(t, u.server, time.Duration(0))
	assert.GreaterOrEqual(t, u.tool, time.Duration(0))
	assert.GreaterOrEqual(t, u.machine, time.Duration(0))
	assert.LessOrEqual(t, u.wall, time.Since(begin), "the interval is within the run")
	// Its memory too, before the clients connected and with the four of them.
	m := res.mem
	require.True(t, m.measured)
	assert.Equal(t, proc.Pid, m.pid)
	assert.Empty(t, m.why)
	assert.Equal(t, 4, m.clients)
	assert.Positive(t, m.before)
	assert.Positive(t, m.after)
	var out bytes.Buffer
	res.print(&out)
	assert.Contains(t, out.String(), "\nCPU: server ")
	assert.Contains(t, out.String(), "\nmemory: server ")
	assert.NotContains(t, out.String(), "not measured")
}

func TestParseStat(t *testing.T) {
	// The name may hold spaces and parentheses: fields count from the last ')'.
	stat := "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 1200 0 0 0 37 5 0 0 20 0 9 0 123456 1234567 890 18446744073709551615\n"
	ticks, err := parseStat([]byte(stat))
	require.NoError(t, err)
	assert.EqualValues(t, 37+5, ticks)

	_, err = parseStat([]byte("4242 (short) S 1 2"))
	require.Error(t, err)
	_, err = parseStat([]byte("no name"))
	require.Error(t, err)
}

func TestCPUReadings(t *testing.T) {
	assert.Positive(t, clockTicks())
	assert.Equal(t, time.Second/time.Duration(clockTicks()), serverTick())
	d, err := processCPU(os.Getpid())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, d, time.Duration(0))
	d, err = selfCPU()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, d, time.Duration(0))
	d, err = machineCPU()
	require.NoError(t, err)
	assert.Positive(t, d)
}

// startChildServer starts serveChild in a process of its own, and returns its
// address and the process. It stops when the test ends.
func startChildServer(t *testing.T) (string, *os.Process) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// GORACE: built with -race, a program that exits with status 0 first waits a
	// second for goroutines that might still race; the child's are done by then,
	// so that second would only be lost.
	cmd.Env = append(os.Environ(), "LOAD_TEST_SERVER=chat", "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		stdin.Close() // it ends when its stdin does
		cmd.Wait()
	})
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "the server process did not say where it listens")
	return strings.TrimSpace(addr), cmd.Process
}
