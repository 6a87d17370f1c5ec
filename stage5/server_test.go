package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

// The plumbing (a server on a free port, test clients, the built program, nc) and
// the tests every chat server passes are in chattest, shared by the stages.

func TestMain(m *testing.M) { chattest.Main(m) }

// Stage4's chat, which stage5 keeps: every line goes to every other client.
func TestChat(t *testing.T) { chattest.Chat(t, NewServer) }

// Close hangs up on every client and makes Serve return.
func TestCloseHangsUp(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	a, b := ts.Join(t), ts.Join(t)
	ts.Server.Close()
	a.ReadEOF()
	b.ReadEOF()
	require.NoError(t, ts.Served(t), "Serve returns after Close")
}

// Stage5's lesson: with a mutex around the client list, the chat that made stage4
// fail under the race detector runs clean. This test runs it in a child process,
// exactly as stage4's TestHazardDataRace does, and checks that the child passed.
func TestNoDataRace(t *testing.T) {
	if !chattest.RaceEnabled {
		t.Skip("the race detector is off; to check for races: go test -race -v -run NoDataRace ./stage5")
	}
	out, err := chattest.RunScenario(t, "TestRaceScenario")

	require.NoError(t, err, "the chat failed:\n%s", out)
	require.NotContains(t, out, "WARNING: DATA RACE")
	require.Contains(t, out, "--- PASS: TestRaceScenario", "the chat did not run:\n%s", out)
}

// TestRaceScenario is the chat that TestNoDataRace runs in a child process:
// stage4's racy classroom, now race-free. To run it yourself:
//
//	CHATBOOK_RACE_SCENARIO=1 go test -race -run TestRaceScenario ./stage5
func TestRaceScenario(t *testing.T) { chattest.RaceScenario(t, NewServer) }
