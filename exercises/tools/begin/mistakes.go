package main

// Mistakes: every sheet's classic mistakes are kept as mutants of its answer, and
// begin -mistakes proves that the exercise's checks catch each one in every run,
// on a busy machine, while the answer passes every run.
//
// A mutant is a text file, exercises/NAME/mistakes/SHORT.txt for an extension, or
// exercises/mistakes/exN/SHORT.txt for exercise N (whose answer is stageN):
//
//	The mistake in a sentence or two, as the sheet warns about it.
//	catch: TestThatCatchesIt          (for a sheet: the checker's property, e.g. "no data race")
//	alone: why                        (optional: see below)
//	--- server.go
//	<<<<<<<
//	the exact text of the answer (it must occur once)
//	=======
//	the text that replaces it
//	>>>>>>>
//
// Each run of a test counts: a mutant is caught in a run when its catch test fails
// (or its test binary dies) in that run.
//
// With -jobs, several exercises are proved at once, which loads the machine far
// more than the one busy core that the proof promises. A mutant whose catch
// depends on how fast the server gets through its work says so in an alone: line,
// and is proved after all the others, with only the busy core beside it.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"chatbook/exercises/tools/course"
)

// A mutant is one classic mistake: the answer with one change.
type mutant struct {
	name  string            // the file's name without .txt
	about string            // the prose: what the mistake is
	catch string            // the test (or checker property) that must catch it
	alone string            // if not "", why it is proved with nothing else running
	edits map[string][]edit // file name -> replacements, in order
	path  string            // where it was read from, for messages
}

type edit struct{ old, new string }

// parseMutant reads one mutant file.
func parseMutant(path string) (*mutant, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := &mutant{name: strings.TrimSuffix(filepath.Base(path), ".txt"), path: path, edits: map[string][]edit{}}
	const (
		header = iota
		between
		inOld
		inNew
	)
	state, file := header, ""
	var old, nw []string
	for i, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		bad := func(msg string) error { return fmt.Errorf("%s:%d: %s", path, i+1, msg) }
		switch {
		case state == inOld && line == "=======":
			state = inNew
		case state == inOld:
			old = append(old, line)
		case state == inNew && line == ">>>>>>>":
			if len(old) == 0 {
				return nil, bad("a replacement with no old text")
			}
			m.edits[file] = append(m.edits[file], edit{strings.Join(old, "\n"), strings.Join(nw, "\n")})
			old, nw, state = nil, nil, between
		case state == inNew:
			nw = append(nw, line)
		case strings.HasPrefix(line, "--- "):
			file, state = strings.TrimSpace(strings.TrimPrefix(line, "--- ")), between
		case state == between && line == "<<<<<<<":
			state = inOld
		case state == between && strings.TrimSpace(line) == "":
		case state == between:
			return nil, bad("expected <<<<<<< or a --- FILE line")
		case strings.HasPrefix(line, "catch:"):
			m.catch = strings.TrimSpace(strings.TrimPrefix(line, "catch:"))
		case strings.HasPrefix(line, "alone:"):
			m.alone = strings.TrimSpace(strings.TrimPrefix(line, "alone:"))
		default:
			m.about = strings.TrimSpace(m.about + " " + strings.TrimSpace(line))
		}
	}
	switch {
	case state == inOld || state == inNew:
		return nil, fmt.Errorf("%s: a replacement is not closed with >>>>>>>", path)
	case len(m.edits) == 0:
		return nil, fmt.Errorf("%s: no --- FILE section with a replacement", path)
	case m.catch == "":
		return nil, fmt.Errorf("%s: no catch: line naming the test that catches it", path)
	case m.about == "":
		return nil, fmt.Errorf("%s: say in a sentence what the mistake is", path)
	}
	return m, nil
}

// apply writes the mutant's changes into dir, a copy of the answer.
func (m *mutant) apply(dir string) error {
	for file, edits := range m.edits {
		path := filepath.Join(dir, filepath.FromSlash(file))
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("%s: %v", m.path, err)
		}
		s := strings.ReplaceAll(string(b), "\r\n", "\n")
		for _, e := range edits {
			if n := strings.Count(s, e.old); n != 1 {
				return fmt.Errorf("%s: the old text occurs %d times in %s, not once:\n%s", m.path, n, file, e.old)
			}
			s = strings.Replace(s, e.old, e.new, 1)
		}
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// target is what one sheet or extension is graded on: its answer and its mutants.
type target struct {
	name     string // "names", or "ex5"
	answer   string // the answer's folder, from the root
	mistakes string // the mutants' folder, from the root
	stage    int    // for a sheet, the stage the checker grades; -1 for an extension
}

func targets(root string, names []string) ([]target, error) {
	var all []target
	for _, s := range course.Sheets {
		all = append(all, target{fmt.Sprintf("ex%d", s.Stage), fmt.Sprintf("stage%d", s.Stage),
			fmt.Sprintf("exercises/mistakes/ex%d", s.Stage), s.Stage})
	}
	for _, e := range course.Extensions {
		all = append(all, target{e.Name, e.AnswerDir(), e.Dir() + "/mistakes", -1})
	}
	if len(names) == 1 && names[0] == "all" {
		var have []target
		for _, t := range all {
			if ms, _ := filepath.Glob(filepath.Join(root, t.mistakes, "*.txt")); len(ms) > 0 {
				have = append(have, t)
			}
		}
		return have, nil
	}
	var picked []target
next:
	for _, n := range names {
		for _, t := range all {
			if t.name == n {
				picked = append(picked, t)
				continue next
			}
		}
		return nil, fmt.Errorf("no exercise called %q", n)
	}
	return picked, nil
}

// proveMistakes builds each target's answer and mutants once, then runs the checks
// runs times each, with a busy loop keeping one core busy, as on a learner's laptop.
// It proves jobs targets at once, and prints each one's report when it is done.
func proveMistakes(root string, names []string, runs int, busy bool, jobs int) error {
	ts, err := targets(root, names)
	if err != nil {
		return err
	}
	if busy {
		stop := spin()
		defer stop()
	}
	var (
		mu     sync.Mutex
		failed []string
		wg     sync.WaitGroup
		sem    = make(chan struct{}, max(jobs, 1))
	)
	prove := func(t target, alone bool) {
		var out bytes.Buffer
		start := time.Now()
		proved, err := proveTarget(&out, root, t, runs, alone)
		mu.Lock()
		defer mu.Unlock()
		os.Stdout.Write(out.Bytes())
		switch {
		case err != nil:
			fmt.Printf("FAIL %s (%v): %v\n", t.name, since(start), err)
			failed = append(failed, t.name)
		case proved && alone:
			fmt.Printf("ok   %s: the mistakes proved alone caught in every run (%v)\n", t.name, since(start))
		case proved:
			fmt.Printf("ok   %s: every mistake caught in every run (%v)\n", t.name, since(start))
		}
	}
	// The last exercises of the course have the longest tests: they start first.
	for _, t := range slices.Backward(ts) {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			prove(t, false)
		}()
	}
	wg.Wait()
	for _, t := range ts { // then the mutants that must be proved alone, one after the other
		prove(t, true)
	}
	if len(failed) > 0 {
		return fmt.Errorf("the checks of %s do not catch every mistake in every run, or fail the answer", strings.Join(failed, ", "))
	}
	return nil
}

// proveTarget proves the mutants of t that are not marked alone, and the answer,
// or, if alone is true, the mutants marked alone (and not the answer again). It
// returns whether there was anything to prove.
func proveTarget(w io.Writer, root string, t target, runs int, alone bool) (bool, error) {
	paths, err := filepath.Glob(filepath.Join(root, t.mistakes, "*.txt"))
	if err != nil {
		return true, err
	}
	sort.Strings(paths)
	if len(paths) == 0 {
		return true, fmt.Errorf("%s has no mistakes", t.mistakes)
	}
	var all, ms []*mutant // every mutant; those proved now
	for _, p := range paths {
		m, err := parseMutant(p)
		if err != nil {
			return true, err
		}
		all = append(all, m)
		if (m.alone != "") == alone {
			ms = append(ms, m)
		}
	}
	if alone && len(ms) == 0 {
		return false, nil
	}
	scratch := filepath.Join(root, ".tmp", "mistakes", t.name)
	if err := os.RemoveAll(scratch); err != nil {
		return true, err
	}
	defer os.RemoveAll(scratch)

	// The answer and each mutant, side by side, each a whole package.
	dirs := map[string]string{}
	for _, name := range append([]string{"answer"}, names(ms)...) {
		dir := filepath.Join(scratch, name)
		if err := os.CopyFS(dir, os.DirFS(filepath.Join(root, filepath.FromSlash(t.answer)))); err != nil {
			return true, err
		}
		if err := copyModule(root, t.answer, dir); err != nil {
			return true, err
		}
		dirs[name] = dir
	}
	for _, m := range ms {
		if err := m.apply(dirs[m.name]); err != nil {
			return true, err
		}
	}

	var bad []string
	if t.stage >= 0 {
		checker := filepath.Join(scratch, "check"+exe())
		if out, err := goCmd(root, "build", "-o", checker, "./exercises/tools/check"); err != nil {
			return true, fmt.Errorf("building the checker: %v\n%s", err, out)
		}
		// The checker builds each program once and checks the property runs
		// times over. The answer is checked once for each property its
		// mutants are caught by; each mutant once.
		answered := map[string]bool{}
		for _, m := range ms {
			if !answered[m.catch] && !alone { // alone, the answer has been checked already
				answered[m.catch] = true
				began := time.Now()
				passed, out := checkProperty(checker, t.stage, dirs["answer"], m.catch, runs)
				if passed != runs {
					bad = append(bad, fmt.Sprintf("the answer %s passed %q in only %d of %d runs:\n%s", t.answer, m.catch, passed, runs, out))
					continue
				}
				fmt.Fprintf(w, "ok   %s/answer: passed %q in %d of %d runs (%v)\n", t.name, m.catch, runs, runs, since(began))
			}
			began := time.Now()
			passed, out := checkProperty(checker, t.stage, dirs[m.name], m.catch, runs)
			if passed != 0 {
				bad = append(bad, fmt.Sprintf("%s escaped %q in %d of %d runs:\n%s", m.path, m.catch, passed, runs, out))
				continue
			}
			fmt.Fprintf(w, "ok   %s/%s: caught by %q in %d of %d runs (%v)\n", t.name, m.name, m.catch, runs, runs, since(began))
		}
	} else {
		build := names(ms)
		if !alone { // alone, the answer has been proved already
			build = append([]string{"answer"}, build...)
		}
		for _, name := range build {
			bin := filepath.Join(scratch, name+".test"+exe())
			if out, err := goPkg(root, dirs[name], "test", "-race", "-c", "-o", bin); err != nil {
				return true, fmt.Errorf("%s does not build with its tests: %v\n%s", name, err, out)
			}
		}
		// The answer passes every catching test in every run: those of the
		// mutants proved alone too.
		var catches []string
		for _, m := range all {
			if !slices.Contains(catches, regexp.QuoteMeta(m.catch)) {
				catches = append(catches, regexp.QuoteMeta(m.catch))
			}
		}
		if !alone {
			bin := filepath.Join(scratch, "answer.test"+exe())
			began := time.Now()
			if out, err := runTest(bin, dirs["answer"], "^("+strings.Join(catches, "|")+")$", runs); err != nil {
				bad = append(bad, fmt.Sprintf("the answer fails its own tests (%v):\n%s", err, tail(out)))
			} else {
				fmt.Fprintf(w, "ok   %s/answer: passed %s in %d of %d runs (%v)\n", t.name, strings.Join(catches, ", "), runs, runs, since(began))
			}
		}
		for _, m := range ms {
			began := time.Now()
			caught, err := countCaught(filepath.Join(scratch, m.name+".test"+exe()), dirs[m.name], m.catch, runs)
			if err != nil {
				bad = append(bad, fmt.Sprintf("%s: %v", m.path, err))
				continue
			}
			how := ""
			if alone {
				how = ", alone"
			}
			fmt.Fprintf(w, "ok   %s/%s: caught by %s in %d of %d runs%s (%v)\n", t.name, m.name, m.catch, caught, runs, how, since(began))
		}
	}
	if len(bad) > 0 {
		return true, errors.New(strings.Join(bad, "\n"))
	}
	return true, nil
}

// checkProperty runs the checker on dir for one property, runs times over (it
// builds the program once), and returns in how many runs it passed.
func checkProperty(checker string, stage int, dir, property string, runs int) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, checker, "-stage", fmt.Sprint(stage), "-only", property, "-repeat", fmt.Sprint(runs), dir)
	out, _ := cmd.CombinedOutput()
	var passed, of int
	for _, line := range strings.Split(string(out), "\n") {
		if _, err := fmt.Sscanf(strings.TrimPrefix(line, property+": "), "passed %d of %d runs", &passed, &of); err == nil && of == runs {
			return passed, string(out)
		}
	}
	return -1, string(out) // the checker did not say: it failed to run
}

// runTest runs a test binary count times over the tests run matches.
func runTest(bin, dir, run string, count int) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-test.run", run, "-test.count", fmt.Sprint(count), "-test.timeout", "5m")
	cmd.Dir = dir
	return cmd.CombinedOutput()
}

// countCaught runs test in the mutant's test binary runs times and requires it to
// fail in every run. The first run goes alone; if the test spent most of it
// waiting (a mutant is often caught by a timeout that runs out), the other runs
// go four at a time, since waiting takes no core. A test that kept a core busy
// runs one run after another, so that it meets no more load than promised.
func countCaught(bin, dir, test string, runs int) (int, error) {
	caught, cpu, wall, err := catchRuns(bin, dir, test, 1)
	if err != nil || runs == 1 {
		return caught, err
	}
	left := runs - 1
	if cpu*4 > wall {
		n, _, _, err := catchRuns(bin, dir, test, left)
		return caught + n, err
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	for i := range 4 {
		n := left/4 + btoi(i < left%4)
		if n == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, _, _, err := catchRuns(bin, dir, test, n)
			mu.Lock()
			defer mu.Unlock()
			caught += got
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return caught, fmt.Errorf("%v (of %d runs, %d were caught)", errs[0], runs, caught)
	}
	return caught, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// catchRuns runs test in the mutant's test binary runs times, one after the
// other, and requires it to fail in every run. A run that ends the whole binary
// (a panic, a deadlock caught by the timeout) counts as caught; the runs left
// are run again. It also returns the CPU time and the wall time the runs took.
func catchRuns(bin, dir, test string, runs int) (caught int, cpu, wall time.Duration, err error) {
	start := time.Now()
	defer func() { wall = time.Since(start) }()
	for caught < runs {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		cmd := exec.CommandContext(ctx, bin, "-test.run", "^"+regexp.QuoteMeta(test)+"$", "-test.v",
			"-test.count", fmt.Sprint(runs-caught), "-test.timeout", "2m")
		cmd.Dir = dir
		out, _ := cmd.CombinedOutput()
		cancel()
		if ps := cmd.ProcessState; ps != nil {
			cpu += ps.UserTime() + ps.SystemTime()
		}
		fails, passes := 0, 0
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			switch {
			case strings.HasPrefix(sc.Text(), "--- FAIL: "+test+" "):
				fails++
			case strings.HasPrefix(sc.Text(), "--- PASS: "+test+" "), strings.HasPrefix(sc.Text(), "--- SKIP: "+test+" "):
				passes++
			}
		}
		if passes > 0 {
			return caught + fails, cpu, 0, fmt.Errorf("escaped: %s passed in %d of %d runs (caught in %d)", test, passes, runs, caught+fails)
		}
		if fails == 0 && !bytes.Contains(out, []byte("=== RUN   "+test)) {
			return caught, cpu, 0, fmt.Errorf("no test %s ran:\n%s", test, tail(out))
		}
		if fails == 0 {
			fails = 1 // the binary died inside the test: that run caught it
		}
		caught += fails
	}
	return caught, cpu, 0, nil
}

// spin keeps one core busy in a child process until stop is called.
func spin() (stop func()) {
	self, err := os.Executable()
	if err != nil {
		return func() {}
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "CHATBOOK_SPIN=1")
	if err := cmd.Start(); err != nil {
		return func() {}
	}
	return func() { cmd.Process.Kill(); cmd.Wait() }
}

// spinForever is what the child of spin does.
func spinForever() {
	runtime.GOMAXPROCS(1)
	for x := 0; ; x++ {
		_ = x * x
	}
}

// since is the time since t, to the second: how long a proof took.
func since(t time.Time) time.Duration { return time.Since(t).Round(time.Second) }

func names(ms []*mutant) []string {
	var ns []string
	for _, m := range ms {
		ns = append(ns, m.name)
	}
	return ns
}

func tail(b []byte) string {
	const n = 3000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func exe() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}
