// Stage0 is a chat server with no network: it reads lines from the keyboard and
// writes each one back. It says "Connected" at the start and "Disconnected" when
// you enter an empty line or end the input (Ctrl+D; Ctrl+Z then Enter on Windows).
//
//	go run ./stage0
package main

import (
	"flag"
	"log"
	"os"
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("stage0: ")
	if flag.NArg() > 0 {
		log.Printf("unexpected argument %q", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}

	// Stage0's "connection" is the terminal: standard input and standard output.
	if err := NewServer(log.New(os.Stdout, "", 0)).Serve(os.Stdin, os.Stdout); err != nil {
		log.Fatal(err)
	}
}
