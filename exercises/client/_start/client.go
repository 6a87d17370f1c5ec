//lint:file-ignore U1000 the starting point: these are yours to fill in and use

package main

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"
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
// Chat lines go to stdout; our own notes ("connected", "bye") go to stderr.
func run(ctx context.Context, addr string, stdin io.Reader, stdout, stderr io.Writer, lk look) error {
	// TODO: connect to addr with a net.Dialer's DialContext (so that Ctrl+C can
	// interrupt a slow connect). If that fails, return the error: main prints it.
	// TODO: make a screen; note "connected to ..." and draw the prompt.
	// TODO: run receive in a goroutine and send in another: each blocks on its
	// own reader. Which of them can you wait for when leaving, and which not?
	// TODO: wait for the first of three things: receive returned (the server
	// hung up), send returned (the input ended), ctx is done (Ctrl+C).
	// TODO: leave tidily: close the connection, wait for receive, say goodbye.
	return errors.New("run: not written yet")
}

// send reads lines from stdin and sends each to the server, until stdin ends.
func send(stdin io.Reader, conn net.Conn, scr *screen) error {
	// TODO: a bufio.Scanner over stdin; after each line, draw a fresh prompt.
	return nil
}

// receive prints every line the server sends, until the server hangs up.
func receive(conn net.Conn, scr *screen) error {
	// TODO: a bufio.Scanner over conn; show each line.
	return nil
}

// screen draws on stdout and stderr. Two goroutines draw at once, so every
// drawing holds mu.
type screen struct {
	look
	out     io.Writer // stdout: the conversation
	info    io.Writer // stderr: our own notes
	mu      sync.Mutex
	stopped bool // run has returned: draw nothing more
}

// note writes one of our own messages to stderr, on a line of its own.
func (s *screen) note(format string, args ...any) {
	// TODO
}

// prompt draws a fresh prompt (on a terminal only).
func (s *screen) prompt() {
	// TODO
}

// show prints a line from the server. On a terminal it must not get mixed up
// with the prompt and the letters the user is typing.
func (s *screen) show(line string) {
	// TODO
}

// stop wipes the prompt and makes every later drawing do nothing.
func (s *screen) stop() {
	// TODO
}

// colors are the ANSI codes for bold red, green, yellow, blue, magenta and cyan.
var colors = []string{"\x1b[1;31m", "\x1b[1;32m", "\x1b[1;33m", "\x1b[1;34m", "\x1b[1;35m", "\x1b[1;36m"}

// colorName colours the sender in front of a line, "NAME: text". A line whose
// part before the first ": " is empty or holds a space has no name.
func colorName(line string) string {
	// TODO: give each name a colour of its own (hash/fnv is one way).
	return line
}

// clean replaces control characters with '?', so that another client cannot
// send us escape codes that clear our screen or recolour it.
func clean(line string) string {
	// TODO: strings.Map and unicode.IsControl.
	return line
}
