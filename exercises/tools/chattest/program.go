package chattest

import (
	"bufio"
	"fmt"
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

// build is the program of the package under test, built once for all its tests.
var build struct {
	once sync.Once
	dir  string // removed by Main
	path string // the executable
	err  error
}

// Program builds the package under test (the folder go test runs in) once, and
// returns the path of the executable. It is named after the folder, as go run and
// go build name it, so the program says "stage3: ..." as it does for a learner.
// Main removes it when the tests are over.
func Program(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		if build.dir, build.err = os.MkdirTemp("", "chatbook-"); build.err != nil {
			return
		}
		build.path, build.err = goBuild(build.dir)
	})
	require.NoError(t, build.err, "go build")
	return build.path
}

// Build builds the package under test as Program does, but for this test alone,
// in a folder removed when the test ends: for packages whose TestMain is not Main.
func Build(t *testing.T) string {
	t.Helper()
	path, err := goBuild(t.TempDir())
	require.NoError(t, err, "go build")
	return path
}

// goBuild builds the package in the working folder into dir, and returns the
// path of the executable.
func goBuild(dir string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, filepath.Base(wd))
	if runtime.GOOS == "windows" {
		path += ".exe"
	}
	if out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v:\n%s", err, out)
	}
	return path, nil
}

// Process is the program running, with its standard error read a line at a time.
type Process struct {
	Cmd    *exec.Cmd
	stderr chan string // closed when the program has ended
	exited chan error  // then receives the result of Cmd.Wait
}

// Run starts the program with args, and kills it, if it is still running, when
// the test ends.
func Run(t *testing.T, args ...string) *Process {
	t.Helper()
	return RunFile(t, Program(t), args...)
}

// RunFile is Run for the executable at path.
func RunFile(t *testing.T, path string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(path, args...)
	errPipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &Process{Cmd: cmd, stderr: make(chan string, 1000), exited: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			p.stderr <- sc.Text()
		}
		close(p.stderr)
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		for range p.stderr {
		}
	})
	return p
}

// Listening runs the program on a free port of 127.0.0.1 and returns the address
// it says it listens on.
func Listening(t *testing.T) (*Process, string) {
	t.Helper()
	p := Run(t, "-addr", "127.0.0.1:0")
	return p, lastWord(p.Expect(t, "listening on "))
}

// Line returns the next line of standard error.
func (p *Process) Line(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-p.stderr:
		require.True(t, ok, "the program ended while the test waited for a line")
		return line
	case <-time.After(Wait):
		t.Fatal("the program printed no line in time")
		return ""
	}
}

// Expect waits for a line of standard error that contains want, and returns it.
// The lines before it are skipped.
func (p *Process) Expect(t *testing.T, want string) string {
	t.Helper()
	deadline := time.After(Wait)
	for {
		select {
		case line, ok := <-p.stderr:
			require.True(t, ok, "the program ended before it said %q", want)
			if strings.Contains(line, want) {
				return line
			}
		case <-deadline:
			t.Fatalf("the program never said %q", want)
		}
	}
}

// Connected waits until the program logs that a client connected, and returns
// that client's address: the name the chat gives it.
func (p *Process) Connected(t *testing.T) string {
	t.Helper()
	return lastWord(p.Expect(t, "Connected "))
}

// End waits for the program to end by itself, and returns its exit code and the
// lines of standard error that nobody has read yet.
func (p *Process) End(t *testing.T) (code int, stderr []string) {
	t.Helper()
	var err error
	select {
	case err = <-p.exited: // sent after stderr is closed, so the loop below ends
	case <-time.After(Wait):
		t.Fatal("the program did not end")
	}
	for line := range p.stderr {
		stderr = append(stderr, line)
	}
	if err == nil {
		return 0, stderr
	}
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	return exit.ExitCode(), stderr
}

func lastWord(line string) string { return line[strings.LastIndex(line, " ")+1:] }

// PortInUse checks that the program, asked to listen on a port already taken,
// exits with code 1 and one line that names the program and the address.
func PortInUse(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	code, stderr := Run(t, "-addr", l.Addr().String()).End(t)
	require.Equal(t, 1, code)
	require.Len(t, stderr, 1, "one line says what went wrong")
	// Then come the system's words: address already in use.
	require.Contains(t, stderr[0], programName(t)+": listen tcp "+l.Addr().String())
}

// WrongFlag checks that the program meets a flag it does not know, or an
// argument it does not take, with exit code 2, a line that says so, and its usage.
func WrongFlag(t *testing.T) {
	t.Helper()
	code, stderr := Run(t, "-port", "8888").End(t)
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "flag provided but not defined: -port")
	require.Contains(t, stderr, "  -addr host:port", "the usage lists -addr")

	code, stderr = Run(t, "8888").End(t)
	require.Equal(t, 2, code)
	require.Equal(t, programName(t)+`: unexpected argument "8888"`, stderr[0])
	require.Contains(t, stderr, "  -addr host:port", "the usage lists -addr")
}

// programName is the name the program gives itself: its folder's, as Program builds it.
func programName(t *testing.T) string {
	t.Helper()
	return strings.TrimSuffix(filepath.Base(Program(t)), ".exe")
}
