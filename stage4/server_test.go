package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

// The plumbing (a server on a free port, test clients, the built program, nc) and
// the tests every chat server passes are in chattest, shared by the stages.

func TestMain(m *testing.M) { chattest.Main(m) }

// chatTest skips a test in which clients meet, when the race detector is on. Stage4
// races on purpose: the detector would stop such a test at once. These tests run
// without -race (go test ./stage4); TestHazardDataRace shows the race itself.
func chatTest(t *testing.T) {
	if chattest.RaceEnabled {
		t.Skip("stage4 has a data race on purpose; this test runs without -race: go test ./stage4")
	}
}

// Stage4's lesson: a chat. Every line goes to every other client.
func TestChat(t *testing.T) {
	chatTest(t)
	chattest.Chat(t, NewServer)
}

// Close hangs up on the client and makes Serve return. (One client only: the
// goroutines of two would leave the list at the same moment, and stage4's map,
// with no lock, may then crash the server with "concurrent map writes".)
func TestCloseHangsUp(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	a := ts.Join(t)
	ts.Server.Close()
	a.ReadEOF()
	require.NoError(t, ts.Served(t), "Serve returns after Close")
}
