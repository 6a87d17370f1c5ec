package main

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// wait is how long a test waits for a line that should come. The server answers in
// microseconds; the rest is room for a busy machine and the race detector.
const wait = 3 * time.Second

// TestMain fails the package if any goroutine outlives its test: every client's
// goroutine must end when the client leaves or the server closes.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// welcome matches a welcome line and captures the name in it. A name is what
// /name accepts: 1 to 20 letters, digits, - or _.
var welcome = regexp.MustCompile(`^Welcome ([A-Za-z0-9_-]{1,20})$`)

// startServer serves on a fresh port of 127.0.0.1 until the test ends, and
// returns the address.
func startServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := NewServer(log.New(io.Discard, "", 0))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		assert.NoError(t, <-done, "Serve must return nil after Close")
	})
	return l.Addr().String()
}

// client is one chat user on a real socket.
type client struct {
	conn net.Conn
	r    *bufio.Reader
	name string // from the welcome line
}

// dial connects to addr and reads the welcome line. It returns an error
// rather than failing the test, so that other goroutines may call it.
func dial(addr string) (*client, error) {
	conn, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		return nil, err
	}
	c := &client{conn: conn, r: bufio.NewReader(conn)}
	line, err := c.read()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("no welcome line: %w", err)
	}
	m := welcome.FindStringSubmatch(line)
	if m == nil {
		conn.Close()
		return nil, fmt.Errorf("first line %q is not `Welcome NAME` with a valid NAME", line)
	}
	c.name = m[1]
	return c, nil
}

// join is dial for the test's own goroutine: it fails the test on error and
// hangs up when the test ends.
func join(t *testing.T, addr string) *client {
	t.Helper()
	c, err := dial(addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.conn.Close() })
	return c
}

// read returns the next line without its line ending, waiting at most wait.
func (c *client) read() (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(wait))
	line, err := c.r.ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// expect fails the test unless the next line is want.
func (c *client) expect(t *testing.T, want string) {
	t.Helper()
	line, err := c.read()
	require.NoError(t, err, "%s waited for %q", c.name, want)
	require.Equal(t, want, line, "what %s got", c.name)
}

// send sends line to the server with a newline, as nc does.
func (c *client) send(t *testing.T, line string) {
	t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(wait))
	_, err := io.WriteString(c.conn, line+"\n")
	require.NoError(t, err)
}

func TestWelcomeGivesEachClientAName(t *testing.T) {
	addr := startServer(t)
	a := join(t, addr) // join fails the test if there is no `Welcome NAME` line
	b := join(t, addr)
	require.NotEqual(t, a.name, b.name, "two clients online got the same name")
}

func TestLinesArePrefixedWithTheSendersName(t *testing.T) {
	addr := startServer(t)
	a, b, c := join(t, addr), join(t, addr), join(t, addr)

	a.send(t, "hello, all")
	b.expect(t, a.name+": hello, all")
	c.expect(t, a.name+": hello, all")

	// telnet ends lines with \r\n: the \r must not reach the others. And the
	// sender does not hear its own line: the next thing a reads is b's.
	_, err := io.WriteString(b.conn, "hi from telnet\r\n")
	require.NoError(t, err)
	a.expect(t, b.name+": hi from telnet")
	c.expect(t, b.name+": hi from telnet")
}

// Many clients arrive at the same moment; the race detector (go test -race)
// watches how the server picks their names.
func TestNamesAreUniqueWhenManyJoinAtOnce(t *testing.T) {
	addr := startServer(t)
	const n = 30
	type result struct {
		c   *client
		err error
	}
	results := make(chan result, n)
	for range n {
		go func() {
			c, err := dial(addr)
			results <- result{c, err}
		}()
	}
	seen := map[string]bool{}
	for range n {
		r := <-results
		if !assert.NoError(t, r.err) {
			continue
		}
		t.Cleanup(func() { r.c.conn.Close() })
		assert.False(t, seen[r.c.name], "the name %s was given twice", r.c.name)
		seen[r.c.name] = true
	}
	require.Len(t, seen, n)
}

func TestRename(t *testing.T) {
	addr := startServer(t)
	a, b, c := join(t, addr), join(t, addr), join(t, addr)
	old := a.name

	a.send(t, "/name alice")
	a.expect(t, "You are now alice")
	b.expect(t, old+" is now alice")
	c.expect(t, old+" is now alice")

	a.send(t, "hi, I am alice now")
	b.expect(t, "alice: hi, I am alice now")

	// Names that are exactly 20 characters, or use every allowed kind, are fine.
	a.send(t, "/name Zed_the-20th-chars")
	a.expect(t, "You are now Zed_the-20th-chars")
	b.expect(t, "alice is now Zed_the-20th-chars")

	// The old name is free again.
	b.send(t, "/name alice")
	b.expect(t, "You are now alice")
	a.expect(t, b.name+" is now alice")
}

func TestRenameToATakenNameFails(t *testing.T) {
	addr := startServer(t)
	a, b, c := join(t, addr), join(t, addr), join(t, addr)

	a.send(t, "/name alice")
	a.expect(t, "You are now alice")
	b.expect(t, a.name+" is now alice")
	c.expect(t, a.name+" is now alice")

	for _, taken := range []string{"alice", c.name} { // a chosen name, and a name given on arrival
		b.send(t, "/name "+taken)
		line, err := b.read()
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(line, "error:"), "%q: an error must start with `error:`", line)
		require.Contains(t, line, "taken")
	}

	// b keeps its name, and nobody was told of a rename.
	b.send(t, "still me")
	a.expect(t, b.name+": still me")
	c.expect(t, b.name+": still me")
}

func TestRenameToAnInvalidNameFails(t *testing.T) {
	addr := startServer(t)
	a, b := join(t, addr), join(t, addr)

	for _, bad := range []string{
		"",                      // empty
		"two words",             // a space would make `two words: hi` ambiguous
		"twenty-one-characters", // one too many
		"colon:",                // so nobody can fake a `NAME: text` line
		"tab\there",             // control characters
		"j\u00f6rg",             // letters means ASCII letters here
		"no/slash",              // only letters, digits, - and _
		"a-name-that-is-far-too-long-to-be-a-name",
	} {
		a.send(t, "/name "+bad)
		line, err := a.read()
		require.NoError(t, err, "/name %q", bad)
		require.True(t, strings.HasPrefix(line, "error:"), "/name %q: got %q, want a line starting with `error:`", bad, line)
		require.Contains(t, line, "valid", "/name %q: the error must say the name is not valid", bad)
	}

	// a keeps its name, and b was told of nothing but this line.
	a.send(t, "ok")
	b.expect(t, a.name+": ok")
}

// Many clients ask for the same free name at the same moment: exactly one gets it.
//
// A server that checks the name under its lock and takes it under a second one
// lets another client in between only when the lock hands itself over at that
// very moment. Go's sync.Mutex does that once waiters have queued for more than
// a millisecond (its "starvation mode"), so the test keeps the lock crowded: in
// each round, groups of clients race for one name per group, all at once, and
// every winner's notice goes to everybody, which keeps the lock busy long
// enough. Then a server with the two-step mistake lets several of a group win.
func TestOnlyOneOfManyGetsTheSameName(t *testing.T) {
	addr := startServer(t)
	const groups, size = 10, 10
	clients := make([]*client, groups*size)
	for i := range clients {
		clients[i] = join(t, addr)
	}

	for round := range 12 {
		type answer struct {
			group int
			line  string
		}
		answers := make(chan answer, len(clients))
		start := make(chan struct{})
		for i, c := range clients {
			group := i % groups
			want := fmt.Sprintf("r%dg%d", round, group)
			go func() {
				<-start // all at once
				// Send, then skip other clients' notices (`X is now r0g1`) until
				// our own answer comes: `You are now r0g1` or an error.
				c.conn.SetWriteDeadline(time.Now().Add(wait))
				_, err := io.WriteString(c.conn, "/name "+want+"\n")
				for err == nil {
					var line string
					line, err = c.read()
					if strings.HasPrefix(line, "You are now") || strings.HasPrefix(line, "error:") {
						answers <- answer{group, line}
						return
					}
				}
				answers <- answer{group, "no answer: " + err.Error()}
			}()
		}
		close(start)
		won := make([]int, groups)
		for range clients {
			a := <-answers
			if a.line == fmt.Sprintf("You are now r%dg%d", round, a.group) {
				won[a.group]++
				continue
			}
			assert.True(t, strings.HasPrefix(a.line, "error:") && strings.Contains(a.line, "taken"), "got %q", a.line)
		}
		for g, n := range won {
			require.Equal(t, 1, n, "round %d: of %d clients that asked for the name r%dg%d at once, this many got it", round, size, round, g)
		}
	}
}

// A client may rename itself to a name the server would hand out later (guest7,
// say, if the server counts guests). A newcomer must still get a name of its own.
func TestNewcomersNeverGetANameInUse(t *testing.T) {
	addr := startServer(t)
	var online []*client
	for i := range 5 {
		c := join(t, addr)
		online = append(online, c)
		// Take a name further along the way the server seems to count.
		want := fmt.Sprintf("%s%d", strings.TrimRight(c.name, "0123456789"), 6+i)
		c.send(t, "/name "+want)
		line, err := c.read()
		require.NoError(t, err)
		if line == "You are now "+want {
			c.name = want
		}
	}
	seen := map[string]bool{}
	for _, c := range online {
		seen[c.name] = true
	}
	for range 10 {
		c := join(t, addr)
		require.False(t, seen[c.name], "newcomer got %s, which is in use", c.name)
		seen[c.name] = true
	}
}
