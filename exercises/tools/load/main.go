// Load measures a chat server, or an echo server, of this workbook: it connects
// many clients, has them send lines, and reports how many lines per second were
// delivered and how long each took, from the moment it was sent to the moment
// it arrived, the CPU time that cost the server and the tool itself, and how
// much memory each connected client cost the server. Start a server in one
// terminal, and in another:
//
//	go run ./exercises/tools/load -clients 100 -msgs 1000              # as fast as it goes
//	go run ./exercises/tools/load -clients 100 -msgs 1000 -rate 200    # 200 lines/s per client
//
// See README.md in this folder.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}

// cli runs the program with args, and returns its exit status: 0 if every line
// reached every client it should have, 1 if not, 2 if the flags are wrong.
func cli(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.StringVar(&cfg.addr, "addr", "localhost:8888", "the server's `host:port`")
	fs.IntVar(&cfg.clients, "clients", 10, "how many clients connect")
	fs.IntVar(&cfg.msgs, "msgs", 100, "how many lines each client sends")
	fs.IntVar(&cfg.senders, "senders", 0, "how many of the clients send, to a chat server (0: all); the others only listen")
	fs.Float64Var(&cfg.rate, "rate", 0, "lines per second each client sends (0: as fast as the server takes them)")
	fs.StringVar(&cfg.mode, "mode", "auto", "`chat` (each line goes to the others), echo (it comes back), or auto (ask the server)")
	fs.IntVar(&cfg.pid, "pid", 0, "the server's process `id`, to report its CPU time and memory (0: the process listening on -addr's port; Linux only)")
	fs.DurationVar(&cfg.timeout, "timeout", time.Minute, "give up after this long, and report what arrived")
	sweep := fs.String("sweep", "", "run once for each of these client counts, `N[:M],...`: M, if given, replaces -msgs")
	repeat := fs.Int("repeat", 1, "do it all this many times (-report shows the median)")
	label := fs.String("label", "", "the server's name in -results (default: -addr)")
	results := fs.String("results", "", "append one line for each run to this `file` (tab-separated)")
	report := fs.String("report", "", "run nothing: print this results `file` as a Markdown table (repeated runs: their median)")
	svg := fs.String("svg", "", "with -report: also draw it as an SVG chart in this `file`")
	baseline := fs.String("baseline", "", "with -report: add a column of deliveries/s as a multiple of this `server`'s (a -label), run by run")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "load: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	if *report != "" {
		return printReport(*report, *svg, *baseline, stdout, stderr)
	}
	if *svg != "" {
		return fail("-svg draws a results file: give it with -report")
	}
	if *baseline != "" {
		return fail("-baseline compares the servers of a results file: give it with -report")
	}

	runs := []config{cfg} // with -sweep, one config for each client count
	if *sweep != "" {
		runs = nil
		for _, item := range strings.Split(*sweep, ",") {
			n, m, hasM := strings.Cut(strings.TrimSpace(item), ":")
			c := cfg
			var err error
			if c.clients, err = strconv.Atoi(n); err == nil && hasM {
				c.msgs, err = strconv.Atoi(m)
			}
			if err != nil {
				return fail("-sweep: %q is not N or N:M", item)
			}
			runs = append(runs, c)
		}
	}
	for i := range runs {
		c := &runs[i]
		if c.senders == 0 || c.senders > c.clients {
			c.senders = c.clients
		}
		switch {
		case c.clients < 1 || c.msgs < 1 || c.senders < 1:
			return fail("-clients, -msgs and -senders must be at least 1")
		case c.mode != "auto" && c.mode != "chat" && c.mode != "echo":
			return fail("-mode must be chat, echo or auto, not %q", c.mode)
		case c.mode == "chat" && c.clients < 2:
			return fail("a chat server sends nobody their own lines: use -clients 2 or more")
		case c.rate < 0 || c.timeout <= 0:
			return fail("-rate may not be negative, and -timeout must be positive")
		case c.pid < 0:
			return fail("-pid must be a process id, or 0 to find the server by its port")
		}
		// The progress line goes to stderr, rewritten in place on a terminal.
		c.progress, c.every = stderr, time.Second
		if f, ok := stderr.(*os.File); ok {
			info, err := f.Stat()
			c.terminal = err == nil && info.Mode()&os.ModeCharDevice != 0
		}
	}
	if *label == "" {
		*label = cfg.addr
	}
	if *repeat < 1 {
		return fail("-repeat must be at least 1")
	}
	// Repeats take turns, rather than following one another: if the machine is
	// busy for a while, that spreads the harm over all the configurations.
	once := runs
	for range *repeat - 1 {
		runs = append(runs, once...)
	}

	status := 0
	said := map[string]bool{} // why the server's CPU was not measured: say it once
	for _, c := range runs {
		if len(runs) > 1 {
			fmt.Fprintf(stdout, "== %s clients, %s lines each\n", commas(int64(c.clients)), commas(int64(c.msgs)))
		}
		res, err := run(c)
		if err != nil {
			fmt.Fprintf(stderr, "load: %v\n", err)
			return 1
		}
		if why := res.cpu.why; why != "" {
			res.cpu.quiet = said[why]
			said[why] = true
		}
		if why := res.mem.why; why != "" && !res.mem.quiet {
			res.mem.quiet = said["memory: "+why]
			said["memory: "+why] = true
		}
		res.print(stdout)
		if !res.ok() {
			status = 1
		}
		if *results != "" {
			if err := appendRow(*results, rowOf(*label, res)); err != nil {
				fmt.Fprintf(stderr, "load: %v\n", err)
				return 1
			}
		}
	}
	return status
}

// printReport prints a results file as a Markdown table, with a column of
// ratios to the baseline server's deliveries/s if baseline is not empty, and
// draws it as an SVG chart if svg is not empty.
func printReport(path, svg, baseline string, stdout, stderr io.Writer) int {
	rows, err := readRows(path)
	if err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	if baseline != "" && !slices.ContainsFunc(rows, func(r row) bool { return r.label == baseline }) {
		var labels []string
		for _, r := range rows {
			if !slices.Contains(labels, r.label) {
				labels = append(labels, r.label)
			}
		}
		has := "it has " + strings.Join(labels, ", ")
		if len(labels) == 0 {
			has = "it has no runs"
		}
		fmt.Fprintf(stderr, "load: -baseline %q: no run of that server in %s (%s)\n", baseline, path, has)
		return 2
	}
	rows = medians(rows) // repeated runs become one row
	writeTable(stdout, rows, baseline)
	if svg == "" {
		return 0
	}
	f, err := os.Create(svg)
	if err == nil {
		writeSVG(f, rows)
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	return 0
}
