package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// config is what one run does: the flags, checked.
type config struct {
	addr     string
	clients  int
	senders  int           // how many of the clients send (the first ones); the others only listen
	msgs     int           // lines each sender sends
	rate     float64       // lines per second for each sender; 0: as fast as the server takes them
	mode     string        // "chat", "echo" or "auto"
	pid      int           // the server's process, for its CPU time and memory; 0: find it by the port
	timeout  time.Duration // for the whole run, connecting included
	progress io.Writer     // where the progress line goes, or nil
	terminal bool          // progress is a terminal: rewrite one line instead of adding lines
	every    time.Duration // how often the progress line is written
}

// The lines the tool sends. Servers may put something before a line (a chat
// server adds "ADDR: "), so the receiver looks for the mark anywhere in it.
const (
	dataMark = "~d " // then: nanoseconds since the run began, the client, its line number
	greeting = "~g hello from the load tool: is everybody here?"
	padding  = "the quick brown fox"
)

// reservedFiles is what the tool may have open besides its clients' sockets.
const reservedFiles = 32

// greetEvery is how often the first client greets the others while we wait for
// the server to answer or to take everybody in.
const greetEvery = 100 * time.Millisecond

// maxDials is how many clients may be connecting at the same time.
const maxDials = 32

// client is one connection of the run. Its whole life, goroutine by goroutine:
//
//   - Dial. The run's own goroutine (in do) dials the first two clients, which it
//     needs to tell a chat server from an echo server; dialRest's maxDials dialer
//     goroutines dial the rest, a few at a time. A client that cannot connect has
//     done and sent closed at once, and no goroutine of its own.
//   - Read. Dialing starts the client's reader, the only goroutine that ever reads
//     conn, for the whole run. It counts lines until got reaches want (set by the
//     run's goroutine, maybe while it reads: hence atomic), or until a read fails
//     (readErr), and closes done as it returns.
//   - Write. Before anyone sends, only the first client is written to, by the run's
//     goroutine: the greetings of detect and greetAll. Then, for a sender only, its
//     sender goroutine (startSending) writes its lines, alone on conn from then on,
//     and closes sent as it returns (sendErr says why, if early).
//   - Close. An echo client's reader closes conn once it has every line and its
//     sender is done, so that a server that serves one client at a time goes on to
//     the next. Every other conn is closed by hangUpAll: when every client is
//     complete or its reader has returned (wait), when the run fails or the time
//     runs out (context.AfterFunc, on a goroutine of its own), and in any case when
//     run returns. Closing is what stops a reader blocked in Read and a sender
//     blocked in Write; run waits for both (r.wg) before it reads readErr, sendErr
//     and the counters to summarize, so nothing outlives the run.
type client struct {
	id    int
	sends bool
	// want is how many data lines it should receive, or -1 until we know. Its
	// reader compares it with got, so it is atomic: it is set while that runs.
	want atomic.Int64

	conn       net.Conn      // nil if it could not connect
	heard      chan struct{} // closed when it hears the greeting
	heardOnce  sync.Once
	sent       chan struct{} // closed when its sender is done, or never started
	done       chan struct{} // closed when its reader has returned
	complete   chan struct{} // closed when it has all the lines it wants
	once       sync.Once     // closes complete
	got        atomic.Int64  // data lines received
	lag        atomic.Int64  // latency of the last one, in ns: for the progress line
	lastAt     atomic.Int64  // when it got its last line, in ns since the run began
	readErr    error         // why its reader stopped before getting them all, if it did
	sendErr    error         // why its sender stopped before sending them all, if it did
	dialErr    error         // why it could not connect, if it could not
	otherLine  string        // the first line that was neither data nor greeting
	otherLines int           // how many such lines
}

// run connects the clients, has them send, counts what arrives where, and
// returns what it saw. It returns an error only when it could not run at all.
func run(cfg config) (*result, error) {
	if err := raiseFileLimit(cfg.clients + reservedFiles); err != nil {
		return nil, err
	}
	// Find the server's process now, while it has only its listener open: the
	// search reads the links of every open file on the machine.
	meter := newCPUMeter(cfg.addr, cfg.pid)
	// The server's memory, before any client connects: see mem.go.
	mem := memMeter{pid: meter.pid, why: meter.why}.readBefore()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	r := &runner{cfg: cfg, begin: time.Now(), lat: &histogram{}, cpu: meter, mem: mem}
	r.clients = make([]*client, cfg.clients)
	for i := range r.clients {
		c := &client{id: i, sends: i < cfg.senders,
			heard: make(chan struct{}), sent: make(chan struct{}), done: make(chan struct{}),
			complete: make(chan struct{})}
		c.want.Store(-1)
		r.clients[i] = c
	}
	stopProgress := r.showProgress()
	defer stopProgress()

	// When the time is up, hang up on everybody: every goroutine of the run is
	// then waiting for its connection and returns.
	defer context.AfterFunc(ctx, r.hangUpAll)()
	defer r.hangUpAll() // and in any case when the run ends

	res, err := r.do(ctx)
	if err != nil || res.greetFailed {
		r.hangUpAll() // no point waiting for the time to run out
	}
	r.wait()
	if err != nil {
		return nil, err
	}
	r.summarize(ctx, res)
	return res, nil
}

// runner holds one run's clients and counters.
type runner struct {
	cfg     config
	begin   time.Time // timestamps in the lines count from here
	clients []*client
	mode    string       // "chat" or "echo"; set before any want, read by readers after
	start   atomic.Int64 // when the first line was sent, ns since begin; 0: not yet

	// The CPU time the server and the tool use from the first line sent to the
	// last one delivered. Only the run's goroutine, in do and then wait,
	// touches them.
	cpu      cpuMeter
	cpuWatch *cpuWatch // started when the sending starts; nil before
	cpuUsed  cpuUse    // set when the watch stops

	// The server's memory before the clients connect (set in run) and once
	// they are all there (set in do, before the sending starts).
	mem memUse

	phase     atomic.Value // what the run is doing, for the progress line
	connected atomic.Int64
	heard     atomic.Int64 // clients that have heard the greeting
	sentLines atomic.Int64
	delivered atomic.Int64
	expected  atomic.Int64 // deliveries a perfect server would make, once known

	mu     sync.Mutex
	lat    *histogram // every delivered line's latency
	conns  []net.Conn // every connection, to hang up at the end
	closed bool       // hangUpAll has run: close new connections at once
	wg     sync.WaitGroup
}

// do is the run itself, step by step.
func (r *runner) do(ctx context.Context) (*result, error) {
	r.phase.Store("connecting")
	first := r.clients[0]
	if err := r.dial(ctx, first); err != nil {
		return nil, fmt.Errorf("cannot connect to %s: %w (is the server running?)", r.cfg.addr, err)
	}
	// The second client is needed to tell a chat server from an echo server.
	if len(r.clients) > 1 {
		r.dial(ctx, r.clients[1])
	}

	r.mode = r.cfg.mode
	if r.mode == "auto" {
		mode, err := r.detect(ctx)
		if err != nil {
			return nil, err
		}
		r.mode = mode
	}
	res := &result{cfg: r.cfg, mode: r.mode, detected: r.cfg.mode == "auto"}

	// Everybody connects before anyone sends, so that the clients are all
	// there and all start together.
	r.dialRest(ctx)
	switch r.mode {
	case "echo":
		for _, c := range r.clients {
			c.sends = true // -senders is for chat servers: here everybody sends
			r.setWant(c, int64(r.cfg.msgs))
		}
	case "chat":
		connectedSenders := int64(0)
		for _, c := range r.clients {
			if c.conn != nil && c.sends {
				connectedSenders++
			}
		}
		for _, c := range r.clients {
			want := int64(r.cfg.msgs) * connectedSenders
			if c.sends && c.conn != nil {
				want -= int64(r.cfg.msgs) // a chat server does not send us our own lines
			}
			r.setWant(c, want)
		}
		// A chat server sends each line to the clients on its list at that
		// moment: everybody must be on the list before anyone sends.
		r.phase.Store("greeting")
		if !r.greetAll(ctx) {
			res.greetFailed = true
			return res, nil
		}
	}

	// Everybody is there, and nobody has sent yet: what do they cost the
	// server? This waits, a second at most, for its memory to stop growing.
	r.phase.Store("reading the server's memory")
	r.mem.readAfter(ctx, r.liveClients())

	r.phase.Store("running")
	r.cpuWatch = r.cpu.watch(&r.delivered)
	for _, c := range r.clients {
		if c.conn != nil {
			r.startSending(ctx, c)
		}
	}
	return res, nil
}

// liveClients is how many clients are connected now: dialed, and not hung up
// on since. A client whose reader is done without an error is still connected:
// it needs no more lines (a sender, with one sender).
func (r *runner) liveClients() int {
	n := 0
	for _, c := range r.clients {
		if c.conn == nil {
			continue
		}
		select {
		case <-c.done:
			if c.readErr != nil { // it may be read: its reader is done
				continue
			}
		default:
		}
		n++
	}
	return n
}

// dial connects c and starts its reader.
func (r *runner) dial(ctx context.Context, c *client) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.cfg.addr)
	if err != nil {
		c.dialErr = err
		close(c.done)
		close(c.sent)
		return err
	}
	r.mu.Lock()
	r.conns = append(r.conns, conn)
	if r.closed {
		conn.Close()
	}
	r.mu.Unlock()
	c.conn = conn
	r.connected.Add(1)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(c.done)
		r.read(c)
	}()
	return nil
}

// dialRest connects the clients not yet connected, a few at a time, and returns
// when all have been tried.
func (r *runner) dialRest(ctx context.Context) {
	r.phase.Store("connecting")
	todo := make(chan *client)
	var wg sync.WaitGroup
	for range maxDials {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range todo {
				r.dial(ctx, c)
			}
		}()
	}
	for _, c := range r.clients {
		if c.conn == nil && c.dialErr == nil {
			todo <- c
		}
	}
	close(todo)
	wg.Wait()
}

// detect tells what kind of server it is: the first client greets until the
// greeting comes back to it (an echo server) or reaches the second (a chat server).
func (r *runner) detect(ctx context.Context) (string, error) {
	r.phase.Store("asking the server")
	first := r.clients[0]
	second := &client{heard: make(chan struct{})} // one nobody hears, if there is no second
	if len(r.clients) > 1 && r.clients[1].conn != nil {
		second = r.clients[1]
	}
	// When the time is up, all connections are closed: that is not the
	// server hanging up, so look at the clock first.
	noAnswer := func() error {
		msg := "nothing came back to the client that sent it, nor reached another one"
		if second.conn == nil {
			msg = "nothing came back (with one client, a chat server has nobody to send it to: use -clients 2 or more, or -mode chat)"
		}
		return fmt.Errorf("the server never answered a greeting in %v: %s", r.cfg.timeout, msg)
	}
	tick := time.NewTicker(greetEvery)
	defer tick.Stop()
	for {
		if _, err := fmt.Fprintf(first.conn, "%s\n", greeting); err != nil {
			if ctx.Err() != nil {
				return "", noAnswer()
			}
			return "", fmt.Errorf("the server hung up on the first client: %w", err)
		}
		select {
		case <-first.heard:
			return "echo", nil
		case <-second.heard:
			return "chat", nil
		case <-first.done:
			if ctx.Err() != nil {
				return "", noAnswer()
			}
			return "", fmt.Errorf("the server hung up on the first client before answering: %v", first.readErr)
		case <-ctx.Done():
			return "", noAnswer()
		case <-tick.C:
		}
	}
}

// greetAll has the first client greet until every other connected client has
// heard it: then the server has them all on its list. It returns false if the
// time ran out first.
func (r *runner) greetAll(ctx context.Context) bool {
	first := r.clients[0]
	// The first client's reader also ends, without an error, once it has all
	// the lines it wants: with -senders 1, that is none, and any line at all (a
	// server's "guest7 joined") ends it. Only an error means the server hung up.
	firstDone := first.done
	fmt.Fprintf(first.conn, "%s\n", greeting)
	tick := time.NewTicker(greetEvery)
	defer tick.Stop()
	for _, c := range r.clients[1:] {
		if c.conn == nil {
			continue
		}
		for waiting := true; waiting; {
			select {
			case <-c.heard:
				waiting = false
			case <-c.done: // it was hung up on, or needs no line: the summary will say
				if ctx.Err() != nil {
					return false // the time ran out, and the run hung up on it
				}
				waiting = false
			case <-firstDone:
				if first.readErr != nil { // it may be read: its reader is done
					return false // the server hung up on the one who greets
				}
				firstDone = nil // it needs no more lines: greet on
			case <-ctx.Done():
				return false
			case <-tick.C:
				fmt.Fprintf(first.conn, "%s\n", greeting)
			}
		}
	}
	return true
}

// startSending starts c's sender, if c is one of the senders.
func (r *runner) startSending(ctx context.Context, c *client) {
	if !c.sends {
		close(c.sent)
		return
	}
	r.start.CompareAndSwap(0, r.now())
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(c.sent)
		c.sendErr = r.send(ctx, c)
	}()
}

// send writes c's lines: as fast as the server takes them, or at cfg.rate.
// Each line carries the time it was written, for the receiver to measure how
// long it took.
func (r *runner) send(ctx context.Context, c *client) error {
	var w io.Writer = c.conn
	var buf *bufio.Writer
	var period time.Duration
	first := time.Now()
	if r.cfg.rate > 0 {
		// One line every period, each client starting at a different moment of
		// the first period, so that they do not all send at once.
		period = time.Duration(float64(time.Second) / r.cfg.rate)
		first = first.Add(period * time.Duration(c.id) / time.Duration(r.cfg.clients))
	} else {
		// As fast as possible: one write for many lines, or the tool itself
		// would be the bottleneck. The time in a line is when it was put in
		// the buffer, so the latency counts the time it waits there too.
		buf = bufio.NewWriterSize(c.conn, 8<<10)
		w = buf
	}
	line := make([]byte, 0, 128)
	for i := range r.cfg.msgs {
		if period > 0 {
			if wait := time.Until(first.Add(period * time.Duration(i))); wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		line = append(line[:0], dataMark...)
		line = strconv.AppendInt(line, r.now(), 10)
		line = append(line, " c"...)
		line = strconv.AppendInt(line, int64(c.id), 10)
		line = append(line, " n"...)
		line = strconv.AppendInt(line, int64(i), 10)
		line = append(line, " "+padding+"\n"...)
		if _, err := w.Write(line); err != nil {
			return err
		}
		r.sentLines.Add(1)
	}
	if buf != nil {
		return buf.Flush()
	}
	return nil
}

// read is c's reader: it reads every line the server sends c, until c has all
// it should get or the connection ends. Latencies go to the shared histogram in
// batches, so that its lock is taken once per hundreds of lines, not per line.
func (r *runner) read(c *client) {
	in := bufio.NewReaderSize(c.conn, 8<<10)
	var batch [256]time.Duration
	n := 0
	flush := func() {
		r.mu.Lock()
		for _, d := range batch[:n] {
			r.lat.add(d)
		}
		r.mu.Unlock()
		n = 0
	}
	defer flush()

	for {
		if want := c.want.Load(); want >= 0 && c.got.Load() >= want {
			break // all there
		}
		line, err := in.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			err = nil // a line longer than our buffer: not one of ours
		}
		if err != nil {
			c.readErr = err
			return
		}
		switch i := bytes.Index(line, []byte(dataMark)); {
		case i >= 0:
			sent, ok := parseInt(line[i+len(dataMark):])
			if !ok {
				c.countOther(line)
				continue
			}
			now := r.now()
			batch[n] = time.Duration(now - sent)
			if n++; n == len(batch) {
				flush()
			}
			c.lag.Store(now - sent)
			c.lastAt.Store(now)
			c.got.Add(1)
			r.delivered.Add(1)
			c.checkComplete()
		case bytes.Contains(line, []byte(greeting)):
			c.heardOnce.Do(func() {
				r.heard.Add(1)
				close(c.heard)
			})
		default:
			c.countOther(line)
		}
	}

	// All there. An echo client hangs up now, once its sender is done too: a
	// server that serves one client at a time then goes on to the next. A chat
	// client stays until the end: the others' lines may still be on their way,
	// and hanging up on unread bytes could lose them.
	if r.mode == "echo" {
		<-c.sent
		c.conn.Close()
	}
}

// setWant says how many lines c should get. Its reader may be running already.
func (r *runner) setWant(c *client, n int64) {
	c.want.Store(n)
	r.expected.Add(n)
	c.checkComplete() // in case it wants none, or has them all already
}

// checkComplete closes c.complete if c has all the lines it wants. Its reader
// calls it after each line, and setWant too: whichever comes last sees both.
func (c *client) checkComplete() {
	if want := c.want.Load(); want >= 0 && c.got.Load() >= want {
		c.once.Do(func() { close(c.complete) })
	}
}

// countOther counts a line that is neither data nor greeting: a server notice,
// for example. The first one is kept for the summary.
func (c *client) countOther(line []byte) {
	if c.otherLines == 0 {
		c.otherLine = string(bytes.TrimRight(line, "\r\n"))
	}
	c.otherLines++
}

// parseInt reads the decimal number at the start of b, up to a space.
func parseInt(b []byte) (int64, bool) {
	var v int64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		v = v*10 + int64(b[i]-'0')
	}
	return v, i > 0 && i < len(b) && b[i] == ' '
}

// now returns the time since the run began, in ns, from the monotonic clock:
// the one that changing the system's time does not affect.
func (r *runner) now() int64 { return int64(time.Since(r.begin)) }

// hangUpAll closes every connection, which ends every goroutine of the run.
func (r *runner) hangUpAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, conn := range r.conns {
		conn.Close()
	}
}

// wait waits until every client has all its lines or its reader has stopped,
// then hangs up on everybody and waits for every goroutine of the run.
func (r *runner) wait() {
	for _, c := range r.clients {
		if c.conn != nil || c.dialErr != nil { // the others were never tried
			select {
			case <-c.complete:
			case <-c.done:
			}
		}
	}
	// Stop watching the CPU before we hang up: the server's work of closing
	// the connections is not the run's.
	if r.cpuWatch != nil {
		r.cpuUsed = r.cpuWatch.stop()
	}
	r.hangUpAll()
	r.wg.Wait()
}
