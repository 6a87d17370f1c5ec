package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

// These tests build the real program and talk to it as a learner would.

// One nc after another, as the README says: the second is served once the first has left.
func TestProgramWithNetcat(t *testing.T) {
	p, addr := chattest.Listening(t)
	first := chattest.Netcat(t, addr)
	first.Type(t, "hello")
	require.Equal(t, "hello", first.Next(t))
	me := p.Connected(t)
	first.Quit(t) // Ctrl+C: the first client leaves
	p.Expect(t, "Disconnected "+me)

	second := chattest.Netcat(t, addr)
	second.Type(t, "and again")
	require.Equal(t, "and again", second.Next(t), "a second nc is served after the first")
}

// telnet sends \r\n line endings, and gets its line back.
func TestProgramWithTelnet(t *testing.T) { chattest.EchoWithTelnet(t) }

// A port in use, a wrong flag: one line says what went wrong, and the exit code too.
func TestPortInUse(t *testing.T) { chattest.PortInUse(t) }
func TestWrongFlag(t *testing.T) { chattest.WrongFlag(t) }
