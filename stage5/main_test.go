package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

// These tests build the real program and talk to it as a learner would.

// Two terminals, as the README says: one nc watches, the other says something.
func TestProgramWithNetcat(t *testing.T) {
	p, addr := chattest.Listening(t)
	watcher := chattest.Netcat(t, addr)
	watcherName := p.Connected(t)
	sender := chattest.Netcat(t, addr)
	senderName := p.Connected(t)

	sender.Type(t, "hello from nc")
	require.Equal(t, senderName+": hello from nc", watcher.Next(t))
	watcher.Type(t, "hello back")
	require.Equal(t, watcherName+": hello back", sender.Next(t),
		"the sender's next line is the watcher's: it did not get its own line back")
	sender.Quit(t) // Ctrl+C: the sender leaves
	p.Expect(t, "Disconnected "+senderName)
}

// telnet sends \r\n line endings; the watcher gets the line without the \r.
func TestProgramWithTelnet(t *testing.T) {
	p, addr := chattest.Listening(t)
	watcher := chattest.Netcat(t, addr)
	p.Connected(t)
	telnet := chattest.Telnet(t, addr)
	sender := p.Connected(t)
	telnet.Type(t, "hello from telnet")
	require.Equal(t, sender+": hello from telnet", watcher.Next(t))
}

// A port in use, a wrong flag: one line says what went wrong, and the exit code too.
func TestPortInUse(t *testing.T) { chattest.PortInUse(t) }
func TestWrongFlag(t *testing.T) { chattest.WrongFlag(t) }
