package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

// Stage4's weakness: the client list is a map that many goroutines use at once with
// no lock, and the race detector says so. A race makes a test binary fail, so this
// test runs the racy chat in a child process (this same test binary, running only
// TestRaceScenario) and checks that the CHILD failed with the race detector's report.
//
// Run it with -v to read the report: go test -race -v -run Hazard ./stage4
func TestHazardDataRace(t *testing.T) {
	if !chattest.RaceEnabled {
		t.Skip("the race detector is off; to see the race: go test -race -v -run Hazard ./stage4")
	}
	out, err := chattest.RunScenario(t, "TestRaceScenario")

	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the racy chat ran without a race report:\n%s", out)
	require.Equal(t, chattest.RaceExit, exit.ExitCode(), "the child failed, but not with a race:\n%s", out)
	require.Contains(t, out, "WARNING: DATA RACE")
	require.Regexp(t, `\(\*Server\)\.(join|leave|broadcast)`, out, "the race is not in the client list")
	if i := strings.Index(out, "=================="); i >= 0 {
		out = out[i:]
	}
	t.Logf("as expected, the race detector stopped the chat:\n%s", out)
}

// TestRaceScenario is the racy chat that TestHazardDataRace runs in a child process:
// clients join, talk and leave, all at the same time, as in a real classroom. To
// see the race detector's report exactly as in your own code:
//
//	CHATBOOK_RACE_SCENARIO=1 go test -race -run TestRaceScenario ./stage4
func TestRaceScenario(t *testing.T) { chattest.RaceScenario(t, NewServer) }
