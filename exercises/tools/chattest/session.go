package chattest

import (
	"bufio"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Session is a program running as if in a terminal of its own: what the test
// types goes to its standard input, and what it prints comes back a line at a
// time. It is how the tests drive nc and telnet, as a learner does.
type Session struct {
	name   string // for messages: "nc", "telnet"
	cmd    *exec.Cmd
	in     io.WriteCloser
	lines  chan string   // standard output, a line at a time; closed at its end
	stderr *SyncBuffer   // for messages
	done   chan struct{} // closed when the program has ended
	err    error         // what cmd.Wait returned
	quit   sync.Once
}

// Command starts path with args in a Session, and kills it, if it is still
// running, when the test ends.
func Command(t *testing.T, path string, args ...string) *Session {
	t.Helper()
	s := &Session{
		name:   path[strings.LastIndexAny(path, `/\`)+1:],
		cmd:    exec.Command(path, args...),
		lines:  make(chan string, 1000),
		stderr: &SyncBuffer{},
		done:   make(chan struct{}),
	}
	var err error
	s.in, err = s.cmd.StdinPipe()
	require.NoError(t, err)
	out, err := s.cmd.StdoutPipe()
	require.NoError(t, err)
	s.cmd.Stderr = s.stderr
	require.NoError(t, s.cmd.Start())
	go func() {
		// Lines keep their \r, if they have one: a test of line endings must see it.
		r := bufio.NewReader(out)
		for {
			line, err := r.ReadString('\n')
			if line != "" {
				s.lines <- strings.TrimSuffix(line, "\n")
			}
			if err != nil {
				break
			}
		}
		close(s.lines)
		s.err = s.cmd.Wait() // only after the last read from out, as exec requires
		close(s.done)
	}()
	t.Cleanup(func() { s.Quit(t) })
	return s
}

// Netcat starts nc connected to addr, or skips the test if there is no nc.
//
// There are several netcats, and they differ: OpenBSD's (Debian's netcat-openbsd),
// the traditional one (netcat-traditional), nmap's ncat, busybox's nc. Their
// options differ too (-N, -q, -c), and so does what they do when their input
// ends: some close the connection, some close only their half of it, some wait.
// So the tests use only what they all do: `nc HOST PORT` sends what is typed,
// prints what arrives, and the learner leaves with Ctrl+C (Quit).
func Netcat(t *testing.T, addr string) *Session {
	t.Helper()
	nc, err := exec.LookPath("nc")
	if err != nil {
		if nc, err = exec.LookPath("ncat"); err != nil {
			t.Skip("nc (netcat) is not installed; on Debian or Ubuntu: apt-get install netcat-openbsd")
		}
	}
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	return Command(t, nc, host, port)
}

// Telnet starts telnet connected to addr, or skips the test if there is no telnet.
// Its input is a pipe, not a terminal; it still sends each line with \r\n.
func Telnet(t *testing.T, addr string) *Session {
	t.Helper()
	telnet, err := exec.LookPath("telnet")
	if err != nil {
		t.Skip("telnet is not installed; on Debian or Ubuntu: apt-get install telnet")
	}
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	return Command(t, telnet, host, port)
}

// Pid is the process's id.
func (s *Session) Pid() int { return s.cmd.Process.Pid }

// Type types line and presses Enter.
func (s *Session) Type(t *testing.T, line string) {
	t.Helper()
	_, err := io.WriteString(s.in, line+"\n")
	require.NoError(t, err, "%s no longer reads its input (it said: %s)", s.name, s.stderr)
}

// Next returns the next line the program prints, without its \n.
func (s *Session) Next(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-s.lines:
		require.True(t, ok, "%s ended while the test waited for a line (it said: %s)", s.name, s.stderr)
		return line
	case <-time.After(Wait):
		t.Fatalf("%s printed no line in %v", s.name, Wait)
		return ""
	}
}

// Await skips the lines the program prints until it prints want: telnet, for
// one, first says where it connects.
func (s *Session) Await(t *testing.T, want string) {
	t.Helper()
	var skipped []string
	deadline := time.After(Wait)
	for {
		select {
		case line, ok := <-s.lines:
			require.True(t, ok, "%s ended before it printed %q; it printed %q (and said: %s)", s.name, want, skipped, s.stderr)
			if line == want {
				return
			}
			skipped = append(skipped, line)
		case <-deadline:
			t.Fatalf("%s never printed %q; it printed %q", s.name, want, skipped)
		}
	}
}

// EndInput closes the program's standard input, as Ctrl+D does in a terminal.
func (s *Session) EndInput(t *testing.T) {
	t.Helper()
	require.NoError(t, s.in.Close())
}

// Wait waits for the program to end by itself, and returns what exec's Wait says.
func (s *Session) Wait(t *testing.T) error {
	t.Helper()
	select {
	case <-s.done:
		return s.err
	case <-time.After(Wait):
		t.Fatalf("%s did not end", s.name)
		return nil
	}
}

// Quit stops the program, as Ctrl+C does, and waits until it has ended. A
// netcat that quits closes its connection: the server sees its client leave.
func (s *Session) Quit(t *testing.T) {
	t.Helper()
	s.quit.Do(func() {
		s.cmd.Process.Kill() // an error if it has ended already: that is fine
		for range s.lines {  // unblocks the reader, which then waits for the process
		}
		<-s.done
	})
}
