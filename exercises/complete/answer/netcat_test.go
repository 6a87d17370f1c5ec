package main

// The program with the clients learners really use: nc and telnet.

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

var welcomeLine = regexp.MustCompile(`^Welcome (\S+) \(\d+ online\)$`)

// Two real nc and a telnet, typed into as a learner types: nc ends its lines
// with \n, telnet with \r\n, and both are the same line to the others. An
// escape sequence typed by one (here OSC 52, which writes the clipboard)
// reaches the others as visible characters, not as a command to their terminal.
// (chattest drives nc and telnet; the test skips if they are not installed.)
func TestWithNetcatAndTelnet(t *testing.T) {
	p := startProgram(t)
	ann := chattest.Netcat(t, p.addr)
	m := welcomeLine.FindStringSubmatch(ann.Next(t))
	require.NotNil(t, m, "nc 1 was not welcomed")
	annName := m[1]
	bob := chattest.Netcat(t, p.addr)
	m = welcomeLine.FindStringSubmatch(bob.Next(t))
	require.NotNil(t, m, "nc 2 was not welcomed")
	bobName := m[1]
	require.Equal(t, bobName+" joined (2 online)", ann.Next(t))

	ann.Type(t, "hello bob")
	require.Equal(t, annName+": hello bob", bob.Next(t))
	ann.Type(t, "\x1b]52;c;aGk=\x07see your clipboard")
	require.Equal(t, annName+": ␛]52;c;aGk=␇see your clipboard", bob.Next(t))

	tel := chattest.Telnet(t, p.addr)
	m = regexp.MustCompile(`^(\S+) joined \(3 online\)$`).FindStringSubmatch(ann.Next(t))
	require.NotNil(t, m, "ann was not told of telnet's arrival")
	telName := m[1]
	require.Equal(t, telName+" joined (3 online)", bob.Next(t))
	tel.Type(t, "hi from telnet")
	require.Equal(t, telName+": hi from telnet", ann.Next(t), "telnet's \\r\\n ends the line: no ␍ in it")
	require.Equal(t, telName+": hi from telnet", bob.Next(t))

	bob.Type(t, "/quit")
	require.Equal(t, "Goodbye "+bobName, bob.Next(t))
	require.Equal(t, bobName+" left (2 online)", ann.Next(t))
}
