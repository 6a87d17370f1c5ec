// Begin sets up an exercise: it copies the exercise's starting point and its tests
// into a folder of your own, inside the workbook, so you can start editing at once.
//
//	go run ./exercises/tools/begin ex2 mine/ex2       # stage1's program, stage2's tests (see sheets.go)
//	go run ./exercises/tools/begin names mine/names   # then: go test -race ./mine/names
//	go run ./exercises/tools/begin -list              # the exercises and where each starts
//
// Each exercise folder names its starting point in a file called START: one line, a
// folder (stage5, say, or the solution of the exercise before it), and optionally more
// lines, each a folder or a single file laid over the first, file by file: a stub to
// fill in, or a file the exercise gives you ready-made. Begin copies those Go files
// (never their tests), then the exercise's own *_test.go files and testdata/.
//
// With -prove, begin checks the exercise itself, as CI does: the starting point and
// the tests, copied into a scratch folder, must compile, and the tests must FAIL.
// A starting point that already passed would leave the learner nothing to do.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"

	"strings"

	"chatbook/exercises/tools/course"
)

func main() {
	list := flag.Bool("list", false, "list the exercises and their starting points")
	prove := flag.Bool("prove", false, "check that each named exercise's starting point compiles and fails its tests")
	mistakes := flag.Bool("mistakes", false, "check that each named exercise's checks catch its classic mistakes in every run")
	runs := flag.Int("runs", 20, "with -mistakes: how many runs")
	busy := flag.Bool("busy", true, "with -mistakes: keep one core busy meanwhile, as on a busy laptop")
	jobs := flag.Int("jobs", 1, "with -mistakes: prove this many exercises at once (most checks wait on timeouts, so CI runs several)")
	if os.Getenv("CHATBOOK_SPIN") == "1" {
		spinForever() // begin -mistakes started us to keep one core busy
	}
	flag.Usage = func() { usage(flag.CommandLine.Output()) }
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("begin: ")

	root, err := moduleRoot()
	if err != nil {
		log.Fatal(err)
	}
	switch {
	case *handoutDir != "": // handout.go
		if err := runHandout(root); err != nil {
			log.Fatal(err)
		}
	case *list:
		if err := listAll(root, os.Stdout); err != nil {
			log.Fatal(err)
		}
	case *mistakes:
		if flag.NArg() == 0 {
			flag.Usage()
			os.Exit(2)
		}
		if err := proveMistakes(root, flag.Args(), *runs, *busy, *jobs); err != nil {
			log.Fatal(err)
		}
	case *prove:
		names := flag.Args()
		if len(names) == 1 && names[0] == "all" {
			if names, err = exercises(root); err != nil {
				log.Fatal(err)
			}
		}
		if len(names) == 0 {
			flag.Usage()
			os.Exit(2)
		}
		failed := false
		for _, name := range names {
			if err := proveFails(root, name); err != nil {
				log.Printf("%s: %v", name, err)
				failed = true
				continue
			}
			fmt.Printf("ok   %s: its starting point compiles and fails its tests\n", name)
		}
		if failed {
			os.Exit(1)
		}
	default:
		os.Exit(setUp(root, flag.Args(), os.Stdout, os.Stderr))
	}
}

// begin copies exercise name's starting point and tests into dir, which must not exist yet:
// begin never overwrites your work.
func begin(root, name, dir string) error {
	start, err := startOf(root, name)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%s already exists: choose a new folder (begin never overwrites your work)", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The starting point's own tests test the old behaviour; the exercise's tests replace them.
	for _, from := range start {
		if err := copyFiles(filepath.Join(root, from), dir, func(n string) bool {
			return strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go")
		}); err != nil {
			return fmt.Errorf("%s starts from %s: %w", name, from, err)
		}
	}
	ex := testsDir(root, must(course.Find(name))) // the answer folder, or a student edition's _tests
	if err := copyFiles(ex, dir, func(n string) bool { return strings.HasSuffix(n, "_test.go") }); err != nil {
		return err
	}
	if err := copyModule(root, must(course.Find(name)).AnswerDir(), dir); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(ex, "testdata")); err == nil {
		return os.CopyFS(filepath.Join(dir, "testdata"), os.DirFS(filepath.Join(ex, "testdata")))
	}
	return nil
}

// proveFails sets exercise name up in a scratch folder inside the module (a folder whose
// name starts with "." is left out of ./..., so it never disturbs the other tests) and
// checks that it compiles and that its tests fail.
func proveFails(root, name string) error {
	scratch := filepath.Join(root, ".tmp", "prove-"+name)
	if err := os.RemoveAll(scratch); err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	if err := begin(root, name, scratch); err != nil {
		return err
	}
	if out, err := goPkg(root, scratch, "vet"); err != nil {
		return fmt.Errorf("the starting point and the tests do not compile together:\n%s", out)
	}
	out, err := goPkg(root, scratch, "test", "-count=1")
	if err == nil {
		return errors.New("the starting point already PASSES the tests: the exercise asks for nothing")
	}
	if !bytes.Contains(out, []byte("--- FAIL")) {
		return fmt.Errorf("go test failed, but no test failed (a build or setup problem?):\n%s", out)
	}
	return nil
}

// exercises lists the extensions in teaching order (package course keeps it).
func exercises(string) ([]string, error) { return course.Names(), nil }

// startOf reads exercise name's START file: the folders and files of its starting point.
func startOf(root, name string) ([]string, error) {
	e, err := course.Find(name)
	if err != nil {
		return nil, err
	}
	return e.Start(root)
}

// copyFiles copies into to the regular files in from (not its subfolders) that keep
// accepts; or, if from is a single file, that file.
func copyFiles(from, to string, keep func(name string) bool) error {
	info, err := os.Stat(from)
	if err != nil {
		return err
	}
	names := []string{filepath.Base(from)}
	if info.IsDir() {
		entries, err := os.ReadDir(from)
		if err != nil {
			return err
		}
		names = nil
		for _, e := range entries {
			if e.Type().IsRegular() && keep(e.Name()) {
				names = append(names, e.Name())
			}
		}
		from = filepath.Join(from, "x") // so that Dir(from) below is the folder
	}
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(from), name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// moduleRoot finds the workbook's root folder, so begin works from any folder inside it.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run me inside the workbook (no go.mod found)")
	}
	return filepath.Dir(gomod), nil
}

func goCmd(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	return cmd.CombinedOutput()
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
