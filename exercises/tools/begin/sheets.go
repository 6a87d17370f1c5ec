package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"chatbook/exercises/tools/course"
)

// setUp is `begin NAME DIR`, for a sheet (ex0 to ex5) or an extension: it sets
// the exercise up and says what to run next. It returns the exit status.
func setUp(root string, args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 {
		if s, ok := sheetNamed(args[0]); ok && !copies(s) {
			fmt.Fprint(stdout, nothingToCopy(s))
			return 0
		}
	}
	if len(args) != 2 {
		usage(stderr)
		return 2
	}
	name, dir := args[0], args[1]
	s, isSheet := sheetNamed(name)
	if isSheet && !copies(s) {
		fmt.Fprint(stdout, nothingToCopy(s))
		return 0
	}
	if _, err := course.Find(name); err != nil && !isSheet {
		fmt.Fprintf(stderr, "begin: no exercise called %q: there are ex2 to ex5 and %s (begin -list shows them all)\n",
			name, strings.Join(course.Names(), ", "))
		return 2
	}
	if err := inside(root, dir, name); err != nil {
		fmt.Fprintln(stderr, "begin:", err)
		return 2
	}
	var err error
	if isSheet {
		err = beginSheet(root, s, dir)
	} else {
		err = begin(root, name, dir)
	}
	if err != nil {
		fmt.Fprintln(stderr, "begin:", err)
		return 1
	}

	pkg := pkgArg(dir)
	if isSheet {
		fmt.Fprintf(stdout, "%s is ready in %s: %s's program, and stage%d's tests but its hazard_test.go "+
			"(that one asserts the weakness you are about to fix). Read %s, edit, and then:\n\n"+
			"\tgo test -race %s\n\tgo run ./exercises/tools/check -stage %d %s\n",
			name, dir, sheetFrom(root, s), s.Stage, s.Path(), pkg, s.Stage, dir)
	} else {
		fmt.Fprintf(stdout, "%s is ready in %s. Read exercises/%s/README.md, edit, then check it with:\n\n\t%s\n",
			name, dir, name, testCommand(dir))
	}
	// Every exercise is checked with -race: say now, not at the first test, if this
	// machine cannot, and what to do about it.
	if r := raceProbe(context.Background()); !r.OK {
		fmt.Fprintf(stdout, "\nNote: %s. Until then, run the tests without it: go test %s\n", r, pkg)
	}
	return 0
}

// sheetNamed returns the sheet called name: ex0 to ex5.
func sheetNamed(name string) (course.Sheet, bool) {
	for _, s := range course.Sheets {
		if name == fmt.Sprintf("ex%d", s.Stage) {
			return s, true
		}
	}
	return course.Sheet{}, false
}

// copies says whether the learner works on a copy. In exercises 0 and 1 they
// read, run and test the stage as it is.
func copies(s course.Sheet) bool { return s.From != fmt.Sprintf("stage%d", s.Stage) }

func nothingToCopy(s course.Sheet) string {
	return fmt.Sprintf("Exercise %d works on %s as it is: there is nothing to copy. Read %s, and check the program with:\n\n"+
		"\tgo run ./exercises/tools/check -stage %d %s\n", s.Stage, s.From, s.Path(), s.Stage, s.From)
}

// beginSheet sets sheet s up in dir, which must not exist yet: the program of the
// stage before (its Go files, not its tests), and the tests of the stage the
// sheet leads to, all but hazard_test.go, which asserts the very weakness the
// learner is fixing. Those tests fail on the copy until the exercise is done; in
// exercise 5, `go test -race` on the copy finds the race.
func beginSheet(root string, s course.Sheet, dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%s already exists: choose a new folder (begin never overwrites your work)", dir)
	}
	from, tests := sheetFrom(root, s), sheetTests(root, s)
	if _, err := os.Stat(filepath.Join(root, from)); err != nil {
		return fmt.Errorf("ex%d starts from %s, your exercise %d: do that one first (go run ./exercises/tools/begin ex%d %s)",
			s.Stage, from, s.Stage-1, s.Stage-1, from)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := copyFiles(filepath.Join(root, from), dir, func(n string) bool {
		return strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go")
	}); err != nil {
		return err
	}
	return copyFiles(tests, dir, func(n string) bool {
		return strings.HasSuffix(n, "_test.go") && n != "hazard_test.go"
	})
}

// sheetFrom is the folder sheet s starts from: the stage before, or, in a
// student edition without that stage, the learner's own previous sheet.
func sheetFrom(root string, s course.Sheet) string {
	if !exists(filepath.Join(root, s.From)) {
		return fmt.Sprintf("mine/ex%d", s.Stage-1)
	}
	return s.From
}

// sheetTests is the folder of the tests sheet s leads to: its stage's folder, or,
// in a student edition without that stage, exercises/_tests/exN.
func sheetTests(root string, s course.Sheet) string {
	if handed := sheetTestsHanded(root, s); exists(handed) {
		return handed
	}
	return filepath.Join(root, fmt.Sprintf("stage%d", s.Stage))
}

func sheetTestsHanded(root string, s course.Sheet) string {
	return filepath.Join(root, "exercises", "_tests", fmt.Sprintf("ex%d", s.Stage))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// inside refuses a folder outside the workbook: there, go finds no go.mod, and
// neither the copy's tests nor the checker can build it.
func inside(root, dir, name string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	r, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	root = r
	// Compare real paths: a temporary folder or a home folder may be a link.
	if real, err := filepath.EvalSymlinks(r); err == nil {
		r = real
	}
	if real, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(real, filepath.Base(abs))
	}
	rel, err := filepath.Rel(r, abs)
	if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && rel != "." {
		return nil
	}
	return fmt.Errorf("%s is outside the workbook: choose a folder inside it, such as %s, so that Go finds the workbook's go.mod",
		dir, filepath.Join(root, "mine", name))
}

// pkgArg is dir as go test wants it: ./mine/names, or an absolute path as it is.
func pkgArg(dir string) string {
	if filepath.IsAbs(dir) {
		return dir
	}
	return "./" + filepath.ToSlash(filepath.Clean(dir))
}

// listAll prints every exercise in teaching order: the sheets, then the extensions.
func listAll(root string, w io.Writer) error {
	fmt.Fprintln(w, "Exercises 0 to 5 follow the stages (the sheet is exercises/exN.md):")
	for _, s := range course.Sheets {
		name := fmt.Sprintf("ex%d", s.Stage)
		from := s.From + " as it is: nothing to copy"
		if copies(s) {
			from = fmt.Sprintf("%s's program, with stage%d's tests", sheetFrom(root, s), s.Stage)
		}
		fmt.Fprintf(w, "  %-10s %s\n", name, from)
	}
	fmt.Fprintln(w, "\nExtensions, after stage 5 (the sheet is exercises/NAME/README.md):")
	for _, e := range course.Extensions {
		start, err := e.Start(root)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %-10s starts from %s\n", e.Name, strings.Join(start, " + "))
	}
	fmt.Fprintln(w, "\nStart one with: go run ./exercises/tools/begin NAME mine/NAME")
	return nil
}

// usage is begin's help.
func usage(w io.Writer) {
	fmt.Fprint(w, `usage: go run ./exercises/tools/begin NAME DIR      set exercise NAME up in DIR, a new folder inside the workbook
       go run ./exercises/tools/begin -list         every exercise, in teaching order, and where it starts
       go run ./exercises/tools/begin -prove all    (for CI) each starting point compiles and fails its tests
       go run ./exercises/tools/begin -mistakes [-runs N] [-jobs J] NAME...|all   the checks catch every classic mistake, every run (CI: -jobs 4 all)
       go run ./exercises/tools/begin -handout DIR [-stages 0-5]   a student edition of the workbook, with no answers

NAME is ex2 to ex5 (the sheets that follow the stages) or an extension, such as names:

	go run ./exercises/tools/begin ex2 mine/ex2
	go run ./exercises/tools/begin names mine/names
`)
}
