// Check builds a chat-server program and checks it from the outside, as real clients
// would: it starts the program on a free port of 127.0.0.1 (through its -addr flag),
// connects to it, talks, and prints what works and what does not.
//
//	go run ./exercises/tools/check -stage 3 mine/ex3   # check your exercise 3 as stage 3
//	go run ./exercises/tools/check -stage 5 -only "no data race" mine/ex5   # one property only
//	go run ./exercises/tools/check -all                # the workbook's stage0..stage5, side by side
//	go run ./exercises/tools/check -all -write         # the same, and rewrite that table in exercises/README.md
//
// The exit status is 0 only when every property the stage requires passes; 1 when
// one fails; 2 for wrong arguments; 3 when none fails but one could not be checked
// on this machine: the race row, when this Go cannot build with -race (then the
// checker says what to install, and checks everything else).
// Stage0 has no network: for it the checker types at the program's keyboard instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"chatbook/exercises/tools/course"
)

func main() {
	// Ctrl+C cancels the context: every program the checker started is killed, and
	// the built programs are removed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "check: interrupted")
		code = 130
	}
	stop()
	os.Exit(code)
}

// lastStage is the workbook's last stage, the one the last sheet builds: the
// teaching order is the course package's.
var lastStage = course.Sheets[len(course.Sheets)-1].Stage

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stage := fs.Int("stage", -1, "check DIR as stage `N`, 0 to 5")
	all := fs.Bool("all", false, "check the workbook's own stage0..stage5 and print the progression table")
	write := fs.Bool("write", false, "with -all: rewrite the table between the progression markers of exercises/README.md")
	only := fs.String("only", "", "check only the property named `PROPERTY`, as the table names it (quick, for one row)")
	startup := fs.Duration("startup", 10*time.Second, "how long a program may take to accept its first client")
	repeat := fs.Int("repeat", 1, "with -only: check the property `N` times, one after the other, building the program once, and say how many passed (the workbook's own proof that a check catches a mistake every time: go run ./exercises/tools/begin -mistakes)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./exercises/tools/check -stage N DIR\n"+
			"       go run ./exercises/tools/check -all [-write]\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch {
	case *all && fs.NArg() == 0 && *stage < 0:
	case !*all && !*write && fs.NArg() == 1 && *stage >= 0 && *stage <= lastStage:
	default:
		fs.Usage()
		return 2
	}

	// -only: one row of the table, checked on its own.
	if *only != "" {
		if _, ok := propertyNamed(*only); !ok || *all {
			fmt.Fprintf(stderr, "check: -only takes one property of the table, with -stage N DIR: %s\n", propertyNames())
			return 2
		}
	}
	repeated := false // -repeat given, even -repeat 1: say "passed K of N runs"
	fs.Visit(func(f *flag.Flag) { repeated = repeated || f.Name == "repeat" })
	switch {
	case repeated && *only == "":
		fmt.Fprintln(stderr, "check: -repeat checks one property over and over: give it with -only PROPERTY")
		return 2
	case repeated && *repeat < 1:
		fmt.Fprintln(stderr, "check: -repeat takes a count of 1 or more")
		return 2
	}

	tmp, err := os.MkdirTemp("", "chatcheck-")
	if err != nil {
		fmt.Fprintln(stderr, "check:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	c := newChecker(ctx, tmp, *startup)
	c.only = *only

	if repeated {
		return runRepeated(c, fs.Arg(0), *stage, *repeat, stdout)
	}
	if *all {
		return runAll(c, *write, stdout, stderr)
	}
	return runOne(c, fs.Arg(0), *stage, stdout, stderr)
}

// runOne checks one program as stage N.
func runOne(c *checker, dir string, stage int, stdout, stderr io.Writer) int {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "check: %s is not a folder: give the folder of your program, such as mine/ex%d\n", dir, stage)
		return 2
	}
	if msg := outsideWorkbook(dir, stage); msg != "" {
		fmt.Fprintln(stderr, "check:", msg)
		return 2
	}
	// A program that does not build fails everything in the same way: say it once.
	// (With -only, the one property's own build says it: no build is wasted.)
	if c.only == "" {
		if _, err := c.binary(dir, false); err != nil {
			f := errFailure(err)
			fmt.Fprintf(stdout, "%s\n%s\n", f.saw, f.fix)
			return 1
		}
	}
	fmt.Fprintf(stdout, "Checking %s as stage %d: each property starts it afresh and talks to it.\n\n", dir, stage)
	results := c.measure(dir, stage)
	if c.ctx.Err() != nil {
		return 1
	}
	return report(stdout, dir, stage, results)
}

// runRepeated checks the one property of -only n times over and prints how many
// runs it passed: "PROPERTY: passed K of N runs". The exit status is 0 when it
// passed every run, 1 otherwise. The program is built once, for all the runs.
func runRepeated(c *checker, dir string, stage, n int, stdout io.Writer) int {
	passed := 0
	var lastFailure string
	for range n {
		results := c.measure(dir, stage)
		if c.ctx.Err() != nil {
			return 1
		}
		for _, r := range results {
			switch {
			case r.skipped:
			case r.pass:
				passed++
			case r.failure != nil:
				lastFailure = r.saw
			}
		}
	}
	fmt.Fprintf(stdout, "%s: passed %d of %d runs\n", c.only, passed, n)
	if lastFailure != "" {
		fmt.Fprintf(stdout, "the last failure saw: %s\n", lastFailure)
	}
	if passed < n {
		return 1
	}
	return 0
}

// runAll checks the workbook's own stages and prints the progression table.
func runAll(c *checker, write bool, stdout, stderr io.Writer) int {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(stderr, "check:", err)
		return 1
	}
	prog := c.measureAll(root)
	if c.ctx.Err() != nil {
		return 1
	}
	table := markdown(prog)
	fmt.Fprint(stdout, table)

	code := 0
	var unchecked *failure
	for stage, results := range prog {
		for i, p := range properties {
			switch r := results[i]; {
			case r.pass:
			case r.notChecked:
				unchecked = r.failure
			case p.requires(stage) == "required":
				fmt.Fprintf(stderr, "check: stage%d fails %q, which it requires: %s\n", stage, p.name, r.saw)
				code = 1
			}
		}
	}
	if unchecked != nil {
		// The table would not be the workbook's: never write it, and say why once.
		fmt.Fprintf(stderr, "check: the race row was %s: %s\n", unchecked.saw, unchecked.fix)
		if code == 0 {
			code = 3
		}
		if write {
			fmt.Fprintln(stderr, "check: not writing the table: on this machine it cannot be measured whole")
		}
		return code
	}

	readme := filepath.Join(root, progressionFile)
	if write {
		if err := writeBlock(readme, table); err != nil {
			fmt.Fprintln(stderr, "check:", err)
			return 1
		}
		fmt.Fprintln(stderr, "check: wrote the table into", readme)
		return code
	}
	if got, err := readBlock(readme); err != nil || got != table {
		fmt.Fprintf(stderr, "check: the table in %s is not this one; `go run ./exercises/tools/check -all -write` rewrites it\n", progressionFile)
	}
	return code
}

// measureAll checks stage0..stage5 under root, all at once.
func (c *checker) measureAll(root string) [][]result {
	prog := make([][]result, lastStage+1)
	done := make(chan struct{})
	for stage := range prog {
		go func() {
			defer func() { done <- struct{}{} }()
			prog[stage] = c.measure(filepath.Join(root, fmt.Sprintf("stage%d", stage)), stage)
		}()
	}
	for range prog {
		<-done
	}
	return prog
}

// progressionFile holds the progression table, from the workbook's root.
var progressionFile = filepath.Join("exercises", "README.md")

// outsideWorkbook says why dir cannot be checked when it lies outside the workbook:
// go build needs the workbook's go.mod, above the program's folder.
func outsideWorkbook(dir string, stage int) string {
	root, err := moduleRoot()
	if err != nil {
		return err.Error()
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err.Error()
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	if rel, err := filepath.Rel(root, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return ""
	}
	return fmt.Sprintf("%s is outside the workbook: put your program in a folder inside it, such as %s, "+
		"so that Go finds the workbook's go.mod", dir, filepath.Join(root, "mine", fmt.Sprintf("ex%d", stage)))
}

// moduleRoot is the folder of go.mod, found from the current folder upwards.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod here or above: run the checker inside the workbook")
		}
		dir = parent
	}
}
