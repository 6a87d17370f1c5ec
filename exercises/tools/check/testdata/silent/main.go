// Silent takes -addr but never listens: it waits for nothing, for an hour.
package main

import (
	"flag"
	"time"
)

func main() {
	flag.String("addr", "localhost:8888", "ignored")
	flag.Parse()
	time.Sleep(time.Hour)
}
