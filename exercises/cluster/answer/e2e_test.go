package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The end-to-end tests build the program and run copies of it as real processes,
// as a learner does in a few terminals.

var (
	buildOnce sync.Once
	buildDir  string // removed by TestMain
	binary    string // the built program
	buildErr  error
	buildOut  []byte
)

// program builds the program once for all the tests that need it.
func program(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "cluster-e2e")
		if buildErr != nil {
			return
		}
		binary = filepath.Join(buildDir, "cluster")
		buildOut, buildErr = exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	})
	require.NoError(t, buildErr, "building the program:\n%s", buildOut)
	return binary
}

// process is one running copy of a program, whose log we watch.
type process struct {
	cmd    *exec.Cmd
	lines  chan string   // its log (stderr), line by line; closed when it ends
	exited chan struct{} // closed when it has ended
	seen   []string      // the lines waitFor has taken from lines so far
}

// run starts bin with args, and stops it (SIGTERM, then SIGKILL) when the test ends.
func run(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &process{cmd: cmd, lines: make(chan string, 1000), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Logf("%s: %s", filepath.Base(bin), sc.Text())
			select {
			case p.lines <- sc.Text():
			default: // nobody is waiting for it: it is in the test's log anyway
			}
		}
		close(p.lines)
		cmd.Wait() // after the pipe is drained, as Wait requires
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// waitFor returns the first line of the log that contains s, or fails the test.
func (p *process) waitFor(t *testing.T, s string) string {
	t.Helper()
	for _, line := range p.seen {
		if strings.Contains(line, s) {
			return line
		}
	}
	timeout := time.After(patience)
	for {
		select {
		case line, ok := <-p.lines:
			require.True(t, ok, "%s ended without saying %q", p.cmd.Path, s)
			p.seen = append(p.seen, line)
			if strings.Contains(line, s) {
				return line
			}
		case <-timeout:
			t.Fatalf("%s did not say %q within %v", p.cmd.Path, s, patience)
		}
	}
}

// stop asks the process to end, as Ctrl+C would, and waits for it.
func (p *process) stop(t *testing.T) {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		// It has ended already, or this is Windows, which cannot send
		// SIGTERM: then there is nothing gentler than Kill.
		p.cmd.Process.Kill()
	}
	select {
	case <-p.exited:
	case <-time.After(patience):
		p.cmd.Process.Kill()
		t.Errorf("%s did not end within %v of SIGTERM", p.cmd.Path, patience)
		<-p.exited
	}
}

// startCopy runs the chat program with args, and returns it as a server of the
// room, once it says where it listens.
func startCopy(t *testing.T, name string, args ...string) (*process, *chatServer) {
	t.Helper()
	p := run(t, program(t), append([]string{"-addr", "127.0.0.1:0", "-name", name}, args...)...)
	line := p.waitFor(t, "listening on ")
	addr, _, _ := strings.Cut(strings.TrimPrefix(line[strings.Index(line, "listening on "):], "listening on "), " ")
	return p, &chatServer{name: name, addr: addr}
}

// TestThreeCopiesOnRealNATS runs a real nats-server and three copies of the
// program against it: one room.
func TestThreeCopiesOnRealNATS(t *testing.T) {
	natsServer, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("nats-server is not installed, so the test against a real broker is skipped " +
			"(apt-get install nats-server, or see https://docs.nats.io; .ci/run installs it)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0") // a free port for it
	require.NoError(t, err)
	l.Close()
	broker := run(t, natsServer, "-a", "127.0.0.1", "-p", fmt.Sprint(l.Addr().(*net.TCPAddr).Port))
	broker.waitFor(t, "Server is ready")
	url := "nats://" + l.Addr().String()

	var servers []*chatServer
	for _, name := range []string{"server-a", "server-b", "server-c"} {
		_, s := startCopy(t, name, "-nats", url)
		servers = append(servers, s)
	}
	chat(t, dialAll(t, servers, 2), 100)
}

// TestCopiesJoinTheFirst: the way the sheet runs it on one machine with nothing
// installed. The first copy starts NATS inside itself; two more join it. A copy
// started on a port in use says what to do.
func TestCopiesJoinTheFirst(t *testing.T) {
	first, a := startCopy(t, "server-a", "-nats-addr", "127.0.0.1:0")
	line := first.waitFor(t, "other copies join with -nats ")
	url := line[strings.LastIndex(line, " ")+1:]
	_, b := startCopy(t, "server-b", "-nats", url)
	_, c := startCopy(t, "server-c", "-nats", url)
	chat(t, dialAll(t, []*chatServer{a, b, c}, 2), 100)

	out, err := exec.Command(program(t), "-addr", a.addr, "-nats", url).CombinedOutput()
	require.Error(t, err, "a copy on a port in use must fail")
	require.Contains(t, string(out), "address already in use")
	require.Contains(t, string(out), "each copy needs a port of its own")
}
