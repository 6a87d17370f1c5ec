package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"time"
)

// result is what a run saw.
type result struct {
	cfg         config
	mode        string // "chat" or "echo"
	detected    bool   // mode was found by asking the server, not given
	greetFailed bool   // the time ran out before every client was on the server's list
	timedOut    bool   // the time ran out before every line had arrived

	sent      int64         // lines the clients wrote
	expected  int64         // deliveries a perfect server makes: lines × receivers
	delivered int64         // deliveries made
	elapsed   time.Duration // from the first line sent to the last one delivered
	lat       *histogram    // how long each delivered line took
	cpu       cpuUse        // the CPU time the server and the tool used meanwhile
	mem       memUse        // the server's memory before the clients connected and once they were

	// What became of the clients. Each is in exactly one of these.
	complete    int // got every line it should
	behind      int // got some, but the time ran out
	silent      int // got none, and the time ran out: the server never answered it
	dropped     int // the server hung up on it (or reset it) first
	unreachable int // could not connect

	firstDrop        error  // why the first dropped client was
	firstUnreachable error  // why the first unreachable client was
	otherLines       int    // lines that were neither ours nor the greeting
	otherLine        string // the first of them
}

// ok reports whether every line reached every client it should have.
func (res *result) ok() bool {
	return res.complete == res.cfg.clients && !res.greetFailed
}

// perSecond is the deliveries per second.
func (res *result) perSecond() float64 {
	if res.elapsed <= 0 {
		return 0
	}
	return float64(res.delivered) / res.elapsed.Seconds()
}

// summarize sorts the clients into the result's groups.
func (r *runner) summarize(ctx context.Context, res *result) {
	res.timedOut = ctx.Err() != nil
	res.lat = r.lat
	res.sent = r.sentLines.Load()
	res.delivered = r.delivered.Load()
	var last int64
	for _, c := range r.clients {
		last = max(last, c.lastAt.Load())
		if c.otherLines > 0 && res.otherLines == 0 {
			res.otherLine = c.otherLine
		}
		res.otherLines += c.otherLines
		want, got := c.want.Load(), c.got.Load()
		res.expected += max(want, 0)
		if c.conn == nil {
			res.unreachable++
			if res.firstUnreachable == nil {
				res.firstUnreachable = c.dialErr
			}
			continue
		}

		// An error that comes from our own hanging up (net.ErrClosed) is not
		// the server's doing: that client was still waiting when time ran out.
		err := c.readErr
		if err == nil || errors.Is(err, net.ErrClosed) {
			err = c.sendErr
		}
		if errors.Is(err, net.ErrClosed) || errors.Is(err, context.DeadlineExceeded) {
			err = nil
		}
		switch {
		case want >= 0 && got >= want && err == nil:
			res.complete++
		case err != nil:
			res.dropped++
			if res.firstDrop == nil {
				res.firstDrop = err
			}
		case got == 0:
			res.silent++
		default:
			res.behind++
		}
	}
	if start := r.start.Load(); start > 0 && last > start {
		res.elapsed = time.Duration(last - start)
	}
	if r.cpuUsed.measured {
		res.cpu = r.cpuUsed
		res.cpu.deliveries = res.delivered
		res.cpu.cpus = runtime.NumCPU()
	}
	res.mem = r.mem
	if res.mem.measured && res.mem.why != "" && res.mem.why == res.cpu.why {
		res.cpu.memoryToo = true // the CPU's line says it for both
		res.mem.quiet = true
	}
}

// print writes the result for a person to read.
func (res *result) print(w io.Writer) {
	cfg := res.cfg
	how := "as fast as it can"
	if cfg.rate > 0 {
		how = fmt.Sprintf("at %g lines/s", cfg.rate)
	}
	detected := ""
	if res.detected {
		detected = " (it answered like one)"
	}
	fmt.Fprintf(w, "%s server at %s%s\n", res.mode, cfg.addr, detected)
	clients, lines := plural(cfg.clients, "client"), plural(cfg.msgs, "line")
	switch {
	case res.mode == "echo":
		fmt.Fprintf(w, "%s, each sends %s %s, and should get each one back\n", clients, lines, how)
	case cfg.senders == 1:
		fmt.Fprintf(w, "%s listen; one of them sends %s %s; each line should reach the other %s\n",
			clients, lines, how, commas(int64(cfg.clients-1)))
	case cfg.senders < cfg.clients:
		fmt.Fprintf(w, "%s listen; %s of them send %s each %s; each line should reach the other %s\n",
			clients, commas(int64(cfg.senders)), lines, how, commas(int64(cfg.clients-1)))
	default:
		fmt.Fprintf(w, "%s, each sends %s %s; each line should reach the other %s\n",
			clients, lines, how, commas(int64(cfg.clients-1)))
	}

	fmt.Fprintf(w, "delivered %s of %s lines", commas(res.delivered), commas(res.expected))
	if res.elapsed > 0 {
		fmt.Fprintf(w, " in %v: %s lines/s", res.elapsed.Round(time.Millisecond), commas(int64(res.perSecond())))
	}
	fmt.Fprintln(w)
	if res.lat.n > 0 {
		fmt.Fprintf(w, "latency, from sending to receiving: p50 %s  p99 %s  max %s\n",
			short(res.lat.percentile(50)), short(res.lat.percentile(99)), short(res.lat.max))
	}
	res.cpu.print(w)
	res.mem.print(w)

	if res.ok() {
		fmt.Fprintf(w, "all %s clients got every line\n", commas(int64(cfg.clients)))
	} else {
		if res.timedOut {
			fmt.Fprintf(w, "TIMED OUT after %v (-timeout)\n", cfg.timeout)
		}
		if res.greetFailed {
			fmt.Fprintf(w, "the server did not take every client in: not all of them heard the first one's greeting, "+
				"so nobody sent anything (see the server's log: has it run out of open files? see `ulimit -n`)\n")
		}
		group := func(n int, text string, err error) {
			if n == 0 {
				return
			}
			fmt.Fprintf(w, "  %s: %s", plural(n, "client"), text)
			if err != nil {
				fmt.Fprintf(w, " (%v)", err)
			}
			fmt.Fprintln(w)
		}
		group(res.complete, "got every line", nil)
		group(res.behind, "got some lines but not all (the server fell behind)", nil)
		group(res.silent, "got no line at all (the server never answered)", nil)
		group(res.dropped, "hung up on by the server before getting every line", res.firstDrop)
		group(res.unreachable, "could not connect", res.firstUnreachable)
	}
	if res.otherLines > 0 {
		fmt.Fprintf(w, "the server also sent %s other lines; the first: %.100q\n", commas(int64(res.otherLines)), res.otherLine)
	}
	if res.mode == "echo" && res.complete == 1 && res.dropped+res.unreachable == cfg.clients-1 && cfg.clients > 1 {
		fmt.Fprintf(w, "(only one client was served: a server for one client only, like stage1?)\n")
	}
}

// progress returns the progress line: what the run is doing now.
func (r *runner) progressLine(elapsed time.Duration, perSecond float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%5.1fs  ", elapsed.Seconds())
	phase, _ := r.phase.Load().(string)
	switch phase {
	case "connecting":
		fmt.Fprintf(&b, "connecting: %s of %s", commas(r.connected.Load()), commas(int64(len(r.clients))))
	case "greeting":
		fmt.Fprintf(&b, "greeting: %s of %s clients heard it",
			commas(r.heard.Load()), commas(r.connected.Load()-1))
	case "running":
		var lag int64
		for _, c := range r.clients {
			lag = max(lag, c.lag.Load())
		}
		fmt.Fprintf(&b, "sent %s  got %s/%s  %s/s  lag %s",
			commas(r.sentLines.Load()), commas(r.delivered.Load()), commas(r.expected.Load()),
			commas(int64(perSecond)), short(time.Duration(lag)))
		if time.Duration(lag) > time.Second {
			b.WriteString("  FALLING BEHIND")
		}
	default:
		b.WriteString(phase)
	}
	return b.String()
}

// showProgress writes the progress line now and then until the returned
// function is called. On a terminal the line is rewritten in place.
func (r *runner) showProgress() (stop func()) {
	if r.cfg.progress == nil {
		return func() {}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(r.cfg.every)
		defer tick.Stop()
		before, last := time.Now(), r.delivered.Load()
		for {
			select {
			case <-quit:
				if r.cfg.terminal {
					fmt.Fprint(r.cfg.progress, "\r\033[K") // wipe the line: the summary follows
				}
				return
			case now := <-tick.C:
				delivered := r.delivered.Load()
				line := r.progressLine(now.Sub(r.begin), float64(delivered-last)/now.Sub(before).Seconds())
				before, last = now, delivered
				if r.cfg.terminal {
					fmt.Fprintf(r.cfg.progress, "\r%s\033[K", line) // \033[K: wipe the rest of the old line
				} else {
					fmt.Fprintln(r.cfg.progress, line)
				}
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// commas writes n with a comma every three digits: 1,234,567.
func commas(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + commas(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// plural writes "1 line", "2 lines", "1,000 lines".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return commas(int64(n)) + " " + noun + "s"
}

// short writes d with three significant digits: 1.23ms, 45.6µs, 789ns.
func short(d time.Duration) string {
	for _, u := range []struct {
		size time.Duration
		name string
	}{{time.Second, "s"}, {time.Millisecond, "ms"}, {time.Microsecond, "µs"}} {
		if d >= u.size {
			v := float64(d) / float64(u.size)
			switch {
			case v >= 100:
				return fmt.Sprintf("%.0f%s", v, u.name)
			case v >= 10:
				return fmt.Sprintf("%.1f%s", v, u.name)
			default:
				return fmt.Sprintf("%.2f%s", v, u.name)
			}
		}
	}
	return fmt.Sprintf("%dns", d)
}
