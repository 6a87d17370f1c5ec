package main

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"strings"
	"sync"
	"time"
	"unicode"
)

const (
	// maxLine is the longest line we read, from the keyboard or from the server.
	// It is larger than the servers' own limit, so that they, not we, refuse a
	// line that is too long.
	maxLine = 1024 * 1024

	// goodbyeWait is how long we wait for the server to hang up after the end
	// of our input, so that its last replies still get printed.
	goodbyeWait = 2 * time.Second

	prompt    = "[You] "
	eraseLine = "\x1b[K" // ANSI: erase from the cursor to the end of the line
	resetAll  = "\x1b[0m"
)

// look says how to draw on stdout; main picks it (see pickLook).
type look struct {
	terminal bool // stdout is a terminal: show a prompt and redraw it
	color    bool // colour the names in front of the lines
}

// run talks to the chat server at addr until the server hangs up, stdin ends
// (Ctrl+D), or ctx is cancelled (Ctrl+C). Those three are a normal goodbye and
// return nil; an error means we could not connect or the connection broke.
//
// Chat lines go to stdout; our own notes ("connected", "bye") go to stderr, so
// that stdout piped into a file holds the conversation and nothing else.
func run(ctx context.Context, addr string, stdin io.Reader, stdout, stderr io.Writer, lk look) error {
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err // one line, such as "dial tcp 127.0.0.1:8888: connect: connection refused"
	}
	scr := &screen{look: lk, out: stdout, info: stderr}
	defer scr.stop() // once run returns, nothing more gets drawn
	scr.note("connected to %s; Ctrl+C to leave", conn.RemoteAddr())
	scr.prompt()

	// Two things can happen at any moment: the user types a line, or the server
	// sends one. Each gets a goroutine that blocks on its own reader.
	var heardErr error
	heard := make(chan struct{}) // closed when receive returns
	go func() {
		defer close(heard)
		heardErr = receive(conn, scr)
	}()
	// Nobody waits for send: a read from the keyboard cannot be interrupted in
	// portable Go. When run returns, main exits and takes it along.
	typed := make(chan error, 1) // buffered: send can finish even after run has returned
	go func() { typed <- send(stdin, conn, scr) }()

	hangUp := func() {
		conn.Close() // interrupts receive's Read...
		<-heard      // ...and we wait for it, so it cannot draw after we leave
	}
	defer hangUp() // safe to repeat: closing twice only returns an error

	select {
	case <-heard: // the server went first
		if heardErr != nil {
			return fmt.Errorf("connection lost: %w", heardErr)
		}
		scr.note("server closed the connection")
		return nil
	case err := <-typed:
		if err != nil {
			return fmt.Errorf("reading the keyboard: %w", err)
		}
		// End of input. Close only our sending half: the server reads "end of
		// file", and may still answer (an echo server does). Then wait, but not
		// for ever, for it to hang up.
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		select {
		case <-heard:
		case <-time.After(goodbyeWait):
		case <-ctx.Done():
		}
	case <-ctx.Done(): // Ctrl+C
	}
	hangUp()
	scr.note("bye")
	return nil
}

// send reads lines from stdin and sends each to the server, until stdin ends.
func send(stdin io.Reader, conn net.Conn, scr *screen) error {
	sc := bufio.NewScanner(stdin) // a \r before the \n (Windows) is dropped too
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		if _, err := fmt.Fprintf(conn, "%s\n", sc.Bytes()); err != nil {
			return err
		}
		// Enter has moved the cursor to a fresh line: put the prompt back.
		scr.prompt()
	}
	return sc.Err() // nil at the end of input
}

// receive prints every line the server sends, until the server hangs up.
func receive(conn net.Conn, scr *screen) error {
	sc := bufio.NewScanner(conn)
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		scr.show(sc.Text())
	}
	return sc.Err() // nil when the server hung up
}

// screen draws on stdout and stderr. Two goroutines draw at once (receive
// shows lines, send redraws the prompt), so every drawing holds mu: otherwise
// a prompt could land in the middle of an incoming line.
type screen struct {
	look
	out     io.Writer // stdout: the conversation
	info    io.Writer // stderr: our own notes
	mu      sync.Mutex
	stopped bool // run has returned: draw nothing more
}

// note writes one of our own messages to stderr, on a line of its own.
func (s *screen) note(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	if s.terminal {
		io.WriteString(s.out, "\r"+eraseLine) // wipe the prompt first
	}
	fmt.Fprintf(s.info, format+"\n", args...)
}

// prompt draws a fresh prompt, wiping whatever the cursor's line showed
// (usually nothing; sometimes a prompt that show has just drawn).
func (s *screen) prompt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.terminal && !s.stopped {
		io.WriteString(s.out, "\r"+eraseLine+prompt)
	}
}

// show prints a line from the server.
//
// On a terminal the cursor sits after the prompt, maybe after a few letters the
// user has typed. We go back to the start of that line (\r), erase it, print the
// incoming line in its place, and draw the prompt again below it. The letters
// typed so far disappear from view, but the terminal still holds them: pressing
// Enter sends them whole. (Ctrl+R shows them again on most Unix terminals.)
func (s *screen) show(line string) {
	line = clean(line)
	if s.color {
		line = colorName(line)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	if s.terminal {
		io.WriteString(s.out, "\r"+eraseLine+line+"\n"+prompt)
		return
	}
	io.WriteString(s.out, line+"\n") // a pipe gets plain lines: nothing to redraw
}

// stop wipes the prompt and makes every later drawing do nothing.
func (s *screen) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.terminal && !s.stopped {
		io.WriteString(s.out, "\r"+eraseLine)
	}
	s.stopped = true
}

// colors are the ANSI codes for bold red, green, yellow, blue, magenta and cyan.
var colors = []string{"\x1b[1;31m", "\x1b[1;32m", "\x1b[1;33m", "\x1b[1;34m", "\x1b[1;35m", "\x1b[1;36m"}

// colorName colours the sender in front of a line, "NAME: text", giving each
// name a colour of its own so that people are easy to tell apart. A line
// whose part before the first ": " is empty or holds a space has no name and
// is left alone.
func colorName(line string) string {
	name, text, found := strings.Cut(line, ": ")
	if !found || name == "" || strings.ContainsAny(name, " \t") {
		return line
	}
	h := fnv.New32a() // the same name always hashes to the same colour
	h.Write([]byte(name))
	c := colors[h.Sum32()%uint32(len(colors))]
	return c + name + ":" + resetAll + " " + text
}

// clean replaces control characters with '?'. Other clients choose what the
// server sends us; without this, one could send escape codes that clear our
// screen or recolour it. Bytes that are not UTF-8 become '\uFFFD'.
func clean(line string) string {
	return strings.Map(func(r rune) rune {
		if r != '\t' && unicode.IsControl(r) {
			return '?'
		}
		return r
	}, line)
}
