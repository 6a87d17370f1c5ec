package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// runClient is a small client for trying the server by hand: nc cannot put a
// length in front of what you type. It sends each line of in as one message and
// prints each message that arrives to out, quoted, so that you can see exactly
// which bytes it holds. A line may use Go's escapes: type
//
//	two\nlines\x00and a NUL
//
// and the message holds a real newline and a real NUL byte.
func runClient(addr string, in io.Reader, out io.Writer) error {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintf(out, "connected to %s: each line you type is one message (\\n in it is a newline)\n", conn.RemoteAddr())

	go send(conn, in, out) // typing and printing at the same time: each needs its own goroutine

	// Print every message until the server hangs up.
	r := bufio.NewReader(conn)
	for {
		msg, err := ReadFrame(r, maxFrame)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%d bytes: %q\n", len(msg), msg)
	}
}

// send sends each line of in as one message. When in ends (Ctrl-D, or the end of
// a pipe) it closes its half of the connection: the server sees the end and hangs
// up, and then runClient returns.
func send(conn net.Conn, in io.Reader, out io.Writer) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		msg, err := strconv.Unquote(`"` + sc.Text() + `"`) // the escapes of a Go string, \n and \x00 among them
		if err != nil {
			fmt.Fprintf(out, "not sent: cannot read the escapes in %q (write a quote as \\\" and a backslash as \\\\)\n", sc.Text())
			continue
		}
		if err := WriteFrame(conn, []byte(msg)); err != nil {
			fmt.Fprintf(out, "not sent: %v\n", err)
			return
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(out, "stopped reading what you type: %v\n", err)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.CloseWrite()
	}
}
