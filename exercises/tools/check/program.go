package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"chatbook/exercises/tools/internal/toolchain"
)

// failure is a check that did not pass: what the checker saw, and what a learner
// can do about it. It is an error so that helpers can return it up to the check.
type failure struct {
	saw string // one sentence: what happened
	fix string // one sentence: what to change (empty when there is nothing better to say)
	// notChecked says the property could not be checked on this machine (the race
	// row, when this Go cannot build with -race): it neither passed nor failed.
	notChecked bool
}

func (f *failure) Error() string { return f.saw }

func fail(fix, format string, args ...any) *failure {
	return &failure{saw: fmt.Sprintf(format, args...), fix: fix}
}

// build is one executable of the program under test, built once per checker.
type build struct {
	once sync.Once
	path string
	err  error
}

// binary builds the program in dir (with the race detector if race is set) and
// returns the executable's path. Each program is built once, however many checks use it.
func (c *checker) binary(dir string, race bool) (string, error) {
	key := fmt.Sprintf("%s|%v", dir, race)
	c.mu.Lock()
	b := c.builds[key]
	if b == nil {
		b = &build{}
		c.builds[key] = b
	}
	n := len(c.builds)
	c.mu.Unlock()

	b.once.Do(func() {
		if race {
			// Build it plainly first: when that works and only -race fails, the
			// cause is this machine's Go, never the learner's code.
			if _, b.err = c.binary(dir, false); b.err != nil {
				return
			}
		}
		c.buildSem <- struct{}{}
		defer func() { <-c.buildSem }()
		name := fmt.Sprintf("prog%d", n)
		args := []string{"build", "-o"}
		if race {
			name += "-race"
			args = []string{"build", "-race", "-o"}
		}
		if runtime.GOOS == "windows" {
			name += ".exe"
		}
		b.path = filepath.Join(c.tmp, name)
		cmd := exec.CommandContext(c.ctx, "go", append(args, b.path, ".")...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		switch {
		case err == nil:
		case race && c.ctx.Err() == nil:
			b.err = raceUnavailable(c.ctx, string(out))
		default:
			b.err = buildFailure(dir, race, string(out), err)
		}
	})
	return b.path, b.err
}

// buildFailure keeps the compiler's first lines: the first error is the one to fix.
func buildFailure(dir string, race bool, out string, err error) *failure {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) > 10 {
		lines = append(lines[:10], "...")
	}
	if strings.TrimSpace(out) == "" {
		lines = []string{err.Error()}
	}
	how := "go build"
	if race {
		how = "go build -race"
	}
	return fail("fix the first error the compiler names, then run the checker again",
		"%s does not build (%s):\n    %s", dir, how, strings.Join(lines, "\n    "))
}

// raceUnavailable explains a program that builds, but not with -race: this Go
// cannot build with -race, and the learner is told what to install.
func raceUnavailable(ctx context.Context, out string) *failure {
	env, err := toolchain.GoEnv(ctx)
	if err != nil {
		return fail("", "not checked: go build -race failed, and %v", err)
	}
	r := toolchain.Explain(env, out)
	return &failure{notChecked: true, saw: "not checked: " + r.Problem(), fix: r.Fix}
}

// proc is one run of the program under test.
type proc struct {
	cmd    *exec.Cmd
	out    *transcript   // what it wrote to stderr (and to stdout, for a server)
	exited chan struct{} // closed when it has ended and all its output is in out
	state  *os.ProcessState
	ours   atomic.Bool // set by stop: it ended because the checker ended it
	addr   string      // for a server: the address given by -addr

	mu      sync.Mutex
	clients []*client // closed by stop
}

// launch starts bin. Its stdout goes to stdout, or to p.out when stdout is nil.
// With withStdin, the returned writer is its standard input.
func launch(ctx context.Context, bin string, args, env []string, stdout *transcript, withStdin bool) (*proc, io.WriteCloser, error) {
	p := &proc{out: newTranscript(), exited: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, bin, args...) // the context kills it on Ctrl+C or a check's time limit
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = p.out
	p.cmd.Stdout = p.out
	if stdout != nil {
		p.cmd.Stdout = stdout
	}
	p.cmd.WaitDelay = time.Second // do not wait long for output after it has ended
	var stdin io.WriteCloser
	if withStdin {
		var err error
		if stdin, err = p.cmd.StdinPipe(); err != nil {
			return nil, nil, err
		}
	}
	if err := p.cmd.Start(); err != nil {
		return nil, nil, fail("", "could not start it: %v", err)
	}
	go func() {
		p.cmd.Wait()
		p.state = p.cmd.ProcessState
		p.out.finish(io.EOF)
		if stdout != nil {
			stdout.finish(io.EOF)
		}
		close(p.exited)
	}()
	return p, stdin, nil
}

// ended reports whether the program has ended.
func (p *proc) ended() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// stop ends the program (if it still runs) and every client's connection. Nothing
// the checker started outlives it.
func (p *proc) stop() {
	p.ours.Store(true)
	if !p.ended() {
		p.cmd.Process.Kill()
	}
	<-p.exited
	p.mu.Lock()
	clients := p.clients
	p.clients = nil
	p.mu.Unlock()
	for _, c := range clients {
		c.close()
	}
}

// dial connects a new client to the server.
func (p *proc) dial(name string) (*client, error) {
	conn, err := net.DialTimeout("tcp", p.addr, answerWait)
	if err != nil {
		return nil, err
	}
	return p.adopt(newClient(name, conn)), nil
}

func (p *proc) adopt(c *client) *client {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clients = append(p.clients, c)
	return c
}

// crash returns the line that says why the program died ("panic: ..."), if any.
func (p *proc) crash() string {
	for _, l := range p.out.lines() {
		if strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:") {
			return l
		}
	}
	return ""
}

// endNote says how the program ended, when it ended by itself during a check.
func (p *proc) endNote() string {
	if !p.ended() || p.ours.Load() {
		return ""
	}
	note := fmt.Sprintf("the program ended during the check (exit status %d)", p.state.ExitCode())
	if why := p.crash(); why != "" {
		note += ": " + why
	}
	return note
}

// startServer starts bin with -addr on a free port of 127.0.0.1 and waits until it
// accepts a connection. That first connection is not wasted: it is returned as
// client A, because a stage1 server serves only one client in its whole life.
func (c *checker) startServer(ctx context.Context, bin string, env []string) (*proc, *client, error) {
	for attempt := 1; ; attempt++ {
		port, err := c.freePort()
		if err != nil {
			return nil, nil, err
		}
		p, _, err := launch(ctx, bin, []string{"-addr", net.JoinHostPort("127.0.0.1", port)}, env, nil, false)
		if err != nil {
			return nil, nil, err
		}
		if c.onLaunch != nil {
			c.onLaunch(p)
		}
		p.addr = net.JoinHostPort("127.0.0.1", port)
		first, err := p.awaitFirstClient(ctx, c.startup)
		if err == nil {
			return p, first, nil
		}
		p.stop()
		if attempt < 3 && strings.Contains(p.out.tail(5), p.addr+": bind: address already in use") {
			continue // another program took the port between our look and its listen: take another
		}
		return nil, nil, err
	}
}

// freePort asks the system for a port nobody listens on, and never hands out the
// same one twice in one run.
func (c *checker) freePort() (string, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fail("", "cannot find a free port on 127.0.0.1: %v", err)
		}
		_, port, _ := net.SplitHostPort(l.Addr().String())
		l.Close()
		c.mu.Lock()
		used := c.ports[port]
		c.ports[port] = true
		c.mu.Unlock()
		if !used {
			return port, nil
		}
	}
	return "", fail("", "cannot find a free port on 127.0.0.1")
}

// awaitFirstClient dials until the program accepts, it ends, it says it listens
// somewhere else, or the bound passes.
func (p *proc) awaitFirstClient(ctx context.Context, bound time.Duration) (*client, error) {
	deadline := time.Now().Add(bound)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if other := p.listensElsewhere(); other != "" {
			return nil, ignoresAddr(other)
		}
		conn, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			return p.adopt(newClient("A", conn)), nil
		}
		if time.Now().After(deadline) {
			return nil, fail("listen on the address given by -addr and log \"listening on ADDR\"; run it by hand to see where it waits",
				"nothing accepted a connection on 127.0.0.1 at the port -addr gave within %v; the program said: %s", bound, p.out.tail(3))
		}
		select {
		case <-p.exited:
			return nil, p.endedEarly()
		case <-ctx.Done():
			return nil, fail("", "stopped: %v", ctx.Err())
		case <-tick.C:
		}
	}
}

// ignoresAddr explains a program that listens somewhere else than -addr says. The
// message does not name the port the checker chose: it is another one every time.
func ignoresAddr(other string) error {
	return fail("pass the value of the -addr flag to net.Listen",
		"it does not listen where -addr says (127.0.0.1 and a free port) but on %s", other)
}

// listensElsewhere looks for a "listening on ADDR" line whose port is not ours.
func (p *proc) listensElsewhere() string {
	_, port, _ := net.SplitHostPort(p.addr)
	for _, l := range p.out.lines() {
		i := strings.Index(l, "listening on ")
		if i < 0 {
			continue
		}
		fields := strings.Fields(l[i+len("listening on "):])
		if len(fields) == 0 {
			continue
		}
		if _, got, err := net.SplitHostPort(fields[0]); err == nil && got != port {
			return fields[0]
		}
	}
	return ""
}

// endedEarly explains a program that ended before it accepted a client.
func (p *proc) endedEarly() error {
	out := p.out.lines()
	for _, l := range out {
		if strings.Contains(l, "flag provided but not defined: -addr") {
			return fail("add an -addr flag as stage1/main.go does, and listen on its value",
				"it has no -addr flag, so it cannot be told where to listen (%s)", l)
		}
		// "listen tcp 127.0.0.1:8888: bind: address already in use": someone else's port?
		if i := strings.Index(l, "listen tcp "); i >= 0 && strings.Contains(l, "address already in use") {
			addr := strings.Fields(l[i+len("listen tcp "):])[0]
			addr = strings.TrimSuffix(addr, ":")
			if addr != p.addr {
				return ignoresAddr(addr)
			}
		}
	}
	return fail("run it by hand with -addr 127.0.0.1:8888 and read what it says",
		"it ended before it accepted a client (exit status %d); it said: %s", p.state.ExitCode(), p.out.tail(3))
}

// errFailure turns any error into a failure for the table.
func errFailure(err error) *failure {
	var f *failure
	if errors.As(err, &f) {
		return f
	}
	return fail("", "%v", err)
}
