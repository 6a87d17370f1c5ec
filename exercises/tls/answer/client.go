package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"os"
)

// runClient chats over TLS: it connects to addr, trusting only the certificate
// in caFile, sends what it reads from in, and copies what the server sends to
// out, until the server hangs up.
func runClient(addr, caFile string, in io.Reader, out io.Writer) error {
	conn, err := dialTLS(addr, caFile)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintf(os.Stderr, "connected to %s over %s; type lines to chat, Ctrl-D to leave\n",
		conn.RemoteAddr(), tls.VersionName(conn.ConnectionState().Version))

	go func() { // typing and printing at the same time: each needs its own goroutine
		io.Copy(conn, in)
		conn.CloseWrite() // no more from us: the server sees the end and hangs up
	}()
	_, err = io.Copy(out, conn) // until the server hangs up
	return err
}
