package main

import (
	"testing"

	"chatbook/exercises/tools/chattest"
)

// The plumbing (a server on a free port, test clients, the built program, nc) and
// the tests every echo server passes are in chattest, shared by the stages.

func TestMain(m *testing.M) { chattest.Main(m) }

func TestEcho(t *testing.T) { chattest.Echo(t, NewServer) }

// Stage2's lesson: when a client leaves, however it leaves, the server serves the next.
func TestServesTheNextClient(t *testing.T) { chattest.ServesTheNextClient(t, NewServer) }
