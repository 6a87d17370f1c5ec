// Compare prints what changed between two folders of Go code, as a unified diff: the
// side-by-side comparison each exercise ends with. It needs no diff program, so it
// works on Windows too.
//
//	go run ./exercises/tools/compare stage3 stage4       # the lesson of stage4
//	go run ./exercises/tools/compare stage3 mine/ex4     # your answer against the workbook's
//	go run ./exercises/tools/compare -tests stage3 stage4
//	go run ./exercises/tools/compare -write              # rewrite every stageN/CHANGES.diff
//
// By default it compares the programs only (the .go files that are not tests).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	tests := flag.Bool("tests", false, "compare the _test.go files too")
	write := flag.Bool("write", false, "rewrite stageN/CHANGES.diff for every stage from stage1 on")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./exercises/tools/compare [-tests] OLD NEW\n"+
			"       go run ./exercises/tools/compare -write\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("compare: ")

	if *write {
		root, err := moduleRoot()
		if err != nil {
			log.Fatal(err)
		}
		for n := 1; ; n++ {
			old, cur := filepath.Join(root, stage(n-1)), filepath.Join(root, stage(n))
			if _, err := os.Stat(cur); err != nil {
				break
			}
			d, err := stageChanges(old, cur)
			if err != nil {
				log.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(cur, "CHANGES.diff"), []byte(d), 0o644); err != nil {
				log.Fatal(err)
			}
			fmt.Printf("wrote %s/CHANGES.diff (%d changed lines)\n", stage(n), changedLines(d))
		}
		return
	}
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	keep := isProgram
	if *tests {
		keep = func(name string) bool { return strings.HasSuffix(name, ".go") }
	}
	d, err := compareDirs(flag.Arg(0), flag.Arg(1), keep)
	if err != nil {
		log.Fatal(err)
	}
	if d == "" {
		fmt.Println("no differences")
		return
	}
	fmt.Print(d)
}

func stage(n int) string { return fmt.Sprintf("stage%d", n) }

// stageChanges is the text of CHANGES.diff: the program files of cur against old,
// named as a learner sees them (stage3/server.go, not a full path).
func stageChanges(old, cur string) (string, error) {
	return compareDirs(old, cur, isProgram)
}

// isProgram keeps the Go files that make the program, not its tests.
func isProgram(name string) bool {
	return strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
}

// compareDirs diffs every file keep accepts in either folder, in name order.
// A file found in only one folder is compared with nothing (/dev/null).
func compareDirs(oldDir, newDir string, keep func(string) bool) (string, error) {
	names := map[string]bool{}
	for _, dir := range []string{oldDir, newDir} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return "", err
		}
		for _, e := range entries {
			if e.Type().IsRegular() && keep(e.Name()) {
				names[e.Name()] = true
			}
		}
	}
	var b strings.Builder
	oldLabel, newLabel := labels(oldDir, newDir)
	for _, name := range sortedKeys(names) {
		oldName, newName := oldLabel+"/"+name, newLabel+"/"+name
		oldText, errOld := os.ReadFile(filepath.Join(oldDir, name))
		newText, errNew := os.ReadFile(filepath.Join(newDir, name))
		if errOld != nil && !os.IsNotExist(errOld) {
			return "", errOld
		}
		if errNew != nil && !os.IsNotExist(errNew) {
			return "", errNew
		}
		if errOld != nil {
			oldName = "/dev/null"
		}
		if errNew != nil {
			newName = "/dev/null"
		}
		b.WriteString(unified(oldName, newName, string(oldText), string(newText)))
	}
	return b.String(), nil
}

// labels name the two folders in the diff's headers the way the learner typed
// them (exercises/slow/answer, mine/ex2), with forward slashes. A path from
// outside the workbook's top folder (/tmp/x/mine, ../../../stage3) is cut to its
// last folder, or to its last two where the last are the same (two answer/ folders).
func labels(oldDir, newDir string) (string, string) {
	short := func(dir string, n int) string {
		d := filepath.ToSlash(filepath.Clean(dir))
		if !filepath.IsAbs(dir) && d != ".." && !strings.HasPrefix(d, "../") {
			return d
		}
		parts := strings.Split(d, "/")
		if n > len(parts) {
			n = len(parts)
		}
		return strings.Join(parts[len(parts)-n:], "/")
	}
	o, n := short(oldDir, 1), short(newDir, 1)
	if o == n && filepath.Clean(oldDir) != filepath.Clean(newDir) {
		o, n = short(oldDir, 2), short(newDir, 2)
	}
	return o, n
}

// moduleRoot finds the workbook's root folder, so -write works from any folder inside it.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run me inside the workbook (no go.mod found)")
	}
	return filepath.Dir(gomod), nil
}
