package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// errTimeout says that what a check waited for did not come in time.
var errTimeout = errors.New("nothing came in time")

// transcript collects what the other side writes, line by line, so that a check can
// wait for a line with a deadline instead of blocking in a read.
type transcript struct {
	mu      sync.Mutex
	got     []string      // every line so far, without its "\n" (a "\r" stays: a check may look for it)
	partial []byte        // the start of a line whose "\n" has not come yet
	end     error         // why it ended: io.EOF when the other side closed
	more    chan struct{} // closed, and replaced, whenever got or end changes
	next    int           // how many lines next has handed out
}

func newTranscript() *transcript {
	return &transcript{more: make(chan struct{})}
}

// Write adds p to the transcript. A transcript is an io.Writer, so a program's
// stdout and stderr can be written straight into one.
func (t *transcript) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.got = append(t.got, string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
	if len(t.partial) > 1<<20 { // a megabyte with no end of line: keep it as a line anyway
		t.got = append(t.got, string(t.partial))
		t.partial = nil
	}
	t.wake()
	return len(p), nil
}

// finish says that nothing more will come, and why.
func (t *transcript) finish(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.partial) > 0 {
		t.got = append(t.got, string(t.partial))
		t.partial = nil
	}
	if t.end == nil {
		t.end = err
	}
	t.wake()
}

func (t *transcript) wake() {
	close(t.more)
	t.more = make(chan struct{})
}

// wait calls look, with the lock held, until it returns true. It gives up when the
// transcript has ended (and returns why) or when d has passed (errTimeout).
func (t *transcript) wait(d time.Duration, look func() bool) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		t.mu.Lock()
		found, end, more := look(), t.end, t.more
		t.mu.Unlock()
		switch {
		case found:
			return nil
		case end != nil:
			return end
		}
		select {
		case <-more:
		case <-timer.C:
			return errTimeout
		}
	}
}

// find waits for a line that contains s, among all lines so far and to come.
func (t *transcript) find(s string, d time.Duration) (string, error) {
	var line string
	err := t.wait(d, func() bool {
		for _, l := range t.got {
			if strings.Contains(l, s) {
				line = l
				return true
			}
		}
		return false
	})
	return line, err
}

// has reports whether a line so far contains s.
func (t *transcript) has(s string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range t.got {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// nextLine waits for the line after the last one it returned, skipping empty lines.
func (t *transcript) nextLine(d time.Duration) (string, error) {
	var line string
	err := t.wait(d, func() bool {
		for t.next < len(t.got) {
			line = strings.TrimSuffix(t.got[t.next], "\r")
			t.next++
			if line != "" {
				return true
			}
		}
		return false
	})
	return line, err
}

// waitEnd waits until the other side has closed. It returns nil once it has.
func (t *transcript) waitEnd(d time.Duration) error {
	return t.wait(d, func() bool { return t.end != nil })
}

// ended reports whether the other side has closed.
func (t *transcript) ended() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.end != nil
}

// lines returns a copy of the lines so far, from the first one.
func (t *transcript) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.got...)
}

// size is the number of lines so far: lines()[size:] is what came after.
func (t *transcript) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.got)
}

// tail returns the last n non-empty lines, joined with " / ", for a message.
func (t *transcript) tail(n int) string {
	var last []string
	all := t.lines()
	for i := len(all) - 1; i >= 0 && len(last) < n; i-- {
		if l := strings.TrimSpace(all[i]); l != "" {
			last = append([]string{l}, last...)
		}
	}
	if len(last) == 0 {
		return "(nothing)"
	}
	return strings.Join(last, " / ")
}

// client is one connection to the program under test, as a person with nc would
// have it: it sends lines, and everything the server sends lands in its transcript.
type client struct {
	name string // A, B, C... in the messages a learner reads
	conn net.Conn
	*transcript
	reading chan struct{} // closed when the reading goroutine has returned
}

func newClient(name string, conn net.Conn) *client {
	c := &client{name: name, conn: conn, transcript: newTranscript(), reading: make(chan struct{})}
	go func() {
		defer close(c.reading)
		_, err := io.Copy(c.transcript, conn)
		if err == nil {
			err = io.EOF
		}
		c.finish(err)
	}()
	return c
}

// send writes one line, as netcat sends it.
func (c *client) send(line string) error {
	return c.sendRaw(line + "\n")
}

// sendRaw writes s as it is. Its deadline keeps a check from hanging on a server
// that does not read.
func (c *client) sendRaw(s string) error {
	c.conn.SetWriteDeadline(time.Now().Add(answerWait))
	_, err := io.WriteString(c.conn, s)
	return err
}

// leave ends the client's side of the connection, as nc does at the end of its
// input. The client still reads: it sees the server hang up.
func (c *client) leave() {
	if tc, ok := c.conn.(*net.TCPConn); ok {
		tc.CloseWrite()
		return
	}
	c.conn.Close()
}

// close ends the connection and waits for the reading goroutine.
func (c *client) close() {
	c.conn.Close()
	<-c.reading
}

// addr is the client's address as the server sees it, for example 127.0.0.1:51234.
func (c *client) addr() string {
	return c.conn.LocalAddr().String()
}

// tokens numbers the lines the checker sends, so that each line is unique and
// can be looked for in any transcript.
var tokens atomic.Int64

func token(word string) string {
	return fmt.Sprintf("%s-%05d", word, tokens.Add(1))
}

// describe turns what a wait returned into words for a learner.
func describe(err error, d time.Duration) string {
	switch {
	case errors.Is(err, errTimeout):
		return fmt.Sprintf("nothing came within %v", d)
	case errors.Is(err, io.EOF):
		return "the server hung up"
	default:
		return err.Error()
	}
}

// shorten keeps a message readable when a line is long.
func shorten(s string) string {
	if len(s) > 100 {
		return fmt.Sprintf("%s... (%d bytes)", s[:90], len(s))
	}
	return s
}
