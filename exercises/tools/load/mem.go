package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// How much memory does a client cost the server? Issue 13 asks for at most
// 8 KB per idle client, with 10,000 of them. So, when it knows the server's
// process (the one whose CPU it measures), the tool reads the server's memory
// once before the clients connect, and once when they are all connected and,
// for a chat server, all on its list (the greeting phase is done), just before
// the sending starts. The growth divided by the clients is what each one costs.
//
// The figure is the resident set (VmRSS, see mem_linux.go): the memory the
// system gives the server. With a Go server, that is more than its live data:
//
//   - the heap holds garbage the collector has not collected yet (the greetings,
//     for one), up to as much again as the live data by default (GOGC=100);
//   - memory the collector has freed goes back to the system only gradually, so
//     a peak stays counted for a while.
//
// So it is what the server costs the machine, an upper bound of what its
// clients need. It does not count the kernel's own memory for each socket,
// which is not the process's.
//
// Right after the last client is on the list, the server may still be at work:
// writing the last greetings, a goroutine starting for a client. So the second
// reading is taken only once the memory has stopped growing: the tool reads it
// every memEvery until a reading is no higher than the one before, or memSettle
// has passed, whichever comes first. That is a wait bounded by a deadline, not a
// guess at how long the server needs; if the deadline ends it, the line says
// the memory was still growing.

// memEvery is how often the memory is read while waiting for it to stop
// growing; memSettle is the longest that wait may take.
const (
	memEvery  = 50 * time.Millisecond
	memSettle = time.Second
)

// memMeter reads the server's memory.
type memMeter struct {
	pid int    // the server's process, or 0 if it is not measured
	why string // why not, if pid is 0: one line, for the summary
}

// memUse is the server's memory before the clients connected and after.
type memUse struct {
	measured bool                         // the run got as far as sending: the second reading was tried
	pid      int                          // the server's process, or 0
	why      string                       // why it is not measured, if it is not
	quiet    bool                         // do not say why: said already, by an earlier run or by the CPU line
	before   int64                        // bytes, before the clients connected
	after    int64                        // bytes, with them all connected
	clients  int                          // connected, and not hung up on, at the second reading
	growing  bool                         // it was still growing when settle ran out
	settle   time.Duration                // the longest readAfter waits for it to stop growing: memSettle
	read     func(pid int) (int64, error) // processRSS; a test's own, to check the waiting
}

// readBefore reads the server's memory before any client connects. The reading
// is kept in the returned memUse; on failure, pid is 0 and why says why.
func (m memMeter) readBefore() memUse {
	u := memUse{pid: m.pid, why: m.why, settle: memSettle, read: processRSS}
	if u.pid == 0 {
		return u
	}
	rss, err := u.read(u.pid)
	if err != nil {
		u.pid, u.why = 0, fmt.Sprintf("process %d's memory could not be read: %v", m.pid, err)
		return u
	}
	u.before = rss
	return u
}

// readAfter reads the server's memory once it has stopped growing, or after
// u.settle, with clients connected; ctx ends the wait early (the run's time is
// up). It never fails: on failure, pid is 0 and why says why.
func (u *memUse) readAfter(ctx context.Context, clients int) {
	u.measured, u.clients = true, clients
	if u.pid == 0 {
		return
	}
	fail := func(err error) {
		u.pid, u.why = 0, fmt.Sprintf("process %d's memory could not be read during the run (has it ended?): %v", u.pid, err)
	}
	rss, err := u.read(u.pid)
	if err != nil {
		fail(err)
		return
	}
	deadline := time.NewTimer(u.settle)
	defer deadline.Stop()
	tick := time.NewTicker(memEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-deadline.C:
			u.after, u.growing = rss, true
			return
		case <-ctx.Done():
			u.after = rss // the run is over anyway: the summary says so
			return
		}
		next, err := u.read(u.pid)
		if err != nil {
			fail(err)
			return
		}
		if next <= rss {
			u.after = next
			return
		}
		rss = next
	}
}

// perClient is the growth per connected client, in bytes; ok is false when
// there is no such figure: nothing measured, no client, or no growth.
func (u *memUse) perClient() (float64, bool) {
	if u.pid == 0 || u.clients <= 0 || u.after <= u.before {
		return 0, false
	}
	return float64(u.after-u.before) / float64(u.clients), true
}

// line is the summary's memory line, or "" if it was not measured:
//
//	memory: server 61.2 MiB with 10,000 clients connected, 5.9 KiB per client (RSS, from 3.1 MiB before they connected)
func (u *memUse) line() string {
	if !u.measured || u.pid == 0 {
		return ""
	}
	head := fmt.Sprintf("memory: server %s with %s connected", mib(u.after), plural(u.clients, "client"))
	note := "RSS, from " + mib(u.before) + " before they connected"
	if u.growing {
		note += fmt.Sprintf("; still growing after %v", u.settle)
	}
	if per, ok := u.perClient(); ok {
		return head + ", " + kib(per) + " per client (" + note + ")"
	}
	return head + ", no more than before they connected: nothing to tell per client (" + note + ")"
}

// print writes the memory line of the summary, or why there is none.
func (u *memUse) print(w io.Writer) {
	if !u.measured {
		return
	}
	if line := u.line(); line != "" {
		fmt.Fprintln(w, line)
	} else if u.why != "" && !u.quiet {
		fmt.Fprintf(w, "server memory: not measured (%s)\n", u.why)
	}
}

// perClientKiB is the growth per client in KiB, for a results file, or -1.
func (u *memUse) perClientKiB() float64 {
	if !u.measured {
		return -1
	}
	per, ok := u.perClient()
	if !ok {
		if u.pid != 0 && u.clients > 0 {
			return 0 // measured: it did not grow
		}
		return -1
	}
	return per / 1024
}

// mib writes a number of bytes in MiB, with one decimal: 61.2 MiB.
func mib(b int64) string {
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// kib writes a number of bytes in KiB: 5.9 KiB, 1,234 KiB.
func kib(b float64) string { return kibs(b/1024) + " KiB" }

// kibs writes a number of KiB: 5.9, 1,234.
func kibs(k float64) string {
	if k < 100 {
		return fmt.Sprintf("%.1f", k)
	}
	return commas(int64(k + 0.5))
}
