package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startTied starts cmd tied to the test process. On Linux, the kernel sends cmd
// SIGKILL when the thread that started it ends (Pdeathsig): so if the test binary
// dies without running its cleanups, killed or timed out, chromedriver and
// Chromium die with it instead of running on, orphaned. Chromium's own children
// (zygotes, renderers, crash handler) end when it ends. The signal follows the
// thread, not the process, so the thread that starts cmd is kept, locked to this
// goroutine, until exited is closed. cmd also gets a process group of its own,
// which stopTied kills whole.
func startTied(cmd *exec.Cmd, exited <-chan struct{}) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	started := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			<-exited
		}
	}()
	return <-started
}

// stopTied asks cmd to stop (SIGTERM: Chromium then shuts down cleanly and
// leaves its profile folder free to remove), gives it up to wait, then kills its
// process group: cmd and whatever it started that is still there. It returns once
// exited is closed.
func stopTied(cmd *exec.Cmd, exited <-chan struct{}, wait time.Duration) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(wait):
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
}

// The test binary is killed (kill -9, so no cleanup runs) while it drives the
// browser: chromedriver, Chromium and everything they started must end with it.
// The test runs itself, in a child process, as the browser's owner.
func TestBrowserDiesWithTheTest(t *testing.T) {
	if os.Getenv("CHATBOOK_BROWSER_OWNER") == "1" {
		wd := startBrowser(t)
		wd.open(t, wd.firstWindow(t), "data:text/html,<p>killed soon</p>")
		fmt.Println("browser ready")
		select {} // until killed; -test.timeout ends it if nobody does
	}
	findBrowser(t) // skips here, as the owner would, where there is no browser
	owner := exec.Command(os.Args[0], "-test.run=^TestBrowserDiesWithTheTest$", "-test.v", "-test.timeout=60s")
	owner.Env = append(os.Environ(), "CHATBOOK_BROWSER_OWNER=1")
	out, err := owner.StdoutPipe()
	require.NoError(t, err)
	owner.Stderr = owner.Stdout
	require.NoError(t, owner.Start())
	defer owner.Process.Kill()
	ready := make(chan struct{})
	var said strings.Builder // read only after ready is closed or done is
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := bufio.NewScanner(out)
		for s.Scan() {
			said.WriteString(s.Text() + "\n")
			if s.Text() == "browser ready" {
				close(ready)
				io.Copy(io.Discard, out)
			}
		}
	}()
	select {
	case <-ready:
	case <-done:
		t.Fatalf("the test process ended before its browser was ready; it said:\n%s", said.String())
	case <-time.After(4 * webWait):
		t.Fatal("the test process's browser was not ready in time")
	}
	started := descendants(t, owner.Process.Pid)
	require.GreaterOrEqual(t, len(started), 2, "chromedriver and Chromium, at least")

	require.NoError(t, owner.Process.Signal(syscall.SIGKILL))
	owner.Wait()
	<-done
	var left []string
	if !until(func() bool {
		left = nil
		for pid, name := range started {
			if alive(pid) {
				left = append(left, fmt.Sprintf("%d (%s)", pid, name))
			}
		}
		return len(left) == 0
	}) {
		for _, p := range left { // leave nothing running, and say what was left
			var pid int
			fmt.Sscan(p, &pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
		t.Fatalf("the test process was killed, and %d of the %d processes it started run on: %s",
			len(left), len(started), strings.Join(left, ", "))
	}
}

// descendants returns the processes started by pid, and theirs, with their names,
// from /proc.
func descendants(t *testing.T, pid int) map[int]string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	parent := map[int]int{}
	name := map[int]string{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // it ended meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		var state string
		var ppid int
		if _, err := fmt.Sscan(s[i+1:], &state, &ppid); err == nil {
			parent[p], name[p] = ppid, s[strings.IndexByte(s, '(')+1:i]
		}
	}
	found := map[int]string{}
	for more := true; more; {
		more = false
		for p, pp := range parent {
			if _, seen := found[p]; !seen && (pp == pid || found[pp] != "") {
				found[p] = name[p]
				more = true
			}
		}
	}
	return found
}

// alive reports whether process pid is running: neither gone nor a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	var state string
	fmt.Sscan(s[strings.LastIndexByte(s, ')')+1:], &state)
	return state != "Z"
}
