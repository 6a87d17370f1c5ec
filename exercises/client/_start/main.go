// Client is a chat client for the workbook's servers, for anyone without nc or
// telnet (on Windows, say). It sends the lines you type and prints the lines the
// server sends, both at the same time.
//
// This is the starting point of exercises/client: see its README.md.
//
//	go run ./stage5                         # in one terminal
//	go run ./mine/client                    # in two others; Ctrl+D or Ctrl+C leaves
package main

import (
	"context"
	"flag"
	"log"
	"os"
)

func main() {
	addr := flag.String("addr", "localhost:8888", "`host:port` of the chat server")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("client: ")
	if flag.NArg() > 0 {
		log.Printf("unexpected argument %q", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}

	// TODO: make Ctrl+C cancel ctx (signal.NotifyContext with os.Interrupt), so
	// that run can say goodbye instead of the program dying mid-line.
	ctx := context.Background()

	look := pickLook(isTerminal(os.Stdout), os.Getenv("NO_COLOR"))
	if err := run(ctx, *addr, os.Stdin, os.Stdout, os.Stderr, look); err != nil {
		log.Fatal(err) // for example: connection refused
	}
}

// isTerminal reports whether f is a terminal rather than a file or a pipe.
func isTerminal(f *os.File) bool {
	// TODO: a terminal is a "character device": ask f.Stat() for its mode.
	return false
}

// pickLook decides how to draw: a prompt only on a terminal, and colour only on
// a terminal when NO_COLOR is empty (https://no-color.org).
func pickLook(terminal bool, noColor string) look {
	// TODO
	return look{}
}
