package main

import (
	"bytes"
	"io"
	"net"
	"time"
)

// lineReader cuts what a client sends into lines, one read at a time, so that
// all the lines of one read can be passed on together. A line longer than max
// bytes (not counting its "\n" or "\r\n") is still read to its end, but its
// bytes are thrown away as they come: it costs max bytes of memory at most.
type lineReader struct {
	conn    net.Conn
	max     int
	buf     []byte // one read
	partial []byte // the start of a line whose end has not come yet
	tooLong bool   // the line in progress is too long: its bytes are not kept
}

// readSize is the most one read takes in. Each client has a buffer this big for
// all its life, idle or not, so it is small: a busy client's lines come in a few
// reads more, and that costs little beside the writes that pass them on.
const readSize = 512

func newLineReader(conn net.Conn, max int) *lineReader {
	return &lineReader{conn: conn, max: max, buf: make([]byte, readSize)}
}

// read reads once from the connection, waiting until deadline at most, and calls
// each for every line that read completes, in order. If the client hung up in
// the middle of a line, that last line counts too (PyChat's client sends its
// "!quit" without a "\n").
func (lr *lineReader) read(deadline time.Time, each func(line []byte, tooLong bool)) error {
	lr.conn.SetReadDeadline(deadline)
	n, err := lr.conn.Read(lr.buf)
	data := lr.buf[:n]
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			lr.keep(data)
			break
		}
		line := data[:i]
		data = data[i+1:]
		if len(lr.partial) > 0 || lr.tooLong { // it began in an earlier read
			lr.keep(line)
			line = lr.partial
		}
		lr.end(line, each)
	}
	if err == io.EOF && (len(lr.partial) > 0 || lr.tooLong) {
		lr.end(lr.partial, each)
	}
	return err
}

// end hands over a whole line, without its "\r", and gets ready for the next.
func (lr *lineReader) end(line []byte, each func(line []byte, tooLong bool)) {
	line = bytes.TrimSuffix(line, []byte("\r"))
	each(line, lr.tooLong || len(line) > lr.max)
	lr.partial, lr.tooLong = lr.partial[:0], false
	if cap(lr.partial) > len(lr.buf) {
		lr.partial = nil // after a long line: do not keep its buffer for ever
	}
}

// keep adds b to the line in progress, unless that line is too long already.
// It keeps one byte more than max: a line of max bytes may still end in "\r\n".
func (lr *lineReader) keep(b []byte) {
	switch {
	case lr.tooLong:
	case len(lr.partial)+len(b) > lr.max+1:
		lr.partial, lr.tooLong = lr.partial[:0], true
	default:
		lr.partial = append(lr.partial, b...)
	}
}
