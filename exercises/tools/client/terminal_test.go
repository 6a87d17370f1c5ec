package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests run the real program, built with `go build`: once with its
// output in a pipe, and once in a real terminal that tmux provides.

// buildClient builds this folder's program and returns the path of the binary.
func buildClient(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: cannot build the program")
	}
	bin := filepath.Join(t.TempDir(), "client")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

func TestProgramConnectionRefused(t *testing.T) {
	bin := buildClient(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var stdout, stderr syncBuffer
	cmd := exec.CommandContext(ctx, bin, "-addr", addr)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the program fails")
	assert.NotEqual(t, 0, exit.ExitCode())
	assert.Empty(t, stdout.String())
	assert.Regexp(t, `^client: [^\n]*`+regexp.QuoteMeta(addr)+`[^\n]*\n$`, stderr.String(), "one line that names the address")
}

// tmux drives a private tmux server: its own socket, no user configuration,
// so the tests never touch the sessions of whoever runs them.
type tmux struct{ sock string }

func newTmux(t *testing.T) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed: skipping the test in a real terminal (apt-get install tmux)")
	}
	tm := &tmux{sock: filepath.Join(t.TempDir(), "tmux.sock")}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		exec.CommandContext(ctx, "tmux", "-S", tm.sock, "kill-server").Run() // ends every session and its programs
	})
	return tm
}

// do runs one tmux command and returns its output.
func (tm *tmux) do(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tmux", append([]string{"-S", tm.sock, "-f", "/dev/null"}, args...)...)
	cmd.Env = append(os.Environ(), "SHELL=/bin/sh") // tmux runs commands with $SHELL: make it one start understands
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "tmux %v: %s", args, out)
	return string(out)
}

// start runs the client in a new session, in a terminal 100 columns wide. A
// shell around it prints the exit status and then keeps the terminal open, so
// the test can still read the screen after the client has gone. (The trap makes
// Ctrl+C reach the client without ending the shell as well.)
func (tm *tmux) start(t *testing.T, session, env, bin, addr string) {
	t.Helper()
	script := fmt.Sprintf(`trap : INT; %s '%s' -addr %s; echo "exit status $?"; exec sleep 60`, env, bin, addr)
	tm.do(t, "new-session", "-d", "-s", session, "-x", "100", "-y", "20", script)
}

// screen returns what the terminal shows, lines without their trailing spaces.
// With escapes, colours are included as escape codes.
func (tm *tmux) screen(t *testing.T, session string, escapes bool) []string {
	t.Helper()
	args := []string{"capture-pane", "-p", "-t", session}
	if escapes {
		args = append(args, "-e")
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(tm.do(t, args...), "\n"), "\n") {
		lines = append(lines, strings.TrimRight(l, " "))
	}
	return lines
}

// waitScreen waits until cond holds for the screen. It gives up at once if the
// program has ended and cond still does not hold.
func (tm *tmux) waitScreen(t *testing.T, session, what string, cond func(lines []string) bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(20 * time.Millisecond) // look again 50 times a second
	defer tick.Stop()
	for {
		lines := tm.screen(t, session, false)
		if cond(lines) {
			return
		}
		if time.Now().After(deadline) || exited(lines) {
			t.Fatalf("never saw %s; the screen was:\n%s", what, strings.Join(lines, "\n"))
		}
		<-tick.C
	}
}

// exited reports whether the shell around the program has printed its exit status.
func exited(lines []string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, "exit status ") {
			return true
		}
	}
	return false
}

// lastLine is the last line with something on it.
func lastLine(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i] != "" {
			return lines[i]
		}
	}
	return ""
}

func hasLine(want string) func([]string) bool {
	return func(lines []string) bool {
		for _, l := range lines {
			if l == want {
				return true
			}
		}
		return false
	}
}

func lineWith(lines []string, part string) string {
	for _, l := range lines {
		if strings.Contains(l, part) {
			return l
		}
	}
	return ""
}

// waitJoin waits until the program in session has connected to srv.
func (tm *tmux) waitJoin(t *testing.T, session string, srv *testServer) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		select {
		case <-srv.joined:
			return
		case <-time.After(20 * time.Millisecond):
		}
		if lines := tm.screen(t, session, false); time.Now().After(deadline) || exited(lines) {
			t.Fatalf("the program never connected; the screen was:\n%s", strings.Join(lines, "\n"))
		}
	}
}

func TestProgramInATerminal(t *testing.T) {
	tm := newTmux(t)
	bin := buildClient(t)
	promptShown := func(lines []string) bool { return lastLine(lines) == "[You]" }

	t.Run("colour, a half-typed line, Ctrl+D", func(t *testing.T) {
		srv := newTestServer(t, false)
		tm.start(t, "colour", "env -u NO_COLOR", bin, srv.addr)
		tm.waitJoin(t, "colour", srv)
		tm.waitScreen(t, "colour", "the prompt", promptShown)

		tm.do(t, "send-keys", "-t", "colour", "-l", "half")
		tm.waitScreen(t, "colour", "the half-typed line", func(l []string) bool { return lastLine(l) == "[You] half" })
		srv.say("alice: hello there")
		tm.waitScreen(t, "colour", "alice's line on a line of its own, then the prompt", func(l []string) bool {
			return hasLine("alice: hello there")(l) && promptShown(l)
		})
		colored := lineWith(tm.screen(t, "colour", true), "alice:")
		assert.Regexp(t, `\x1b\[[0-9;]*m.*alice:`, colored, "the name is coloured")

		// The rest of the line, then Enter: the server gets the whole line,
		// although the incoming line came in the middle of it.
		tm.do(t, "send-keys", "-t", "colour", "-l", " done")
		tm.do(t, "send-keys", "-t", "colour", "Enter")
		assert.Equal(t, "half done\n", srv.nextLine(t))

		tm.do(t, "send-keys", "-t", "colour", "C-d")
		tm.waitScreen(t, "colour", "a clean exit", hasLine("exit status 0"))
		screen := tm.screen(t, "colour", false)
		assert.True(t, hasLine("bye")(screen), "a short goodbye")
		t.Logf("the screen:\n%s", strings.Join(screen, "\n"))
	})

	t.Run("NO_COLOR, the server hangs up", func(t *testing.T) {
		srv := newTestServer(t, false)
		tm.start(t, "nocolor", "env NO_COLOR=1", bin, srv.addr)
		tm.waitJoin(t, "nocolor", srv)
		tm.waitScreen(t, "nocolor", "the prompt", promptShown)

		srv.say("alice: plain please")
		tm.waitScreen(t, "nocolor", "alice's line", hasLine("alice: plain please"))
		plain := lineWith(tm.screen(t, "nocolor", true), "alice:")
		assert.NotContains(t, plain, "\x1b[", "NO_COLOR: no colour")

		srv.hangUp()
		tm.waitScreen(t, "nocolor", "a clean exit", hasLine("exit status 0"))
		screen := tm.screen(t, "nocolor", false)
		assert.True(t, hasLine("server closed the connection")(screen))
		t.Logf("the screen:\n%s", strings.Join(screen, "\n"))
	})

	t.Run("Ctrl+C", func(t *testing.T) {
		srv := newTestServer(t, false)
		tm.start(t, "ctrlc", "", bin, srv.addr)
		tm.waitJoin(t, "ctrlc", srv)
		tm.waitScreen(t, "ctrlc", "the prompt", promptShown)

		tm.do(t, "send-keys", "-t", "ctrlc", "C-c")
		tm.waitScreen(t, "ctrlc", "a clean exit", hasLine("exit status 0"))
		screen := tm.screen(t, "ctrlc", false)
		assert.True(t, hasLine("bye")(screen), "a short goodbye")
		t.Logf("the screen:\n%s", strings.Join(screen, "\n"))
		select {
		case <-srv.left:
		case <-time.After(wait):
			t.Fatal("the server never saw the client leave")
		}
	})
}
