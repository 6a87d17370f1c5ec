package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

// These tests build the real program and talk to it as a learner would.

func TestProgramWithNetcat(t *testing.T) {
	p, addr := chattest.Listening(t)
	nc := chattest.Netcat(t, addr)
	nc.Type(t, "hello")
	nc.Type(t, "from nc")
	require.Equal(t, "hello", nc.Next(t))
	require.Equal(t, "from nc", nc.Next(t))
	me := p.Connected(t)
	nc.Quit(t) // Ctrl+C: the client leaves
	p.Expect(t, "Disconnected "+me)
	code, _ := p.End(t)
	require.Equal(t, 0, code, "stage1 ends, with success, when its client leaves")
}

// telnet sends \r\n line endings, and gets its line back.
func TestProgramWithTelnet(t *testing.T) { chattest.EchoWithTelnet(t) }

// A port in use, a wrong flag: one line says what went wrong, and the exit code too.
func TestPortInUse(t *testing.T) { chattest.PortInUse(t) }
func TestWrongFlag(t *testing.T) { chattest.WrongFlag(t) }
