// Quits ends at once with a message, as a program with a mistake in main would.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	flag.String("addr", "localhost:8888", "ignored")
	flag.Parse()
	fmt.Fprintln(os.Stderr, "quits: I give up before listening")
	os.Exit(3)
}
