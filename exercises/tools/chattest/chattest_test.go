package chattest

import (
	"bufio"
	"fmt"
	"log"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { Main(m) }

// echo is the smallest Server: it echoes each line, and logs as the stages do.
type echo struct {
	log   *log.Logger
	mu    sync.Mutex
	l     net.Listener
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newEcho(logger *log.Logger) *echo { return &echo{log: logger, conns: map[net.Conn]bool{}} }

func (s *echo) Serve(l net.Listener) error {
	s.mu.Lock()
	s.l = l
	s.mu.Unlock()
	defer s.wg.Wait()
	for {
		conn, err := l.Accept()
		if err != nil {
			return nil // Close closed l
		}
		s.mu.Lock()
		s.conns[conn] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			s.log.Printf("Connected %s", conn.RemoteAddr())
			sc := bufio.NewScanner(conn)
			for sc.Scan() {
				fmt.Fprintf(conn, "%s\n", sc.Bytes())
			}
			s.log.Printf("Disconnected %s", conn.RemoteAddr())
		}()
	}
}

func (s *echo) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.l != nil {
		s.l.Close()
	}
	for c := range s.conns {
		c.Close()
	}
}

func TestStartJoinAndClose(t *testing.T) {
	ts := Start(t, newEcho)
	c := ts.Join(t)
	c.Send("hello\r\n")
	require.Equal(t, "hello\n", c.ReadLine())
	c.ReadNothing()
	ts.Server.Close()
	c.ReadEOF()
	require.NoError(t, ts.Served(t))
	ts.WaitLeft(t, c)
}

// Every netcat the tests may meet (see .ci/run) must pass this: what is typed
// goes out, what comes back is printed, and Quit hangs up.
func TestNetcat(t *testing.T) {
	ts := Start(t, newEcho)
	nc := Netcat(t, ts.Addr)
	nc.Type(t, "hello from nc")
	require.Equal(t, "hello from nc", nc.Next(t))
	nc.Type(t, "and again")
	require.Equal(t, "and again", nc.Next(t))
	nc.Quit(t)
	ts.WaitLog(t, "Disconnected ")
}

// A Session keeps the \r of a line that has one: a test of line endings must see it.
func TestSessionKeepsCR(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		conn, err := l.Accept()
		if err == nil {
			conn.Write([]byte("with cr\r\nwithout\n"))
			conn.Close()
		}
	}()
	nc := Netcat(t, l.Addr().String())
	require.Equal(t, "with cr\r", nc.Next(t))
	require.Equal(t, "without", nc.Next(t))
}

func TestPackageDir(t *testing.T) {
	require.Equal(t, "./exercises/tools/chattest", packageDir(t))
}
