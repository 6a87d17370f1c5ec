package main

// The student edition. A teacher who hands the workbook to a class wants the sheets,
// the starting points and the tests in it, and none of the answers:
//
//	go run ./exercises/tools/begin -handout ../class               # every stage
//	go run ./exercises/tools/begin -handout ../class -stages 0-3   # stages 0 to 3 only
//
// The stages are answers too (stage N is the answer to sheet N), so the teacher
// chooses which to give. Each extension keeps its sheet, START, _start/ and its
// tests, which move to exercises/NAME/_tests/: a folder whose name starts with "_"
// is not a package to the go command, so test files without their program do not
// break `go vet ./...`, and begin looks for the tests there. A START line that names
// what the handout holds back is rewritten:
//
//   - a single file of an answer (framing's ready-made main.go and client.go) is
//     given: it is part of the starting point, not of the lesson, so it moves into
//     _start/;
//   - another extension's answer folder (presence starts from names') becomes
//     mine/NAME, the learner's own solution of that exercise;
//   - a stage the teacher did not give becomes mine/exN, the learner's sheet N.
//
// Likewise sheet N, when stage N is held back, starts from the learner's sheet N-1,
// and its tests (all but the hazard test) wait in exercises/_tests/exN.
//
// Left out: every answer/ program file, every mistakes/ folder (each mistake is a
// piece of an answer), TEACHING.md, MISTAKES.md, CONTRIBUTING.md, CI, and the tests
// of the tools (they test the teacher's tree). The client tool stays, tests and all:
// learners without nc need it, and it is the client exercise's answer.

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"chatbook/exercises/tools/course"
)

var (
	handoutDir    = flag.String("handout", "", "write a student edition of the workbook, with no answers, into `DIR`")
	handoutStages = flag.String("stages", "0-5", "with -handout: the stages to give, as 0-5, 0-3 or 0,1,2")
)

// testsDir is where exercise e's tests are: its answer folder in the teacher's
// workbook, exercises/NAME/_tests in a student edition.
func testsDir(root string, e course.Extension) string {
	handed := filepath.Join(root, filepath.FromSlash(e.Dir()), "_tests")
	if _, err := os.Stat(handed); err == nil {
		return handed
	}
	return filepath.Join(root, filepath.FromSlash(e.AnswerDir()))
}

// runHandout is what -handout does.
func runHandout(root string) error {
	stages, err := parseStages(*handoutStages)
	if err != nil {
		return err
	}
	if err := handout(root, *handoutDir, stages); err != nil {
		return err
	}
	fmt.Printf("The student edition is in %s, with stages %s and no answers. In it:\n\n"+
		"\tgo run ./exercises/tools/preflight\n\tgo run ./exercises/tools/begin names mine/names\n",
		*handoutDir, stageList(stages))
	return nil
}

// parseStages reads "0-5", "0-3", "0,1,2" or "2-3,5" into a sorted set of stages.
func parseStages(s string) ([]int, error) {
	var set [6]bool
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || a < 0 || b > 5 || a > b {
			return nil, fmt.Errorf("-stages %q: want stages from 0 to 5, as 0-5, 0-3 or 0,1,2", s)
		}
		for n := a; n <= b; n++ {
			set[n] = true
		}
	}
	var stages []int
	for n, in := range set {
		if in {
			stages = append(stages, n)
		}
	}
	return stages, nil
}

func stageList(stages []int) string {
	var names []string
	for _, n := range stages {
		names = append(names, strconv.Itoa(n))
	}
	return strings.Join(names, ", ")
}

// handout writes the student edition into dir, which must not exist yet.
func handout(root, dir string, stages []int) error {
	if dir == "" {
		return errors.New("-handout needs a folder to write into")
	}
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%s already exists: choose a new folder (begin never overwrites anything)", dir)
	}
	given := map[string]bool{}
	for _, n := range stages {
		given[fmt.Sprintf("stage%d", n)] = true
	}
	if !given["stage0"] || !given["stage1"] {
		return errors.New("-stages must give stages 0 and 1: exercises 0 and 1 read them as they are, and exercise 2 starts from stage 1")
	}
	// Files at the top, then the stages given, whole.
	for _, f := range []string{"go.mod", "go.sum", "LICENSE", ".gitignore"} {
		if err := copyOne(filepath.Join(root, f), filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	for _, n := range stages {
		s := fmt.Sprintf("stage%d", n)
		if err := copyTree(filepath.Join(root, s), filepath.Join(dir, s), everything); err != nil {
			return err
		}
	}
	// The sheets and the map of the exercises.
	sheets, err := filepath.Glob(filepath.Join(root, "exercises", "ex*.md"))
	if err != nil {
		return err
	}
	for _, f := range append(sheets, filepath.Join(root, "exercises", "README.md")) {
		if err := copyOne(f, filepath.Join(dir, "exercises", filepath.Base(f))); err != nil {
			return err
		}
	}
	// The tools, without their tests, except the client's, and the checker's probe:
	// a test the checker lays beside a learner's program, embedded in the checker.
	tools := filepath.Join(root, "exercises", "tools")
	if err := copyTree(tools, filepath.Join(dir, "exercises", "tools"), func(rel string, d fs.DirEntry) bool {
		if strings.HasPrefix(rel, "client/") || rel == "client" || strings.HasPrefix(rel, "check/probe") {
			return true
		}
		return d.Name() != "testdata" && !strings.HasSuffix(d.Name(), "_test.go")
	}); err != nil {
		return err
	}
	// A sheet whose stage is held back keeps its tests, but the hazard test, in
	// exercises/_tests/exN, where begin finds them.
	for _, sh := range course.Sheets {
		stage := fmt.Sprintf("stage%d", sh.Stage)
		if given[stage] {
			continue
		}
		if err := copyTree(filepath.Join(root, stage), filepath.Join(dir, "exercises", "_tests", fmt.Sprintf("ex%d", sh.Stage)),
			func(rel string, d fs.DirEntry) bool {
				return strings.HasSuffix(rel, "_test.go") && rel != "hazard_test.go" && !strings.Contains(rel, "/")
			}); err != nil {
			return err
		}
	}
	for _, e := range course.Extensions {
		if err := handoutExtension(root, dir, e, given); err != nil {
			return fmt.Errorf("%s: %v", e.Name, err)
		}
	}
	// The pages that point at what the handout leaves out lose those paragraphs.
	if err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".md") {
			return err
		}
		return dropParagraphs(p, withheld)
	}); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "README.md"), []byte(studentReadme(stages)), 0o644)
}

// handoutExtension copies exercise e's sheet, starting point and tests, and rewrites
// its START so that begin finds everything in the handout.
func handoutExtension(root, dir string, e course.Extension, given map[string]bool) error {
	from, to := filepath.Join(root, filepath.FromSlash(e.Dir())), filepath.Join(dir, filepath.FromSlash(e.Dir()))
	if err := copyOne(filepath.Join(from, "README.md"), filepath.Join(to, "README.md")); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(from, "_start")); err == nil {
		if err := copyTree(filepath.Join(from, "_start"), filepath.Join(to, "_start"), everything); err != nil {
			return err
		}
	}
	// The tests, and the testdata they read, unless the answer is a tool the
	// handout keeps whole (the client).
	if strings.HasPrefix(e.AnswerDir(), e.Dir()+"/") {
		if err := copyTree(filepath.Join(root, filepath.FromSlash(e.AnswerDir())), filepath.Join(to, "_tests"),
			func(rel string, d fs.DirEntry) bool {
				return rel == "testdata" || strings.HasPrefix(rel, "testdata/") || strings.HasSuffix(rel, "_test.go") && !strings.Contains(rel, "/")
			}); err != nil {
			return err
		}
	}
	start, err := e.Start(root)
	if err != nil {
		return err
	}
	stub := e.Dir() + "/_start"
	var lines []string
	add := func(l string) {
		for _, have := range lines {
			if have == l {
				return
			}
		}
		lines = append(lines, l)
	}
	for _, line := range start {
		info, err := os.Stat(filepath.Join(root, filepath.FromSlash(line)))
		if err != nil {
			return fmt.Errorf("START names %s: %v", line, err)
		}
		switch {
		case given[line] || !isAnswer(line) && !isStage(line):
			add(line)
		case isStage(line):
			add("mine/ex" + strings.TrimPrefix(line, "stage"))
		case info.IsDir():
			add("mine/" + path.Base(path.Dir(line)))
		default: // one ready-made file of an answer: it joins the stubs
			dst := filepath.Join(to, "_start", path.Base(line))
			if _, err := os.Stat(dst); err == nil {
				return fmt.Errorf("START gives %s, and _start has a file of that name already", line)
			}
			if err := copyOne(filepath.Join(root, filepath.FromSlash(line)), dst); err != nil {
				return err
			}
			add(stub)
		}
	}
	return os.WriteFile(filepath.Join(to, "START"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

var stageRE = regexp.MustCompile(`^stage[0-5]$`)

func isStage(line string) bool { return stageRE.MatchString(line) }

// isAnswer says whether a START line is an answer folder, or a file in one.
func isAnswer(line string) bool {
	parts := strings.Split(line, "/")
	for _, p := range parts {
		if p == "answer" {
			return true
		}
	}
	return false
}

// withheld names the pages a student edition does not have.
var withheld = []string{"TEACHING.md", "MISTAKES.md", "CONTRIBUTING.md"}

// dropParagraphs removes from a Markdown file each paragraph that links to one of
// the pages named, so that a student meets no dead link.
func dropParagraphs(file string, pages []string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	paras := strings.Split(string(b), "\n\n")
	kept := paras[:0]
	for _, p := range paras {
		drop := false
		for _, page := range pages {
			if strings.Contains(p, page+")") || strings.Contains(p, page+"#") {
				drop = true
			}
		}
		if !drop {
			kept = append(kept, p)
		}
	}
	out := strings.Join(kept, "\n\n")
	if out == string(b) {
		return nil
	}
	return os.WriteFile(file, []byte(out), 0o644)
}

func everything(string, fs.DirEntry) bool { return true }

// copyTree copies the files under from that keep accepts (rel is the path from
// from, with slashes) to the same places under to. A folder keep refuses is skipped
// whole.
func copyTree(from, to string, keep func(rel string, d fs.DirEntry) bool) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !keep(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		return copyOne(p, filepath.Join(to, filepath.FromSlash(rel)))
	})
}

// copyOne copies one file, making the folders it goes in.
func copyOne(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// server is the best server a student edition holds: its last stage (stage 1 at least).
func server(stages []int) string { return fmt.Sprintf("stage%d", stages[len(stages)-1]) }

// studentReadme is the top page of a student edition.
func studentReadme(stages []int) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, `# Build a chat server in Go, one weakness at a time: your copy

This is the student edition of a workbook for learning network programming and
concurrency in Go: you build a chat server step by step, find each step's weakness,
and fix it. It holds the exercises, their starting points and their tests, and no
answers: your teacher has those.

Stages given in this copy: %s. A stage is a whole, working step of the server, with a
README and tests; the sheets ask you to build the next one.

## Before you start

You need Go 1.24 or newer. The race detector (`+"`-race`"+`) needs a C compiler on Linux
(gcc from your distribution) and on Windows (mingw-w64 version 8 or newer, from
MSYS2, or work in WSL2); on macOS nothing. Check your machine, from this folder:

    go run ./exercises/tools/preflight

## Chat

    go run ./%s                         # the server of the last stage given, on localhost:8888
    nc localhost 8888                        # in other terminals (telnet localhost 8888 works too)
    go run ./exercises/tools/client          # a Go client, for Windows or anywhere without nc

## The exercises

Start with [the map of the exercises](exercises/README.md). Each sheet sets itself up
with begin, in a folder of your own under mine/:

    go run ./exercises/tools/begin ex2 mine/ex2        # a sheet: the program you start from
    go run ./exercises/tools/check -stage 2 mine/ex2   # pass or fail, and why
    go run ./exercises/tools/begin names mine/names    # an extension: its start and its tests
    go test -race ./mine/names                         # fails until you have done it

An extension that starts from another one's solution starts from yours: presence
starts from your mine/names, so finish names first. An extension that starts from a
stage your copy does not have starts from your own sheet (stage 5 is your
mine/ex5). Commands in the sheets that name an `+"`answer/`"+` folder, or a stage this
copy does not have, compare your work with the reference solution: they work in your
teacher's copy.

The workbook is free to use and change under the MIT licence (LICENSE).
`, stageList(stages), server(stages))
	return b.String()
}
