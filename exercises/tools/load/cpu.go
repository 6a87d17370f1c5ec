package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// How much CPU did the run cost? Deliveries per second say how fast a server
// went; the CPU time it used says what that speed cost: a server that delivers
// as much with half the CPU leaves the other half to other work. So the tool
// reads the CPU time of the server's process and of itself at the start and at
// the end of the measured interval, and reports the difference; and that of the
// whole machine, to tell whether the tool left the server enough of it.
//
// Where the numbers come from depends on the system (cpu_linux.go, cpu_other.go,
// cpuself_unix.go, cpuself_other.go): the server's and the machine's from /proc
// on Linux, the server found by the port it listens on; this tool's from
// getrusage on any Unix.

// cpuMeter reads the CPU time of the server and of this tool.
type cpuMeter struct {
	pid  int           // the server's process, or 0 if it is not measured
	why  string        // why not, if pid is 0: one line, for the summary
	tick time.Duration // the step in which the server's and the machine's CPU time are counted
}

// newCPUMeter finds the server's process: pid if it is not 0 (-pid), else the
// one that listens on addr's port. It never fails: when the server cannot be
// measured, the meter says why and measures only this tool.
func newCPUMeter(addr string, pid int) cpuMeter {
	m := cpuMeter{tick: serverTick()}
	m.pid, m.why = findServer(addr, pid)
	if m.pid == os.Getpid() {
		// Only a test does that: the server and the tool are one program.
		m.pid, m.why = 0, "the server runs in this very process, so its CPU time and memory are the tool's"
	}
	return m
}

// cpuSample is the CPU time used so far by the server, by this tool, and by
// the whole machine.
type cpuSample struct {
	at                    time.Time
	server, tool, machine time.Duration // negative: could not be read
}

func (m cpuMeter) sample() cpuSample {
	s := cpuSample{at: time.Now(), server: -1, tool: -1, machine: -1}
	if m.pid != 0 {
		if d, err := processCPU(m.pid); err == nil {
			s.server = d
		}
	}
	if d, err := selfCPU(); err == nil {
		s.tool = d
	}
	if d, err := machineCPU(); err == nil {
		s.machine = d
	}
	return s
}

// cpuEvery is how often a cpuWatch looks whether a line arrived since it last
// looked. If one did, it takes a sample: it reads two small files and asks the
// kernel once, some microseconds, at most a hundred times a second.
const cpuEvery = 10 * time.Millisecond

// A cpuWatch measures the CPU time used from the first line sent to the last
// one delivered: the interval of the throughput. The start is easy: the run
// starts the watch just before it starts sending. The end is known only
// afterwards, when the time may have run out long after the last line arrived.
// So a goroutine looks every cpuEvery: if lines arrived since it last looked,
// the last one arrived before now, and a sample taken now is the first after it
// (so far). The interval ends at the last such sample: at most cpuEvery late.
type cpuWatch struct {
	meter      cpuMeter
	delivered  *atomic.Int64 // the run's count of deliveries
	start      cpuSample
	end        cpuSample // the first sample after the last delivery seen
	seen       int64     // the deliveries counted when end was taken
	quit, done chan struct{}
}

// watch takes the first sample, and watches the deliveries until stop.
func (m cpuMeter) watch(delivered *atomic.Int64) *cpuWatch {
	w := &cpuWatch{meter: m, delivered: delivered, seen: delivered.Load(),
		quit: make(chan struct{}), done: make(chan struct{})}
	w.start = m.sample()
	w.end = w.start
	go func() {
		defer close(w.done)
		tick := time.NewTicker(cpuEvery)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				w.look()
			case <-w.quit:
				w.look()
				return
			}
		}
	}()
	return w
}

// look takes a sample if lines arrived since the last one. The count is read
// first: a sample taken after reading it is after every delivery it counts.
func (w *cpuWatch) look() {
	if n := w.delivered.Load(); n != w.seen {
		w.seen = n
		w.end = w.meter.sample()
	}
}

// stop ends the watch and returns the CPU used in the interval.
func (w *cpuWatch) stop() cpuUse {
	close(w.quit)
	<-w.done
	return w.meter.between(w.start, w.end)
}

// cpuUse is the CPU time the server and this tool used during a run's measured
// interval: from just before the first line is sent to just after the last one
// arrives, the interval of the throughput.
type cpuUse struct {
	measured   bool          // the run got as far as sending, and both samples were taken
	wall       time.Duration // between the two samples
	pid        int           // the server's process, or 0
	server     time.Duration // the server's CPU time; negative: not measured
	tool       time.Duration // this tool's; negative: not measured
	machine    time.Duration // every core's busy time, whoever for; negative: not measured
	why        string        // why the server's is not measured
	tick       time.Duration // the step in which the server's time is counted
	quiet      bool          // why was said already, for an earlier run: do not repeat it
	memoryToo  bool          // the server's memory is not measured either, for the same reason: say so too
	deliveries int64         // made during the interval
	cpus       int           // the machine's cores (runtime.NumCPU)
}

// between is the CPU used from start to end.
func (m cpuMeter) between(start, end cpuSample) cpuUse {
	u := cpuUse{measured: true, wall: end.at.Sub(start.at), pid: m.pid, server: -1, tool: -1, machine: -1,
		why: m.why, tick: m.tick}
	if start.server >= 0 && end.server >= 0 {
		u.server = end.server - start.server
	} else if m.pid != 0 {
		u.pid = 0
		u.why = fmt.Sprintf("process %d could not be read during the run: has it ended?", m.pid)
	}
	if start.tool >= 0 && end.tool >= 0 {
		u.tool = end.tool - start.tool
	}
	if start.machine >= 0 && end.machine >= 0 {
		u.machine = end.machine - start.machine
	}
	return u
}

// cores is how many cores d of CPU time kept busy, on average, during the interval.
func (u *cpuUse) cores(d time.Duration) float64 {
	if u.wall <= 0 {
		return 0
	}
	return d.Seconds() / u.wall.Seconds()
}

// minTicks is how many steps of the server's CPU clock a run must use for
// nsPerDelivery: each reading is up to one step short, so the difference of two
// may be one step off, and one in minTicks is 10%.
const minTicks = 10

// nsPerDelivery is the server's CPU time divided by the deliveries it made, in
// nanoseconds: what one line reaching one client cost the server. Negative when
// it is not known, or the run was too short to tell it within 10%.
func (u *cpuUse) nsPerDelivery() float64 {
	if u.server < 0 || u.deliveries <= 0 || u.server < minTicks*u.tick {
		return -1
	}
	return float64(u.server.Nanoseconds()) / float64(u.deliveries)
}

// line is the summary's CPU line, or "" if nothing was measured:
//
//	CPU: server 1.23 s (0.98 cores, 612 ns/delivery), this tool 0.80 s (0.64 cores)
func (u *cpuUse) line() string {
	var parts []string
	if u.server >= 0 {
		s := fmt.Sprintf("server %.2f s (%.2f cores", u.server.Seconds(), u.cores(u.server))
		if ns := u.nsPerDelivery(); ns >= 0 {
			s += ", " + nanos(ns) + " ns/delivery"
		} else if u.deliveries > 0 {
			s += fmt.Sprintf("; too little to tell ns/delivery: it is counted in %v steps", u.tick)
		}
		parts = append(parts, s+")")
	}
	if u.tool >= 0 {
		parts = append(parts, fmt.Sprintf("this tool %.2f s (%.2f cores)", u.tool.Seconds(), u.cores(u.tool)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "CPU: " + strings.Join(parts, ", ")
}

// nanos writes a number of nanoseconds: 612, 12,345, or 3.5 when it is small.
func nanos(ns float64) string {
	if ns < 10 {
		return fmt.Sprintf("%.1f", ns)
	}
	return commas(int64(ns + 0.5))
}

// bottleneck returns a sentence if this tool may have held the server back, or "".
//
// The tool and the server share the machine: every core the tool keeps busy is
// one the server cannot have. The tool may have been the bottleneck when:
//   - the machine was full: its cores at least 85% busy (from /proc/stat, on
//     Linux, so that other programs count too; elsewhere, the tool and the
//     server), so that neither could get more;
//   - and the tool had a good share of it: at least half as much as the server
//     (a third of what the two used), or, the server not being measured, a
//     third of the machine's busy time. A tool twice as frugal would then have
//     left the server noticeably more. A server that fills the machine by
//     itself, the tool using little, is not held back by the tool.
func (u *cpuUse) bottleneck() string {
	if !u.measured || u.tool < 0 || u.cpus <= 0 || u.wall <= 0 {
		return ""
	}
	n, tool, server := float64(u.cpus), u.cores(u.tool), 0.0
	if u.server >= 0 {
		server = u.cores(u.server)
	}
	busy := tool + server
	// The machine's busy time is counted in steps of a tick on each core: over
	// less than 20 ticks, it is too rough to use.
	if u.machine >= 0 && u.wall >= 20*u.tick {
		busy = max(busy, u.cores(u.machine))
	}
	share := tool >= busy/3
	if u.server >= 0 {
		share = tool >= server/2
	}
	if busy < 0.85*n || !share {
		return ""
	}
	s := fmt.Sprintf("this tool may have been the bottleneck: this machine's %s were %.0f%% busy, %.2f of them with this tool",
		plural(u.cpus, "core"), 100*min(busy/n, 1), tool)
	if others := busy - tool - server; u.server >= 0 && others >= 0.05*n {
		s += fmt.Sprintf(" and %.2f with other programs", others)
	}
	return s + "; the figures say as much about this machine as about the server"
}

// print writes the CPU lines of the summary.
func (u *cpuUse) print(w io.Writer) {
	if !u.measured {
		return
	}
	if line := u.line(); line != "" {
		fmt.Fprintln(w, line)
	}
	if u.why != "" && !u.quiet {
		what := "CPU"
		if u.memoryToo {
			what = "CPU and memory"
		}
		fmt.Fprintf(w, "server %s: not measured (%s)\n", what, u.why)
	}
	if s := u.bottleneck(); s != "" {
		fmt.Fprintln(w, s)
	}
}
