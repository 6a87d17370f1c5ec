package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Stage0's weakness: it has no network at all. While it runs, it holds no socket:
// nobody but the person at its keyboard can talk to it. (Linux shows a process's
// open files in /proc/PID/fd; a socket there reads "socket:[...]".)
func TestHazardNoNetwork(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("this test reads /proc, which only Linux has")
	}
	cmd := exec.Command(program(t))
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	lines := bufio.NewReader(out)
	_, err = io.WriteString(in, "are you there?\n")
	require.NoError(t, err)
	readLines(t, lines, "Connected", "are you there?") // it is up and answering

	fds, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "fd"))
	require.NoError(t, err)
	require.NotEmpty(t, fds)
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "fd", fd.Name()))
		if err != nil {
			continue // closed while we looked
		}
		require.False(t, strings.HasPrefix(target, "socket:"), "file descriptor %s is a socket", fd.Name())
	}

	require.NoError(t, in.Close()) // Ctrl+D
	readLines(t, lines, "Disconnected")
	require.NoError(t, cmd.Wait())
}
