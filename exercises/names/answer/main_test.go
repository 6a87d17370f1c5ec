package main

import (
	"bufio"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// build compiles the program in this folder, as a learner would run it, and
// returns the path of the binary.
func build(t *testing.T) string {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: cannot build the program")
	}
	bin := filepath.Join(t.TempDir(), "chat")
	out, err := exec.Command(gocmd, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)
	return bin
}

// lines reads r in a goroutine and passes on each line without its ending. The
// channel is closed when r ends, so a test can wait for the goroutine to finish.
func lines(r io.Reader) chan string {
	ch := make(chan string, 100)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}

// next returns the next line from ch, failing the test if none comes in time.
func next(t *testing.T, ch chan string, who string) string {
	t.Helper()
	select {
	case line, ok := <-ch:
		require.True(t, ok, "%s ended while the test waited for a line", who)
		return line
	case <-time.After(wait):
		require.FailNow(t, "timed out waiting for a line from "+who)
		return ""
	}
}

// process is a program started by a test, with its output read line by line.
type process struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   chan string // the lines of stdout, or of stderr for the server
}

// start runs name with args; the test reads the lines of stdout, or of stderr
// when stderr is true. When the test ends the process is killed, its reader
// goroutine is waited for, and then the process itself.
func start(t *testing.T, stderr bool, name string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(name, args...)}
	var err error
	p.stdin, err = p.cmd.StdinPipe()
	require.NoError(t, err)
	var out io.Reader
	if stderr {
		out, err = p.cmd.StderrPipe()
	} else {
		out, err = p.cmd.StdoutPipe()
	}
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	p.out = lines(out)
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		for range p.out { // the pipe ends once the process is gone
		}
		p.cmd.Wait()
	})
	return p
}

// say types line into the process's standard input.
func (p *process) say(t *testing.T, line string) {
	t.Helper()
	_, err := io.WriteString(p.stdin, line+"\n")
	require.NoError(t, err)
}

var listening = regexp.MustCompile(`listening on (\S+)$`)

// The whole program, run as a learner runs it, with two real nc clients.
func TestWithNetcat(t *testing.T) {
	nc, err := exec.LookPath("nc")
	if err != nil {
		t.Skip("nc (netcat) is not installed: install it to run this test")
	}
	bin := build(t)
	srv := start(t, true, bin, "-addr", "127.0.0.1:0")
	m := listening.FindStringSubmatch(next(t, srv.out, "the server"))
	require.NotNil(t, m, "the server's first line on stderr must be `listening on ADDR`")
	host, port, err := net.SplitHostPort(m[1])
	require.NoError(t, err)

	ann := start(t, false, nc, host, port)
	w := welcome.FindStringSubmatch(next(t, ann.out, "nc 1"))
	require.NotNil(t, w, "nc 1 was not welcomed")
	bob := start(t, false, nc, host, port)
	w2 := welcome.FindStringSubmatch(next(t, bob.out, "nc 2"))
	require.NotNil(t, w2, "nc 2 was not welcomed")
	annName, bobName := w[1], w2[1]
	require.NotEqual(t, annName, bobName)

	ann.say(t, "hello bob")
	require.Equal(t, annName+": hello bob", next(t, bob.out, "nc 2"))

	ann.say(t, "/name ann")
	require.Equal(t, "You are now ann", next(t, ann.out, "nc 1"))
	require.Equal(t, annName+" is now ann", next(t, bob.out, "nc 2"))

	bob.say(t, "/name ann")
	require.Regexp(t, `^error: .*taken`, next(t, bob.out, "nc 2"))
	bob.say(t, "hi ann")
	require.Equal(t, bobName+": hi ann", next(t, ann.out, "nc 1"))
}
