package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// These tests build the real program and talk to it as a learner would.

var (
	binDir    string // removed by TestMain
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// program builds this program once and returns the path of the executable.
func program(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "chatbook-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "hub")
		if runtime.GOOS == "windows" {
			binPath += ".exe"
		}
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	require.NoError(t, buildErr, "go build: %s", binPath)
	return binPath
}

// running is the program started with some arguments.
type running struct {
	cmd    *exec.Cmd
	stderr chan string // its standard error, a line at a time; closed when it ends
	exited chan error  // receives the result of cmd.Wait
}

// run starts the program and kills it, if it is still running, when the test ends.
func run(t *testing.T, args ...string) *running {
	t.Helper()
	cmd := exec.Command(program(t), args...)
	errPipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	r := &running{cmd: cmd, stderr: make(chan string, 1000), exited: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			r.stderr <- sc.Text()
		}
		close(r.stderr)
		r.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		for range r.stderr {
		}
	})
	return r
}

// expect waits for a line of standard error that contains want, and returns it.
func (r *running) expect(t *testing.T, want string) string {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case line, ok := <-r.stderr:
			require.True(t, ok, "the program ended before it said %q", want)
			if strings.Contains(line, want) {
				return line
			}
		case <-deadline:
			t.Fatalf("the program never said %q", want)
		}
	}
}

// listening starts the program on a free port and returns the address it says it listens on.
func listening(t *testing.T) (*running, string) {
	r := run(t, "-addr", "127.0.0.1:0")
	line := r.expect(t, "listening on ")
	return r, line[strings.LastIndex(line, " ")+1:]
}

// end waits for the program to end by itself, and returns its exit code and the
// lines of standard error that nobody has read yet.
func (r *running) end(t *testing.T) (code int, stderr []string) {
	t.Helper()
	var err error
	select {
	case err = <-r.exited: // sent after stderr is closed, so the loop below ends
	case <-time.After(wait):
		t.Fatal("the program did not end")
	}
	for line := range r.stderr {
		stderr = append(stderr, line)
	}
	if err == nil {
		return 0, stderr
	}
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	return exit.ExitCode(), stderr
}

// netcatPath finds nc, or skips the test with a clear message.
func netcatPath(t *testing.T) string {
	t.Helper()
	nc, err := exec.LookPath("nc")
	if err != nil {
		t.Skip("nc (netcat) is not installed; on Debian or Ubuntu: apt-get install netcat-openbsd")
	}
	return nc
}

// netcat runs nc against addr with input on its standard input, and returns what nc printed.
// -N makes nc shut down its side when input ends, as a user pressing Ctrl+D would.
func netcat(t *testing.T, addr, input string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, netcatPath(t), "-N", host, port)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.Output()
	require.NoError(t, err, "nc: %s", out)
	return string(out)
}

// listener is an nc left running: a learner's second terminal, watching the chat.
type listener struct {
	in    io.WriteCloser // nc's standard input: closing it is Ctrl+D
	lines chan string    // what nc prints, a line at a time
}

func listenWithNetcat(t *testing.T, addr string) *listener {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*wait)
	cmd := exec.CommandContext(ctx, netcatPath(t), "-N", host, port)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	l := &listener{in: in, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			l.lines <- sc.Text()
		}
		close(l.lines)
	}()
	t.Cleanup(func() {
		in.Close()
		for range l.lines {
		}
		cmd.Wait()
		cancel()
	})
	return l
}

// expectLine waits for nc to print want.
func (l *listener) expectLine(t *testing.T, want string) {
	t.Helper()
	select {
	case got, ok := <-l.lines:
		require.True(t, ok, "nc ended before it printed %q", want)
		require.Equal(t, want, got)
	case <-time.After(wait):
		t.Fatalf("nc never printed %q", want)
	}
}

// Two terminals, as the README says: one nc watches, the other says something.
func TestProgramWithNetcat(t *testing.T) {
	r, addr := listening(t)
	watcher := listenWithNetcat(t, addr)
	r.expect(t, "Connected 127.0.0.1:") // the watcher is in the chat
	require.Equal(t, "", netcat(t, addr, "hello from nc\n"), "the sender does not get its own line back")
	line := r.expect(t, "Connected 127.0.0.1:")
	sender := line[strings.LastIndex(line, " ")+1:]
	watcher.expectLine(t, sender+": hello from nc")
	r.expect(t, "Disconnected "+sender)
}

// telnet sends \r\n line endings; the watcher gets the line without the \r.
func TestProgramWithTelnet(t *testing.T) {
	telnet, err := exec.LookPath("telnet")
	if err != nil {
		t.Skip("telnet is not installed; on Debian or Ubuntu: apt-get install telnet")
	}
	r, addr := listening(t)
	watcher := listenWithNetcat(t, addr)
	r.expect(t, "Connected 127.0.0.1:")

	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, telnet, host, port)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer cmd.Wait()
	defer in.Close() // telnet quits when its input ends

	line := r.expect(t, "Connected 127.0.0.1:")
	sender := line[strings.LastIndex(line, " ")+1:]
	_, err = io.WriteString(in, "hello from telnet\n")
	require.NoError(t, err)
	watcher.expectLine(t, sender+": hello from telnet")
}

func TestPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	code, stderr := run(t, "-addr", l.Addr().String()).end(t)
	require.Equal(t, 1, code)
	require.Len(t, stderr, 1, "one line says what went wrong")
	require.Contains(t, stderr[0], "listen tcp "+l.Addr().String()) // then the system's words: address already in use
}

func TestWrongFlag(t *testing.T) {
	code, stderr := run(t, "-port", "8888").end(t)
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "flag provided but not defined: -port")

	code, stderr = run(t, "8888").end(t)
	require.Equal(t, 2, code)
	require.Contains(t, stderr[0], `unexpected argument "8888"`)
}
