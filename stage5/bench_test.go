package main

// Benchmarks of the broadcast, over real sockets on 127.0.0.1. A plain `go test`
// does not run them; ask for them, and compare this stage with the slow-client
// and hub exercises. The benchmarks themselves are in chattest, the same for all
// three: only the server differs.
//
//	go test -run '^$' -bench . ./stage5 ./exercises/slow/answer ./exercises/hub/answer
//
// BenchmarkBroadcast sends one line at a time to 10, 100 and 1,000 listeners;
// BenchmarkEveryoneSends has 100 clients send as fast as they can. Both report
// deliveries/s and ns/delivery (one line reaching one client). The clients run
// in the same process as the server, on the same cores: the figures are for
// comparing servers on one machine, not a promise about a network.

import (
	"testing"

	"chatbook/exercises/tools/chattest"
)

func BenchmarkBroadcast(b *testing.B) { chattest.BenchmarkBroadcast(b, NewServer) }

func BenchmarkEveryoneSends(b *testing.B) { chattest.BenchmarkEveryoneSends(b, NewServer) }
