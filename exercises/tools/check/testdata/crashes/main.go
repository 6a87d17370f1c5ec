// Crashes echoes to many clients at once, and panics when one of them leaves.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
)

func main() {
	addr := flag.String("addr", "localhost:8888", "`host:port` to listen on")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("crashes: ")
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on %s", l.Addr())
	for {
		conn, err := l.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			sc := bufio.NewScanner(conn)
			for sc.Scan() {
				fmt.Fprintf(conn, "%s\n", sc.Text())
			}
			panic("a client left and nobody expected it")
		}()
	}
}
