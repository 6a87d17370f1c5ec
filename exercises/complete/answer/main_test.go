package main

// The program itself: flags, and a clean exit on SIGTERM and Ctrl+C.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// program is the chat program running as a process of its own.
type program struct {
	cmd  *exec.Cmd
	addr string
	log  chan string // its log, line by line; closed when it has exited
}

// startProgram runs this test binary as the chat program (see TestMain) with
// the flags args, on a fresh port of 127.0.0.1.
func startProgram(t *testing.T, args ...string) *program {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	p := &program{cmd: exec.Command(exe), log: make(chan string, 10000)}
	args = append([]string{"-addr", "127.0.0.1:0"}, args...)
	p.cmd.Env = append(os.Environ(), serverArgs+"="+strings.Join(args, " "), noExitSleep())
	_, err = p.cmd.StdinPipe() // if the test dies, the program sees its stdin close
	require.NoError(t, err)
	stderr, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go func() {
		defer close(p.log)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case p.log <- sc.Text():
			default: // nobody reads it any more
			}
		}
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		for range p.log {
		}
		p.cmd.Wait()
	})
	timeout := time.After(wait)
	for p.addr == "" {
		select {
		case line, ok := <-p.log:
			require.True(t, ok, "the program ended before it listened")
			_, p.addr, _ = strings.Cut(line, "listening on ")
		case <-timeout:
			t.Fatal("the program did not say `listening on ADDR` in time")
		}
	}
	return p
}

// noExitSleep is the environment setting that spares the program the second
// the race detector waits, when the program was built with -race and exits
// with status 0, for goroutines that might still race. The program's have all
// ended by then (Shutdown waited for them), and a race found earlier still
// makes it exit with status 66.
func noExitSleep() string {
	return "GORACE=" + os.Getenv("GORACE") + " atexit_sleep_ms=0"
}

// stop sends sig and requires the program to exit with status 0 within bound.
func (p *program) stop(t *testing.T, sig os.Signal, bound time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	require.NoError(t, p.cmd.Process.Signal(sig))
	var log []string
	timeout := time.After(bound)
	for done := false; !done; {
		select {
		case line, ok := <-p.log:
			log = append(log, line)
			done = !ok
		case <-timeout:
			t.Fatalf("the program was still running %v after %v", bound, sig)
		}
	}
	err := p.cmd.Wait()
	took := time.Since(start)
	require.NoError(t, err, "the program must exit with status 0; its log:\n%s", strings.Join(log, "\n"))
	return took
}

// SIGTERM with 20 clients that never read and 200 that do: the program exits
// with status 0 within its -shutdown-timeout, and every live client's last line
// is the notice.
func TestSIGTERMWithManyStuckClients(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("a test cannot send SIGTERM to a program on Windows")
	}
	p := startProgram(t, "-max-per-addr", "1000", "-write-timeout", "1m", "-shutdown-timeout", "3s")
	flooder := join(t, p.addr)
	for range 20 {
		stuckClient(t, p.addr)
	}
	flood(t, flooder, 8<<20, 4000) // far more than the stuck clients' kernel buffers hold
	flooder.send(t, "/name flooder")
	for line := ""; line != "You are now flooder"; { // the flood is all in the queue
		var err error
		line, err = flooder.read()
		require.NoError(t, err)
	}
	live := make([]*user, 200)
	var wg sync.WaitGroup
	for i := range live {
		spawn(&wg, func() {
			c, err := dial(p.addr)
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(func() { c.conn.Close() })
			live[i] = c
		})
	}
	wg.Wait()
	require.False(t, t.Failed())
	errs := make(chan error, len(live))
	for _, c := range live {
		go func() {
			lines, err := c.rest(2 * wait)
			if err == nil && last(lines) != goodbye {
				err = fmt.Errorf("%s's last line is %.60q", c.name, last(lines))
			}
			errs <- err
		}()
	}

	took := p.stop(t, syscall.SIGTERM, 3*time.Second+wait)
	t.Logf("the program exited %v after SIGTERM", took.Round(time.Millisecond))
	for range live {
		require.NoError(t, <-errs)
	}
}

// Ctrl+C stops it the same way.
func TestCtrlC(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("a test cannot send Ctrl+C to a program on Windows")
	}
	p := startProgram(t)
	a, b := join(t, p.addr), join(t, p.addr)
	p.stop(t, os.Interrupt, wait)
	for _, c := range []*user{a, b} {
		lines, err := c.rest(wait)
		require.NoError(t, err)
		require.Equal(t, goodbye, last(lines))
	}
}

// A wrong flag: a clear message and status 2.
func TestProgramRefusesBadFlags(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), serverArgs+"=-max-line 0")
	_, err = cmd.StdinPipe() // stdin open: the program must end by itself
	require.NoError(t, err)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the program must fail; it said:\n%s", out)
	require.Equal(t, 2, exit.ExitCode())
	require.Contains(t, string(out), "-max-line")
}
