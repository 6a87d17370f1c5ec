// Client is a chat client for the workbook's servers, for anyone without nc or
// telnet (on Windows, say). It sends the lines you type and prints the lines the
// server sends, both at the same time.
//
//	go run ./stage5                         # in one terminal
//	go run ./exercises/tools/client               # in two others; Ctrl+D or Ctrl+C leaves
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
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

	// Ctrl+C cancels ctx instead of killing us on the spot, so run can say
	// goodbye and leave the terminal tidy.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	look := pickLook(isTerminal(os.Stdout), os.Getenv("NO_COLOR"))
	if err := run(ctx, *addr, os.Stdin, os.Stdout, os.Stderr, look); err != nil {
		log.Fatal(err) // for example: connection refused
	}
}

// isTerminal reports whether f is a terminal rather than a file or a pipe.
// A terminal is a "character device"; so is /dev/null, which is harmless here.
func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// pickLook decides how to draw: a prompt only on a terminal (in a pipe it would
// be noise in the output), and colour only on a terminal when NO_COLOR is empty
// (https://no-color.org: any value at all turns colour off).
func pickLook(terminal bool, noColor string) look {
	return look{terminal: terminal, color: terminal && noColor == ""}
}
