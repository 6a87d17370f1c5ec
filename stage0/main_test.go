package main

import (
	"bufio"
	"context"
	"errors"
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

// These tests build the real program and type into it as a learner would.

// wait bounds every wait in these tests: long enough for a busy machine,
// short enough that a broken program fails the test instead of hanging it.
const wait = 5 * time.Second

var (
	binDir    string // removed by TestMain
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// program builds this stage once and returns the path of the executable.
func program(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "chatbook-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "stage")
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

// runWith runs the program with input as its standard input, and returns what it
// printed on standard output and standard error, and its exit code.
func runWith(t *testing.T, input string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, program(t), args...)
	cmd.Stdin = strings.NewReader(input)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), errOut.String(), exit.ExitCode()
	}
	require.NoError(t, err)
	return out.String(), errOut.String(), 0
}

func TestProgram(t *testing.T) {
	stdout, stderr, code := runWith(t, "hello\nfrom the keyboard\n\n")
	require.Equal(t, "Connected\nhello\nfrom the keyboard\nDisconnected\n", stdout)
	require.Empty(t, stderr)
	require.Equal(t, 0, code)
}

func TestProgramLongLine(t *testing.T) {
	stdout, stderr, code := runWith(t, strings.Repeat("y", maxLine+1)+"\n")
	require.Equal(t, "Connected\nDisconnected\n", stdout)
	require.Equal(t, "stage0: line too long (the limit is 65536 bytes, newline included)\n", stderr)
	require.Equal(t, 1, code)
}

func TestWrongFlag(t *testing.T) {
	_, stderr, code := runWith(t, "", "-addr", "localhost:8888")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "flag provided but not defined: -addr", "stage0 has no network, so no -addr")

	_, stderr, code = runWith(t, "", "hello")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `unexpected argument "hello"`)
}

// readLines reads the next lines from br and checks they are want.
func readLines(t *testing.T, br *bufio.Reader, want ...string) {
	t.Helper()
	got := make(chan []string, 1)
	go func() { // a goroutine, so that a silent program cannot hang the test
		var lines []string
		for range want {
			line, err := br.ReadString('\n')
			if err != nil {
				break
			}
			lines = append(lines, strings.TrimSuffix(line, "\n"))
		}
		got <- lines
	}()
	select {
	case lines := <-got:
		require.Equal(t, want, lines)
	case <-time.After(wait):
		t.Fatalf("the program did not print %q", want)
	}
}
