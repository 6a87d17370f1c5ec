package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the tests if a goroutine of the tool, or of a test server, is
// still running once they are done. Started with LOAD_TEST_SERVER set, the test
// program is a chat server instead: see serveChild, and startChildServer.
func TestMain(m *testing.M) {
	if os.Getenv("LOAD_TEST_SERVER") != "" {
		serveChild()
		return
	}
	goleak.VerifyTestMain(m)
}

// serveChild is the chat server of a test that needs one in another process:
// it listens on 127.0.0.1:0, writes its address on stdout, and serves until its
// stdin ends (when the test closes it, or ends).
func serveChild() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s := &testServer{addr: l.Addr().String(), l: l, conns: map[net.Conn]bool{}}
	go s.serve(chat)
	fmt.Println(s.addr)
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// --- The percentiles ---

// exactPercentile is the definition the histogram approximates: sort the
// values; p99 of 100 values is the 99th.
func exactPercentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p * float64(len(sorted)) / 100))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func TestPercentileSmallValuesAreExact(t *testing.T) {
	var h histogram
	for v := 1; v <= 100; v++ {
		h.add(time.Duration(v)) // 1ns to 100ns: under 128, each has its own bucket
	}
	assert.Equal(t, time.Duration(50), h.percentile(50))
	assert.Equal(t, time.Duration(99), h.percentile(99))
	assert.Equal(t, time.Duration(100), h.percentile(100))
	assert.Equal(t, time.Duration(1), h.percentile(0.1)) // the smallest: rank 1
	assert.Equal(t, time.Duration(1), h.percentile(0))

	var empty histogram
	assert.Equal(t, time.Duration(0), empty.percentile(99))
}

func TestPercentileOneValue(t *testing.T) {
	var h histogram
	h.add(1234567 * time.Nanosecond)
	for _, p := range []float64{0, 50, 99, 100} {
		assert.Equal(t, 1234567*time.Nanosecond, h.percentile(p), "p%v of one value is that value", p)
	}
}

// TestBuckets: every value falls in a bucket that holds it, the buckets follow
// one another with no gap, and none is wider than 1/64 of its smallest value.
func TestBuckets(t *testing.T) {
	values := []time.Duration{0, 1, 127, 128, 129, 255, 256, 1000, 999999, time.Second, time.Hour, 1<<63 - 1}
	for range 10000 {
		values = append(values, time.Duration(rand.Int63n(int64(time.Minute))))
	}
	for _, v := range values {
		i := bucket(v)
		require.Less(t, i, numBuckets)
		lo, hi := bucketBounds(i)
		require.True(t, lo <= v && v <= hi, "%d is in bucket %d, [%d, %d]", v, i, lo, hi)
		require.LessOrEqual(t, float64(hi-lo+1), max(float64(lo)/64, 1), "bucket %d is too wide", i)
	}
	for i := 1; i < numBuckets; i++ {
		_, prevHi := bucketBounds(i - 1)
		lo, _ := bucketBounds(i)
		require.Equal(t, prevHi+1, lo, "a gap between buckets %d and %d", i-1, i)
	}
}

// TestPercentileMatchesSorting compares the histogram with sorting every value,
// on a few shapes of latency: it may be high by 1/64, never low.
func TestPercentileMatchesSorting(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	shapes := []struct {
		name string
		next func() time.Duration
	}{
		{"uniform", func() time.Duration { return time.Duration(rng.Int63n(int64(10 * time.Millisecond))) }},
		{"long tail", func() time.Duration { return time.Duration(rng.ExpFloat64() * float64(time.Millisecond)) }},
		{"two humps", func() time.Duration {
			if rng.Intn(100) < 3 {
				return 40*time.Millisecond + time.Duration(rng.Int63n(int64(time.Millisecond)))
			}
			return 200*time.Microsecond + time.Duration(rng.Int63n(int64(50*time.Microsecond)))
		}},
	}
	for _, shape := range shapes {
		t.Run(shape.name, func(t *testing.T) {
			var h histogram
			values := make([]time.Duration, 20000)
			for i := range values {
				values[i] = shape.next()
				h.add(values[i])
			}
			slices.Sort(values)
			for _, p := range []float64{1, 50, 90, 99, 99.9, 100} {
				want, got := exactPercentile(values, p), h.percentile(p)
				assert.GreaterOrEqual(t, got, want, "p%v", p)
				assert.LessOrEqual(t, float64(got), float64(want)*(1+1.0/64), "p%v: %v, want %v", p, got, want)
			}
			assert.Equal(t, values[len(values)-1], h.max)
			assert.Equal(t, int64(len(values)), h.n)
		})
	}
}

// --- Small servers to measure ---

// testServer is a tiny server on 127.0.0.1:0, whose connections are handled by
// handle. Everything it started ends when the test does.
type testServer struct {
	addr string
	l    net.Listener
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]bool
}

func startTestServer(t *testing.T, handle func(s *testServer, conn net.Conn)) *testServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &testServer{addr: l.Addr().String(), l: l, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.serve(handle)
	}()
	t.Cleanup(func() {
		l.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// serve accepts connections until the listener is closed.
func (s *testServer) serve(handle func(s *testServer, conn net.Conn)) {
	for {
		conn, err := s.l.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[conn] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			handle(s, conn)
			s.mu.Lock()
			delete(s.conns, conn)
			s.mu.Unlock()
		}()
	}
}

// echo sends every line back.
func echo(_ *testServer, conn net.Conn) {
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		fmt.Fprintf(conn, "%s\n", sc.Bytes())
	}
}

// chat sends every line to every other connection, "ADDR: " before it, as the
// workbook's chat servers do.
func chat(s *testServer, conn net.Conn) {
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		msg := []byte(fmt.Sprintf("%s: %s\n", conn.RemoteAddr(), sc.Bytes()))
		s.mu.Lock()
		for c := range s.conns {
			if c != conn {
				c.Write(msg)
			}
		}
		s.mu.Unlock()
	}
}

// silent reads everything and never answers.
func silent(_ *testServer, conn net.Conn) {
	io.Copy(io.Discard, conn)
}

// echoThenHangUp echoes n lines, then hangs up.
func echoThenHangUp(n int) func(*testServer, net.Conn) {
	return func(_ *testServer, conn net.Conn) {
		sc := bufio.NewScanner(conn)
		for i := 0; i < n && sc.Scan(); i++ {
			fmt.Fprintf(conn, "%s\n", sc.Bytes())
		}
	}
}

// testConfig is a run against addr that ends within a few seconds.
func testConfig(addr string, clients, msgs int) config {
	return config{addr: addr, clients: clients, senders: clients, msgs: msgs, mode: "auto", timeout: 10 * time.Second}
}

// --- Runs ---

func TestEchoServer(t *testing.T) {
	s := startTestServer(t, echo)
	res, err := run(testConfig(s.addr, 5, 200))
	require.NoError(t, err)
	assert.Equal(t, "echo", res.mode)
	assert.True(t, res.detected)
	assert.EqualValues(t, 5*200, res.sent)
	assert.EqualValues(t, 5*200, res.expected)
	assert.EqualValues(t, 5*200, res.delivered)
	assert.EqualValues(t, 5*200, res.lat.n, "one latency for each line")
	assert.Equal(t, 5, res.complete)
	assert.True(t, res.ok())
	assert.Positive(t, res.elapsed)
	assert.Zero(t, res.otherLines)
}

func TestChatServer(t *testing.T) {
	s := startTestServer(t, chat)
	res, err := run(testConfig(s.addr, 6, 100))
	require.NoError(t, err)
	assert.Equal(t, "chat", res.mode)
	assert.EqualValues(t, 6*100, res.sent)
	assert.EqualValues(t, 6*100*5, res.expected, "each line to the 5 others")
	assert.EqualValues(t, 6*100*5, res.delivered)
	assert.EqualValues(t, 6*100*5, res.lat.n)
	assert.Equal(t, 6, res.complete)
	assert.True(t, res.ok())
	assert.LessOrEqual(t, res.lat.percentile(50), res.lat.percentile(99))
	assert.LessOrEqual(t, res.lat.percentile(99), res.lat.max)
}

// TestOneSender: with -senders 1 the others only listen: one broadcast each.
func TestOneSender(t *testing.T) {
	s := startTestServer(t, chat)
	cfg := testConfig(s.addr, 20, 3)
	cfg.senders, cfg.mode = 1, "chat"
	res, err := run(cfg)
	require.NoError(t, err)
	assert.False(t, res.detected)
	assert.EqualValues(t, 3, res.sent)
	assert.EqualValues(t, 3*19, res.delivered)
	assert.True(t, res.ok())
}

// TestGreeterNeedsNoLine: with -senders 1, the one who greets wants no line,
// so its reader ends, without an error, at the first line it gets (a server's
// "guest7 joined", say). That is not the server hanging up on it: the greeting
// goes on until everybody has heard it. Here the second client hears only the
// second greeting, once the greeter's reader is surely done.
func TestGreeterNeedsNoLine(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	greeterConn, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	defer greeterConn.Close()
	serverSide, err := l.Accept()
	require.NoError(t, err)
	defer serverSide.Close()

	newClient := func(id int) *client {
		return &client{id: id, heard: make(chan struct{}), done: make(chan struct{})}
	}
	greeter, listener := newClient(0), newClient(1)
	greeter.conn, listener.conn = greeterConn, greeterConn // the listener is never written to
	close(greeter.done)                                    // its reader is done: it had all it wanted
	go func() {
		sc := bufio.NewScanner(serverSide)
		for n := 1; sc.Scan(); n++ {
			if n == 2 {
				close(listener.heard)
			}
		}
	}()
	r := &runner{clients: []*client{greeter, listener}}
	assert.True(t, r.greetAll(context.Background()), "the greeting went on until the listener heard it")

	// When the server did hang up on the greeter, there is no point going on.
	greeter.readErr = io.EOF
	listener.heard = make(chan struct{})
	assert.False(t, r.greetAll(context.Background()))
}

// TestPaced: at 40 lines/s, 5 lines take at least the 4 gaps between them.
func TestPaced(t *testing.T) {
	s := startTestServer(t, echo)
	cfg := testConfig(s.addr, 3, 5)
	cfg.rate = 40
	begin := time.Now()
	res, err := run(cfg)
	require.NoError(t, err)
	assert.True(t, res.ok())
	assert.GreaterOrEqual(t, time.Since(begin), 4*time.Second/40)
}

// TestOneAtATime: a server that serves its clients one after another (like
// stage2) still gets everybody's lines back, because each client hangs up as
// soon as it has all of its own.
func TestOneAtATime(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			echo(nil, conn) // the next Accept waits until this client has left
			conn.Close()
		}
	}()
	defer func() { l.Close(); <-done }()

	res, err := run(testConfig(l.Addr().String(), 8, 50))
	require.NoError(t, err)
	assert.Equal(t, "echo", res.mode)
	assert.Equal(t, 8, res.complete)
	assert.True(t, res.ok())
}

// TestOneClientOnly: a server that serves one client, then closes its listener
// (like stage1). The others are refused or hung up on, and the run says so.
func TestOneClientOnly(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := l.Accept()
		l.Close() // the clients waiting to be accepted are reset
		if err == nil {
			echo(nil, conn)
			conn.Close()
		}
	}()
	defer func() { l.Close(); <-done }()

	res, err := run(testConfig(l.Addr().String(), 4, 10))
	require.NoError(t, err)
	assert.Equal(t, 1, res.complete)
	assert.Equal(t, 3, res.dropped+res.unreachable, "the three others")
	assert.EqualValues(t, 4*10, res.expected, "the lines of all four")
	assert.False(t, res.ok())
	var out bytes.Buffer
	res.print(&out)
	assert.Contains(t, out.String(), "only one client was served")
}

// TestDrops: a server that hangs up after 5 lines drops every client; the run
// ends at once, it does not wait for the timeout, and it says why.
func TestDrops(t *testing.T) {
	s := startTestServer(t, echoThenHangUp(5))
	cfg := testConfig(s.addr, 4, 100)
	begin := time.Now()
	res, err := run(cfg)
	require.NoError(t, err)
	assert.Less(t, time.Since(begin), cfg.timeout/2, "it waited for the timeout")
	assert.Equal(t, 4, res.dropped)
	assert.Zero(t, res.complete)
	assert.False(t, res.timedOut)
	require.Error(t, res.firstDrop)
	assert.LessOrEqual(t, res.delivered, int64(4*5))
	var out bytes.Buffer
	res.print(&out)
	assert.Contains(t, out.String(), "4 clients: hung up on by the server")
}

// TestNeverAnswers: a server that reads but never writes. Asked what it is, it
// never says: the run fails with that message when the timeout comes. Told it
// is an echo server, every client is reported silent.
func TestNeverAnswers(t *testing.T) {
	t.Parallel() // it mostly waits for its timeouts: alongside the other one that does
	s := startTestServer(t, silent)
	cfg := testConfig(s.addr, 3, 10)
	cfg.timeout = 500 * time.Millisecond
	begin := time.Now()
	_, err := run(cfg)
	require.ErrorContains(t, err, "never answered")
	assert.Less(t, time.Since(begin), 5*time.Second)

	cfg.mode = "echo"
	var progress bytes.Buffer
	cfg.progress, cfg.every = &progress, 50*time.Millisecond
	res, err := run(cfg)
	require.NoError(t, err)
	assert.True(t, res.timedOut)
	assert.Equal(t, 3, res.silent)
	assert.Zero(t, res.delivered)
	assert.EqualValues(t, 3*10, res.sent)
	var out bytes.Buffer
	res.print(&out)
	assert.Contains(t, out.String(), "TIMED OUT")
	assert.Contains(t, out.String(), "3 clients: got no line at all")
	assert.Contains(t, progress.String(), "sent 30  got 0/30", "the progress lines: %q", progress.String())
	assert.NotContains(t, progress.String(), "\r", "not a terminal: plain lines")
}

// TestFallsBehind: a chat server that sends only the first 10 lines of each
// client and then stops sending, while it keeps reading: the clients got some
// lines but not all when the time runs out.
func TestFallsBehind(t *testing.T) {
	t.Parallel() // it mostly waits for its timeout
	s := startTestServer(t, func(s *testServer, conn net.Conn) {
		sc := bufio.NewScanner(conn)
		for n := 0; sc.Scan(); n++ {
			if n >= 10 && !bytes.Contains(sc.Bytes(), []byte(greeting)) {
				continue // swallowed
			}
			msg := []byte(fmt.Sprintf("%s: %s\n", conn.RemoteAddr(), sc.Bytes()))
			s.mu.Lock()
			for c := range s.conns {
				if c != conn {
					c.Write(msg)
				}
			}
			s.mu.Unlock()
		}
	})
	cfg := testConfig(s.addr, 3, 50)
	cfg.timeout = time.Second
	res, err := run(cfg)
	require.NoError(t, err)
	assert.True(t, res.timedOut)
	assert.Equal(t, 3, res.behind)
	assert.Less(t, res.delivered, res.expected)
	var out bytes.Buffer
	res.print(&out)
	assert.Contains(t, out.String(), "the server fell behind")
}

func TestNoServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close() // nobody listens there now
	_, err = run(testConfig(addr, 2, 1))
	require.ErrorContains(t, err, "cannot connect")
}

// TestFileLimit: asking for more files than the system allows says what to do.
func TestFileLimit(t *testing.T) {
	err := raiseFileLimit(1 << 40)
	if runtime.GOOS == "windows" {
		require.NoError(t, err) // no such limit there
		return
	}
	require.ErrorContains(t, err, "ulimit -n")
	require.NoError(t, raiseFileLimit(100), "100 files should be no problem")
}

// --- The command line ---

func TestCommandLine(t *testing.T) {
	s := startTestServer(t, chat)
	dir := t.TempDir()
	results := filepath.Join(dir, "results.tsv")
	var stdout, stderr bytes.Buffer
	code := cli([]string{"-addr", s.addr, "-sweep", "2,4:3", "-repeat", "2", "-msgs", "5", "-label", "tiny chat",
		"-results", results, "-timeout", "10s"}, &stdout, &stderr)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", &stdout, &stderr)
	assert.Contains(t, stdout.String(), "delivered 10 of 10 lines") // 2 clients × 5 lines × 1 other
	assert.Contains(t, stdout.String(), "delivered 36 of 36 lines") // 4 × 3 × 3
	// The server is this test: its CPU and memory are not measured, which four runs say once.
	assert.Equal(t, 1, strings.Count(stdout.String(), "not measured ("), stdout.String())
	assert.Equal(t, 1, strings.Count(stdout.String(), "server CPU and memory: not measured ("), stdout.String())

	stdout.Reset()
	svg := filepath.Join(dir, "chart.svg")
	code = cli([]string{"-report", results, "-svg", svg}, &stdout, &stderr)
	require.Equal(t, 0, code, "stderr:\n%s", &stderr)
	table := tableLines(stdout.String())
	require.Len(t, table, 4, "a header, a rule and the two configurations, run twice each:\n%s", &stdout)
	assert.True(t, strings.HasPrefix(table[2], "| tiny chat | chat | 2 | 5 | unpaced | 2 |"), table[2])
	assert.True(t, strings.HasPrefix(table[3], "| tiny chat | chat | 4 | 3 | unpaced | 2 |"), table[3])
	assert.True(t, strings.HasSuffix(table[3], "| yes |"), table[3])

	// The chart is well-formed XML, with a point for each run in each of its two charts.
	f, err := os.Open(svg)
	require.NoError(t, err)
	defer f.Close()
	points := 0
	for d := xml.NewDecoder(f); ; {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "circle" {
			points++
		}
	}
	assert.Equal(t, 4, points)
}

// TestMedians: repeated runs of one configuration become one row of medians;
// another configuration stays a row of its own.
func TestMedians(t *testing.T) {
	run := func(label string, perSecond float64, p99 time.Duration, ok bool) row {
		return row{label: label, mode: "chat", clients: 10, senders: 10, msgs: 5, perSecond: perSecond, p99: p99, ok: ok}
	}
	rows := medians([]row{
		run("a", 10, 3*time.Millisecond, true),
		run("b", 7, time.Millisecond, true),
		run("a", 30, 1*time.Millisecond, true),
		run("a", 20, 9*time.Millisecond, false),
	})
	require.Len(t, rows, 2)
	assert.Equal(t, "a", rows[0].label)
	assert.Equal(t, 3, rows[0].runs)
	assert.Equal(t, 20.0, rows[0].perSecond)
	assert.Equal(t, 3*time.Millisecond, rows[0].p99)
	assert.False(t, rows[0].ok, "one of the three runs lost lines")
	assert.Equal(t, 1, rows[1].runs)
	assert.Equal(t, 7.0, rows[1].perSecond)
	assert.True(t, rows[1].ok)
	assert.Equal(t, int64(15), median([]row{{msgs: 10}, {msgs: 20}}, func(r row) int64 { return int64(r.msgs) }), "two: their mean")
}

func TestCommandLineMistakes(t *testing.T) {
	for _, args := range [][]string{
		{"-clients", "0"},
		{"-mode", "shout"},
		{"-mode", "chat", "-clients", "1"},
		{"-rate", "-1"},
		{"-sweep", "10,lots"},
		{"-repeat", "0"},
		{"-svg", "x.svg"},
		{"-baseline", "stage5"},
		{"extra"},
		{"-nosuchflag"},
	} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 2, cli(args, &stdout, &stderr), "%q", args)
		assert.NotEmpty(t, stderr.String(), "%q: no message", args)
	}
}

// TestExitStatus: 1 when a line went missing, with the summary on stdout.
func TestExitStatus(t *testing.T) {
	s := startTestServer(t, echoThenHangUp(2))
	var stdout, stderr bytes.Buffer
	code := cli([]string{"-addr", s.addr, "-clients", "2", "-msgs", "10", "-timeout", "5s"}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout.String(), "clients: hung up on by the server")
}
