package main

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

var listening = regexp.MustCompile(`listening on (\S+)$`)

// The whole program, run as a learner runs it, with two real nc clients. (The nc
// and the program are driven by chattest, which works with every netcat.)
func TestWithNetcat(t *testing.T) {
	srv := chattest.RunFile(t, chattest.Build(t), "-addr", "127.0.0.1:0")
	m := listening.FindStringSubmatch(srv.Line(t))
	require.NotNil(t, m, "the server's first line on stderr must be `listening on ADDR`")
	addr := m[1]

	ann := chattest.Netcat(t, addr)
	w := welcome.FindStringSubmatch(ann.Next(t))
	require.NotNil(t, w, "nc 1 was not welcomed")
	bob := chattest.Netcat(t, addr)
	w2 := welcome.FindStringSubmatch(bob.Next(t))
	require.NotNil(t, w2, "nc 2 was not welcomed")
	annName, bobName := w[1], w2[1]
	require.NotEqual(t, annName, bobName)

	ann.Type(t, "hello bob")
	require.Equal(t, annName+": hello bob", bob.Next(t))

	ann.Type(t, "/name ann")
	require.Equal(t, "You are now ann", ann.Next(t))
	require.Equal(t, annName+" is now ann", bob.Next(t))

	bob.Type(t, "/name ann")
	require.Regexp(t, `^error: .*taken`, bob.Next(t))
	bob.Type(t, "hi ann")
	require.Equal(t, bobName+": hi ann", ann.Next(t))
}
