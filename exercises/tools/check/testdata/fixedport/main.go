// Fixedport ignores -addr and listens on a port of its own choosing.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
)

func main() {
	flag.String("addr", "localhost:8888", "ignored, which is the mistake")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("fixedport: ")
	l, err := net.Listen("tcp", "127.0.0.1:47913")
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
			defer conn.Close()
			sc := bufio.NewScanner(conn)
			for sc.Scan() {
				fmt.Fprintf(conn, "%s\n", sc.Text())
			}
		}()
	}
}
