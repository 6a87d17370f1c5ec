package main

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

// These tests build the real program and type into it as a learner would.

// runWith runs the program with input as its standard input, and returns what it
// printed on standard output and standard error, and its exit code.
func runWith(t *testing.T, input string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), chattest.Wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, chattest.Program(t), args...)
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
