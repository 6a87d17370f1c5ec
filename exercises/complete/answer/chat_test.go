package main

// The features of the names, presence and shutdown exercises (their tests,
// adapted): names, renames, join and leave notices with exact counts, /quit.

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLinesCarryTheSendersName(t *testing.T) {
	ts := startServer(t)
	cs := joinAll(t, ts.addr, 3)
	a, b, c := cs[0], cs[1], cs[2]

	a.send(t, "hello")
	b.expect(t, a.name+": hello")
	c.expect(t, a.name+": hello")
	// telnet ends lines with "\r\n"; the "\r" goes, the line stays.
	_, err := io.WriteString(b.conn, "hi there\r\n")
	require.NoError(t, err)
	a.expect(t, b.name+": hi there")
	c.expect(t, b.name+": hi there")
	// Several lines in one write arrive as several lines, in order, and the
	// sender never gets its own back: a's next line is c's.
	_, err = io.WriteString(c.conn, "one\ntwo\nthree\n")
	require.NoError(t, err)
	for _, want := range []string{"one", "two", "three"} {
		a.expect(t, c.name+": "+want)
		b.expect(t, c.name+": "+want)
	}
	b.send(t, "last")
	a.expect(t, b.name+": last")
}

func TestNamesAreUniqueWhenManyJoinAtOnce(t *testing.T) {
	ts := startServer(t)
	const n = 30
	names := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		spawn(&wg, func() {
			c, err := dial(ts.addr)
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(func() { c.conn.Close() })
			names <- c.name
		})
	}
	wg.Wait()
	close(names)
	seen := map[string]bool{}
	for name := range names {
		require.False(t, seen[name], "two clients online were both named %s", name)
		seen[name] = true
	}
	require.Len(t, seen, n)
}

func TestRename(t *testing.T) {
	ts := startServer(t)
	cs := joinAll(t, ts.addr, 3)
	a, b, c := cs[0], cs[1], cs[2]

	a.send(t, "/name ann")
	a.expect(t, "You are now ann")
	b.expect(t, a.name+" is now ann")
	c.expect(t, a.name+" is now ann")
	a.send(t, "after")
	b.expect(t, "ann: after")
	c.expect(t, "ann: after")

	b.send(t, "/name ann") // taken
	line, err := b.read()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(line, "error:") && strings.Contains(line, "taken"), "b got %q", line)
	for _, bad := range []string{"two words", "a:b", strings.Repeat("x", 21), "", "\x1b[2J"} {
		b.send(t, "/name "+bad)
		line, err := b.read()
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(line, "error:") && strings.Contains(line, "valid"), "b got %q for %q", line, bad)
		require.NotContains(t, line, "\x1b", "the error must not echo an escape character")
	}
	b.send(t, "still "+b.name)
	a.expect(t, b.name+": still "+b.name) // nobody heard of the failures
	c.expect(t, b.name+": still "+b.name)
}

// Ten clients ask for the same free name at once, 10 times over: exactly one
// gets it each time.
func TestOnlyOneOfManyGetsTheSameName(t *testing.T) {
	ts := startServer(t)
	cs := joinAll(t, ts.addr, 10)
	for round := range 10 {
		want := fmt.Sprintf("prize%d", round)
		replies := make(chan string, len(cs))
		var wg sync.WaitGroup
		for _, c := range cs {
			spawn(&wg, func() {
				c.conn.Write([]byte("/name " + want + "\n"))
				for { // skip the others' rename notices
					line, err := c.read()
					if err != nil {
						replies <- "no reply: " + err.Error()
						return
					}
					if strings.HasPrefix(line, "You are now") || strings.HasPrefix(line, "error:") {
						replies <- line
						return
					}
				}
			})
		}
		wg.Wait()
		close(replies)
		won := 0
		for r := range replies {
			if r == "You are now "+want {
				won++
			} else {
				require.Contains(t, r, "taken")
			}
		}
		require.Equal(t, 1, won, "round %d: %d clients got the name %s", round, won, want)
		for _, c := range cs { // the winner's notice reached those still reading: drain
			for c.r.Buffered() > 0 {
				c.read()
			}
		}
	}
}

// A guest name somebody took with /name is never handed to a newcomer.
func TestNewcomersNeverGetANameInUse(t *testing.T) {
	ts := startServer(t)
	a := join(t, ts.addr)
	require.Equal(t, "guest1", a.name, "a fresh server's first guest")
	a.send(t, "/name guest2") // what a counter would hand out next
	a.expect(t, "You are now guest2")
	b := join(t, ts.addr)
	require.NotEqual(t, "guest2", b.name, "a newcomer got a name in use")
	a.expect(t, b.name+" joined (2 online)")
}

func TestJoinAndLeaveNotices(t *testing.T) {
	ts := startServer(t)
	a := join(t, ts.addr)
	require.Equal(t, 1, a.online)
	b := join(t, ts.addr)
	require.Equal(t, 2, b.online)
	a.expect(t, b.name+" joined (2 online)")
	c := join(t, ts.addr)
	a.expect(t, c.name+" joined (3 online)")
	b.expect(t, c.name+" joined (3 online)")

	b.send(t, "/name bea") // the leave notice uses the name it has last
	b.expect(t, "You are now bea")
	a.expect(t, b.name+" is now bea")
	c.expect(t, b.name+" is now bea")
	b.conn.Close()
	a.expect(t, "bea left (2 online)")
	c.expect(t, "bea left (2 online)")
}

// Twenty clients join at the same moment, then leave at the same moment, ten
// times over. An observer must see the counts go up one at a time, then down.
func TestCountsStayRightWhenManyJoinAndLeaveAtOnce(t *testing.T) {
	ts := startServer(t)
	observer := join(t, ts.addr)
	const n = 20
	for range 10 {
		cs := make([]*user, n)
		var wg sync.WaitGroup
		for i := range cs {
			spawn(&wg, func() {
				c, err := dial(ts.addr)
				if err != nil {
					t.Error(err)
					return
				}
				cs[i] = c
			})
		}
		wg.Wait()
		require.False(t, t.Failed())
		welcomed := map[string]int{}
		for _, c := range cs {
			welcomed[c.name] = c.online
		}
		for want := 2; want <= n+1; want++ {
			name, what, online := observer.readNotice(t)
			require.Equal(t, "joined", what)
			require.Equal(t, want, online, "the join counts must go up one at a time")
			require.Equal(t, welcomed[name], online, "%s's welcome and join notice disagree", name)
		}
		for _, c := range cs {
			spawn(&wg, func() { c.conn.Close() })
		}
		wg.Wait()
		for want := n; want >= 1; want-- {
			_, what, online := observer.readNotice(t)
			require.Equal(t, "left", what)
			require.Equal(t, want, online, "the leave counts must go down one at a time")
		}
	}
}

// /quit, and PyChat's !quit (with or without a "\n": its client sends none, then
// hangs up), say goodbye and leave; the others hear it as a leave.
func TestQuit(t *testing.T) {
	ts := startServer(t)
	a := join(t, ts.addr)
	for _, bye := range []string{"/quit\n", "!quit\n", "/quit\r\n", "!quit"} {
		b := join(t, ts.addr)
		a.expect(t, b.name+" joined (2 online)")
		_, err := io.WriteString(b.conn, "see you\n"+bye)
		require.NoError(t, err)
		if bye == "!quit" {
			b.conn.(interface{ CloseWrite() error }).CloseWrite()
		}
		a.expect(t, b.name+": see you")
		lines, err := b.rest(wait)
		require.NoError(t, err, "after %q the server must hang up", bye)
		require.Equal(t, []string{"Goodbye " + b.name}, lines, "after %q", bye)
		a.expect(t, b.name+" left (1 online)")
	}
	// An unknown command is answered, and not passed on.
	a.send(t, "/dance")
	line, err := a.read()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(line, "error: unknown command"), "a got %q", line)
}
