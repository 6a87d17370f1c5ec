package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"chatbook/exercises/tools/chattest"

	"github.com/stretchr/testify/require"
)

// server is the built program, running, with the lines of its stderr.
type server struct {
	cmd    *exec.Cmd
	stderr chan string // closed when the program has ended
	addr   string      // from its `listening on ADDR` line
}

var listening = regexp.MustCompile(`listening on (\S+)$`)

// run starts the program on a fresh port of 127.0.0.1. If the test ends with the
// program still running, it is killed.
func run(t *testing.T, bin string) *server {
	t.Helper()
	s := &server{cmd: exec.Command(bin, "-addr", "127.0.0.1:0"), stderr: make(chan string, 1000)}
	out, err := s.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, s.cmd.Start())
	go func() {
		defer close(s.stderr)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			s.stderr <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		s.cmd.Process.Kill() // an error if it has exited already; that is fine
		for range s.stderr {
		}
		s.cmd.Wait()
	})
	select {
	case line := <-s.stderr:
		m := listening.FindStringSubmatch(line)
		require.NotNil(t, m, "the program's first line on stderr is %q, not `listening on ADDR`", line)
		s.addr = m[1]
	case <-time.After(wait):
		t.Fatal("the program did not say `listening on ADDR` in time")
	}
	return s
}

// stop sends sig to the program and fails the test unless it exits with status 0
// within shutdownBound.
func (s *server) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(sig))
	type result struct {
		log []string
		err error
	}
	exited := make(chan result, 1)
	go func() {
		var log []string
		for line := range s.stderr { // ends when the program does
			log = append(log, line)
		}
		exited <- result{log, s.cmd.Wait()}
	}()
	select {
	case r := <-exited:
		require.NoError(t, r.err, "the program must exit with status 0; it wrote:\n%s", strings.Join(r.log, "\n"))
	case <-time.After(shutdownBound):
		t.Fatalf("the program was still running %v after %v", shutdownBound, sig)
	}
}

// Ctrl+C and SIGTERM stop the real program cleanly, even with a client stuck.
func TestSignalsStopTheProgramCleanly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("a test cannot send Ctrl+C or SIGTERM to a program on Windows")
	}
	t.Parallel()
	bin := chattest.Program(t)

	t.Run("SIGTERM with a client that never reads", func(t *testing.T) {
		s := run(t, bin)
		stuck, flooder, readerDone := stuckServer(t, s.addr)

		s.stop(t, syscall.SIGTERM)

		r := <-readerDone
		require.NoError(t, r.err)
		require.Contains(t, r.last, "shutting down", "the reader's last line must tell the server is shutting down")
		last, err := flooder.rest(wait)
		require.NoError(t, err)
		require.Contains(t, last, "shutting down", "the flooder's last line must tell the server is shutting down")
		_, err = stuck.rest(wait)
		require.NoError(t, err, "the program must hang up on the stuck client too")
	})

	t.Run("Ctrl+C", func(t *testing.T) {
		s := run(t, bin)
		a, b := join(t, s.addr), join(t, s.addr)

		s.stop(t, os.Interrupt)

		for _, c := range []*client{a, b} {
			last, err := c.rest(wait)
			require.NoError(t, err)
			require.Contains(t, last, "shutting down", "%s: the last line must tell the server is shutting down", c.name)
		}
		conn, err := net.DialTimeout("tcp", s.addr, wait)
		if err == nil {
			conn.Close()
		}
		require.Error(t, err, "the program has exited: nothing may be listening")
	})
}
