package main

import (
	"testing"

	"chatbook/exercises/tools/chattest"
)

// The plumbing (a server on a free port, test clients, the built program, nc) and
// the tests every echo server passes are in chattest, shared by the stages.

func TestMain(m *testing.M) { chattest.Main(m) }

// Stage1's lesson: an echo server, started on any listener and stopped by Close.
func TestEcho(t *testing.T) { chattest.Echo(t, NewServer) }
