// Stage1 is a TCP echo server for a single client; when that client leaves, the program ends.
//
// Every stage from stage1 on has this same main.go, all but the line above: it
// reads the flags and starts the Server of server.go, where the lessons are. Run
// it from the workbook's folder as `go run ./stageN` (N is the stage's number),
// then connect from another terminal: nc localhost 8888
package main

import (
	"flag"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	addr := flag.String("addr", "localhost:8888", "`host:port` to listen on")
	flag.Parse()
	log.SetFlags(0)
	// Messages start with the program's name, as go run and go build name it: stage3.
	log.SetPrefix(strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe") + ": ")
	if flag.NArg() > 0 {
		log.Printf("unexpected argument %q", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err) // for example: the port is already in use
	}
	log.Printf("listening on %s", l.Addr())
	if err := NewServer(log.Default()).Serve(l); err != nil {
		log.Fatal(err)
	}
}
