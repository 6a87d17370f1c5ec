package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
)

// maxLine is the most bytes one line may take, its newline included. A longer line
// is refused with a message: with no limit, one client could eat all our memory.
const maxLine = 64 * 1024

// Server is a chat server with no network yet: its only client is the keyboard.
type Server struct {
	log *log.Logger // "Connected" and "Disconnected" go here
}

// NewServer returns a server that logs to logger.
func NewServer(logger *log.Logger) *Server {
	return &Server{log: logger}
}

// Serve talks to the one client there is, whoever types at the keyboard: it reads
// what they type from in and writes its answers to out.
func (s *Server) Serve(in io.Reader, out io.Writer) error {
	return s.handle(in, out)
}

// handle echoes every line it reads until an empty line or the end of input.
func (s *Server) handle(in io.Reader, out io.Writer) error {
	s.log.Print("Connected")

	sc := bufio.NewScanner(in) // splits at \n and drops a \r before it
	sc.Buffer(nil, maxLine)
	for sc.Scan() && len(sc.Bytes()) > 0 { // an empty line means goodbye
		fmt.Fprintf(out, "%s\n", sc.Bytes())
	}

	err := sc.Err()
	if errors.Is(err, bufio.ErrTooLong) {
		err = fmt.Errorf("line too long (the limit is %d bytes, newline included)", maxLine)
	}
	s.log.Print("Disconnected")
	return err
}
