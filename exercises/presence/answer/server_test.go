package main

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"regexp"
	"strconv"
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

var (
	// welcome matches `Welcome NAME (N online)` and captures NAME and N.
	welcome = regexp.MustCompile(`^Welcome ([A-Za-z0-9_-]{1,20}) \((\d+) online\)$`)
	// notice matches `NAME joined (N online)` and `NAME left (N online)`.
	notice = regexp.MustCompile(`^([A-Za-z0-9_-]{1,20}) (joined|left) \((\d+) online\)$`)
)

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
	conn   net.Conn
	r      *bufio.Reader
	name   string // from the welcome line
	online int    // how many the welcome line said were online, this client included
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
		return nil, fmt.Errorf("first line %q is not `Welcome NAME (N online)`", line)
	}
	c.name = m[1]
	c.online, _ = strconv.Atoi(m[2])
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

// readNotice reads the next line, which must be a join or leave notice, and
// returns its parts.
func (c *client) readNotice(t *testing.T) (name, what string, online int) {
	t.Helper()
	line, err := c.read()
	require.NoError(t, err, "%s waited for a join or leave notice", c.name)
	m := notice.FindStringSubmatch(line)
	require.NotNil(t, m, "%s got %q, want `NAME joined (N online)` or `NAME left (N online)`", c.name, line)
	online, _ = strconv.Atoi(m[3])
	return m[1], m[2], online
}

func TestJoinAndLeaveNotices(t *testing.T) {
	addr := startServer(t)
	a := join(t, addr)
	require.Equal(t, 1, a.online, "the first client is alone")

	b := join(t, addr)
	require.Equal(t, 2, b.online)
	a.expect(t, b.name+" joined (2 online)")

	c := join(t, addr)
	require.Equal(t, 3, c.online)
	a.expect(t, c.name+" joined (3 online)")
	b.expect(t, c.name+" joined (3 online)")

	// Chat lines still work, and the notices are lines like any other.
	a.send(t, "hello")
	b.expect(t, a.name+": hello")
	c.expect(t, a.name+": hello")

	b.conn.Close()
	a.expect(t, b.name+" left (2 online)")
	c.expect(t, b.name+" left (2 online)")

	// The count went down for real: the next newcomer makes three again.
	d := join(t, addr)
	require.Equal(t, 3, d.online)
	a.expect(t, d.name+" joined (3 online)")
}

// A client that renamed itself leaves under its new name: that is the name the
// others know it by.
func TestLeaveUsesTheCurrentName(t *testing.T) {
	addr := startServer(t)
	a := join(t, addr)
	b := join(t, addr)
	a.expect(t, b.name+" joined (2 online)")

	b.send(t, "/name bea")
	b.expect(t, "You are now bea")
	a.expect(t, b.name+" is now bea")

	b.conn.Close()
	a.expect(t, "bea left (1 online)")
}

// Twenty clients join at the same moment, then all leave at the same moment, while
// an observer who was there first reads every notice. Each change of the client
// list and the count it reports must be one step that nothing else can get into:
//
//   - the observer sees the counts 2, 3, ... 21 as they joined, each once and in
//     that order, then 20, 19, ... 1 as they left;
//   - each newcomer's welcome says the same count as its join notice;
//   - every joiner is announced once as joining and once as leaving.
//
// A server that counts in a separate step from the change (after unlocking, say)
// sooner or later reports one count twice, or two out of order, so the test
// plays the scene a few times. Run it with -race, which also catches a count
// read without the lock. Sixty newcomers a round keep the lock crowded: a Go
// mutex that waiters have queued on for over a millisecond hands itself straight
// to the next of them, so a gap between two locked steps is then a real one.
func TestCountsStayRightWhenManyJoinAndLeaveAtOnce(t *testing.T) {
	addr := startServer(t)
	observer := join(t, addr)
	require.Equal(t, 1, observer.online)
	const n = 60

	for round := range 10 {
		// Everybody arrives at once.
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
		welcomed := map[string]int{} // name -> count in its welcome
		var joiners []*client
		for range n {
			r := <-results
			require.NoError(t, r.err)
			t.Cleanup(func() { r.c.conn.Close() })
			joiners = append(joiners, r.c)
			welcomed[r.c.name] = r.c.online
		}
		require.Len(t, welcomed, n, "round %d: two joiners got the same name", round)

		for want := 2; want <= n+1; want++ {
			name, what, online := observer.readNotice(t)
			require.Equal(t, "joined", what, "round %d", round)
			require.Equal(t, want, online, "round %d: the counts of join notices must go 2, 3, ... %d", round, n+1)
			wc, ok := welcomed[name]
			require.True(t, ok, "round %d: %s joined twice, or is nobody we know", round, name)
			require.Equal(t, online, wc, "round %d: %s's welcome and join notice disagree on the count", round, name)
			delete(welcomed, name)
		}

		// Everybody leaves at once.
		left := map[string]bool{}
		for _, c := range joiners {
			left[c.name] = true
			go c.conn.Close()
		}
		for want := n; want >= 1; want-- {
			name, what, online := observer.readNotice(t)
			require.Equal(t, "left", what, "round %d", round)
			require.Equal(t, want, online, "round %d: the counts of leave notices must go %d, ... 2, 1", round, n)
			require.True(t, left[name], "round %d: %s left twice, or is nobody we know", round, name)
			delete(left, name)
		}
	}

	// After it all, the observer is alone: a newcomer makes two.
	late := join(t, addr)
	require.Equal(t, 2, late.online)
	observer.expect(t, late.name+" joined (2 online)")
}
