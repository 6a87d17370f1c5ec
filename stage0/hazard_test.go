package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

// Stage0's weakness: it has no network at all. While it runs, it holds no socket:
// nobody but the person at its keyboard can talk to it. (Linux shows a process's
// open files in /proc/PID/fd; a socket there reads "socket:[...]".)
func TestHazardNoNetwork(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("this test reads /proc, which only Linux has")
	}
	keyboard := chattest.Command(t, chattest.Program(t))
	keyboard.Type(t, "are you there?")
	require.Equal(t, "Connected", keyboard.Next(t))
	require.Equal(t, "are you there?", keyboard.Next(t)) // it is up and answering

	fdDir := filepath.Join("/proc", strconv.Itoa(keyboard.Pid()), "fd")
	fds, err := os.ReadDir(fdDir)
	require.NoError(t, err)
	require.NotEmpty(t, fds)
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
		if err != nil {
			continue // closed while we looked
		}
		require.False(t, strings.HasPrefix(target, "socket:"), "file descriptor %s is a socket", fd.Name())
	}

	keyboard.EndInput(t) // Ctrl+D
	require.Equal(t, "Disconnected", keyboard.Next(t))
	require.NoError(t, keyboard.Wait(t))
}
