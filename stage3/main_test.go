package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

// These tests build the real program and talk to it as a learner would.

// Two nc at once, as the README says: each is served while the other is connected.
func TestProgramWithNetcat(t *testing.T) {
	_, addr := chattest.Listening(t)
	a, b := chattest.Netcat(t, addr), chattest.Netcat(t, addr)
	b.Type(t, "hello from b")
	require.Equal(t, "hello from b", b.Next(t))
	a.Type(t, "hello from a")
	require.Equal(t, "hello from a", a.Next(t), "a is served while b is connected")
}

// telnet sends \r\n line endings, and gets its line back.
func TestProgramWithTelnet(t *testing.T) { chattest.EchoWithTelnet(t) }

// A port in use, a wrong flag: one line says what went wrong, and the exit code too.
func TestPortInUse(t *testing.T) { chattest.PortInUse(t) }
func TestWrongFlag(t *testing.T) { chattest.WrongFlag(t) }
