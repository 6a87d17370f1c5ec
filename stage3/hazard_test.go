package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

// Stage3's weakness: every client is served, but each hears only its own echo.
// A line that a sends never reaches b.
func TestHazardClientsCannotTalk(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	a, b := ts.Dial(t), ts.Dial(t)
	b.Send("b is here\n")
	require.Equal(t, "b is here\n", b.ReadLine(), "b is being served")

	a.Send("hello from a\n")
	require.Equal(t, "hello from a\n", a.ReadLine(), "a hears its own echo")

	b.Send("anything for me?\n")
	require.Equal(t, "anything for me?\n", b.ReadLine(), "b's next line is its own echo, not a's line")
	// And then nothing for a while. Waiting longer would not help: stage3 never
	// sends one client's line to another at all.
	b.ReadNothing() // not a's line, nor anything else
}
