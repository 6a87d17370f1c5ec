// This program is the chat server of stage5 behind TLS: what the clients say is
// encrypted on the way, and each client checks that it talks to the real server.
// It makes its own certificate, and it is its own client:
//
//	go run ./exercises/tls/answer -gen-cert /tmp/chatcert      # writes key.pem and cert.pem there
//	go run ./exercises/tls/answer -cert /tmp/chatcert/cert.pem -key /tmp/chatcert/key.pem
//	go run ./exercises/tls/answer -connect localhost:8888 -ca /tmp/chatcert/cert.pem
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"
)

func main() {
	addr := flag.String("addr", "localhost:8888", "`host:port` to listen on")
	certFile := flag.String("cert", "cert.pem", "the server's certificate `file`")
	keyFile := flag.String("key", "key.pem", "the server's private key `file`")
	genCert := flag.String("gen-cert", "", "write a new key.pem and cert.pem for localhost to `dir`, then stop")
	connect := flag.String("connect", "", "be a client: chat with the server at `host:port`")
	caFile := flag.String("ca", "cert.pem", "with -connect: the certificate to trust, the one and only (a `file`)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("tls: ")
	if flag.NArg() > 0 {
		log.Printf("unexpected argument %q", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}
	if *genCert != "" && *connect != "" {
		log.Print("-gen-cert and -connect are two different jobs: give one of them")
		flag.Usage()
		os.Exit(2)
	}

	switch {
	case *genCert != "":
		if err := writeCert(*genCert); err != nil {
			log.Fatal(err)
		}
		log.Printf("wrote %s and %s", filepath.Join(*genCert, "cert.pem"), filepath.Join(*genCert, "key.pem"))
	case *connect != "":
		if err := runClient(*connect, *caFile, os.Stdin, os.Stdout); err != nil {
			log.Fatal(err) // for example: x509: certificate signed by unknown authority
		}
	default:
		l, err := listenTLS(*addr, *certFile, *keyFile)
		if err != nil {
			log.Fatal(err) // the port is in use, or a file is missing or not a key pair
		}
		log.Printf("listening on %s", l.Addr())
		if err := NewServer(log.Default()).Serve(l); err != nil {
			log.Fatal(err)
		}
	}
}
