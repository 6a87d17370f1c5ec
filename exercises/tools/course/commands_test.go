package course

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A reader copies the commands of the READMEs and the sheets as they are written.
// This test reads every go run, go test and go vet in every Markdown page of the
// workbook and checks that what each one names is real: its folders (mine/NAME is
// what begin makes: the answer of exercise NAME), the flags it gives a workbook
// program or a test binary, the exercises it hands begin, and the tests that -run,
// -bench and -fuzz pick. It runs nothing: the tests of each package run its
// commands (the stages' tests run the programs with nc and telnet, begin's tests
// run begin, check's the checker, and so on). A command renamed in the code and
// not in a page fails here, with the page and the line.
func TestCommandsInThePagesNameRealThings(t *testing.T) {
	pages := markdownPages(t)
	count := 0
	for _, page := range pages {
		for _, c := range commandsIn(t, page) {
			count++
			for _, problem := range checkCommand(c) {
				t.Errorf("%s:%d: %s\n\t%s", must(filepath.Rel(root, page)), c.line, problem, c.text)
			}
		}
	}
	t.Logf("%d commands in %d pages", count, len(pages))
	if count < 100 {
		t.Errorf("found only %d commands in %d pages: the reader of commands is broken", count, len(pages))
	}
}

// The checks below must be able to fail.
func TestCommandCheckerFindsWrongCommands(t *testing.T) {
	for text, want := range map[string]string{
		"go run ./stage9":                                  "stage9",
		"go run ./stage5 -adr :9000":                       `-adr`,
		"go test -race -run Hazzard ./stage4":              "Hazzard",
		"go test -run '^$' -bench Nothing ./stage5":        "Nothing",
		"go run ./exercises/tools/begin nams mine/nams":    "nams",
		"go run ./exercises/tools/begin -mistakes nams":    "nams",
		"go run ./exercises/tools/compare stage2 mine/ex9": "mine/ex9",
		"go test -race ./mine/nosuch":                      "mine/nosuch",
		"go run ./mine/tls -gen-certs /tmp/x":              "-gen-certs",
		"go test ./exercises/tools/course -updat":          "-updat",
	} {
		problems := checkCommand(command{text: text, dir: "."})
		if len(problems) == 0 {
			t.Errorf("%s: no problem found, want one about %s", text, want)
			continue
		}
		if !strings.Contains(strings.Join(problems, "; "), want) {
			t.Errorf("%s: %q does not name %s", text, problems, want)
		}
	}
	for _, text := range []string{
		"go run ./stage5 -addr :9000",
		"CHATBOOK_RACE_SCENARIO=1 go test -race -run TestRaceScenario ./stage4",
		"go run ./exercises/tools/begin ex2 mine/ex2",
		"go test -race -run 'TestRename$' -v ./mine/names",
	} {
		if problems := checkCommand(command{text: text, dir: "."}); len(problems) > 0 {
			t.Errorf("%s: %q", text, problems)
		}
	}
}

// wrongOnPurpose are the commands a page gives so that the reader sees them fail.
var wrongOnPurpose = map[string]bool{
	"go run ./stage1 -port 9000": true, // exercise 1: a flag the program does not have
}

type command struct {
	text string // as written, from go on, without a comment
	dir  string // where it runs, from the root, after the cd lines before it
	page string // the page's folder, from the root, where a path not found from dir is looked for
	line int
}

func markdownPages(t *testing.T) []string {
	var pages []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "mine" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			pages = append(pages, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

var (
	inlineGo = regexp.MustCompile("`((?:[A-Z_]+=\\S+ )?go (?:run|test|vet) [^`]+)`")
	lineGo   = regexp.MustCompile(`^(?:[A-Z_]+=\S+ )?go (?:run|test|vet) `)
	cdLine   = regexp.MustCompile(`^cd (\S+)(?: && (.*))?$`)
)

// commandsIn reads the commands of one page: the lines of its code blocks, fenced
// or indented, and the commands in its inline code. A cd in a code block holds for
// the lines after it in that block.
func commandsIn(t *testing.T, page string) []command {
	f, err := os.Open(page)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pageDir := filepath.ToSlash(must(filepath.Rel(root, filepath.Dir(page))))
	var out []command
	dir, inFence, n := ".", false, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		raw := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(raw), "```") {
			inFence, dir = !inFence, "."
			continue
		}
		inBlock := inFence || strings.HasPrefix(raw, "    ")
		if !inBlock {
			dir = "."
			for _, m := range inlineGo.FindAllStringSubmatch(raw, -1) {
				out = append(out, command{text: m[1], dir: dir, page: pageDir, line: n})
			}
			continue
		}
		text := strings.TrimSpace(raw)
		if i := strings.Index(text, " #"); i >= 0 {
			text = strings.TrimSpace(text[:i])
		}
		if m := cdLine.FindStringSubmatch(text); m != nil {
			dir = path.Join(dir, m[1])
			if text = m[2]; text == "" {
				continue
			}
		}
		if lineGo.MatchString(text) {
			out = append(out, command{text: text, dir: dir, page: pageDir, line: n})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// words splits a command as a shell would, for the quoting the pages use, and
// stops at a redirection, a pipe or a second command.
func words(s string) []string {
	var out []string
	var cur strings.Builder
	quote, in := byte(0), false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	for i, w := range out {
		if w == ">" || w == "|" || w == "&&" || w == ";" || w == "2>&1" {
			return out[:i]
		}
	}
	return out
}

// placeholder says whether a word stands for something the reader chooses.
func placeholder(w string) bool {
	for _, p := range []string{"NAME", "DIR", "HOST", "PORT", "TEACHER"} {
		if strings.Contains(w, p) {
			return true
		}
	}
	return w == "N"
}

// goTestFlags are go test's own flags; those in the first set take a value.
var (
	goTestValue = map[string]bool{"run": true, "bench": true, "benchtime": true, "count": true, "fuzz": true,
		"fuzztime": true, "timeout": true, "cpu": true, "overlay": true, "parallel": true, "skip": true, "tags": true}
	goTestBool = map[string]bool{"race": true, "v": true, "failfast": true, "short": true, "json": true,
		"cover": true, "benchmem": true}
)

// checkCommand returns what is wrong with one command, if anything.
func checkCommand(c command) []string {
	if wrongOnPurpose[c.text] {
		return nil
	}
	w := words(c.text)
	for len(w) > 0 && strings.Contains(w[0], "=") { // CHATBOOK_RACE_SCENARIO=1
		w = w[1:]
	}
	if len(w) < 2 || w[0] != "go" {
		return nil
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch w[1] {
	case "run":
		args := w[2:]
		for len(args) > 0 && strings.HasPrefix(args[0], "-") { // go run -race
			args = args[1:]
		}
		if len(args) == 0 || !strings.HasPrefix(args[0], ".") || placeholder(args[0]) {
			return nil // go run honnef.co/...@v0.8.2: not the workbook's
		}
		pkg, ok := c.resolve(args[0])
		if !ok {
			return []string{fmt.Sprintf("no folder %s", args[0])}
		}
		checkProgramArgs(c, pkg, args[1:], bad)
	case "test", "vet":
		var pkgs []string
		picks := map[string]string{} // run, bench, fuzz -> the pattern
		var binary []string          // the flags for the test binary
		args := w[2:]
		for i := 0; i < len(args); i++ {
			a := args[i]
			if a == "-args" {
				binary = append(binary, args[i+1:]...)
				break
			}
			if !strings.HasPrefix(a, "-") {
				pkgs = append(pkgs, a)
				continue
			}
			name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			switch {
			case goTestValue[name]:
				if !hasValue && i+1 < len(args) {
					i++
					value = args[i]
				}
				picks[name] = value
			case goTestBool[name]:
			default:
				binary = append(binary, a)
			}
		}
		if len(pkgs) == 0 {
			if c.dir == "." && !strings.HasPrefix(c.text, "go test ") {
				return nil
			}
			// In prose, `go test -run X` runs where the learner works: the
			// exercise's folder, whose tests are its answer's.
			pkgs = []string{"."}
		}
		for _, p := range pkgs {
			if placeholder(p) {
				continue
			}
			if strings.HasSuffix(p, "/...") || p == "./..." {
				if _, ok := c.resolve(strings.TrimSuffix(strings.TrimSuffix(p, "..."), "/")); !ok {
					bad("no folder %s", p)
				}
				continue
			}
			dir, ok := c.resolve(p)
			if !ok {
				bad("no folder %s", p)
				continue
			}
			names := testNames(dir)
			for kind, prefix := range map[string]string{"run": "", "bench": "Benchmark", "fuzz": "Fuzz"} {
				re, ok := picks[kind]
				if !ok || re == "^$" || re == "" {
					continue
				}
				top := strings.Split(re, "/")[0]
				rx, err := regexp.Compile(top)
				if err != nil {
					bad("-%s %s: %v", kind, re, err)
					continue
				}
				found := false
				for _, n := range names {
					found = found || strings.HasPrefix(n, prefix) && rx.MatchString(n)
				}
				if !found {
					bad("-%s %s picks no test in %s", kind, re, p)
				}
			}
			for _, f := range binary {
				name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
				if !definesFlag(dir, name, true) {
					bad("%s's tests have no flag %s", p, f)
				}
			}
		}
	}
	return problems
}

// checkProgramArgs checks what a command gives a workbook program: its flags, and
// for the tools, the exercises and folders they are given.
func checkProgramArgs(c command, pkg string, args []string, bad func(string, ...any)) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !definesFlag(pkg, name, false) {
			bad("%s has no flag %s", pkg, a)
		}
		// A flag's value is the next word, but for the flags that take none.
		if !boolFlag(name) && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			i++
		}
	}
	known := func(name string) bool {
		if name == "all" {
			return true
		}
		for _, s := range Sheets {
			if name == fmt.Sprintf("ex%d", s.Stage) {
				return true
			}
		}
		_, err := Find(name)
		return err == nil
	}
	switch pkg {
	case "exercises/tools/begin":
		for i, a := range rest {
			if placeholder(a) {
				continue
			}
			if i == 0 || strings.Contains(c.text, "-mistakes") || strings.Contains(c.text, "-prove") {
				if !known(a) {
					bad("begin knows no exercise %s", a)
				}
			}
		}
	case "exercises/tools/compare", "exercises/tools/check":
		for _, a := range rest {
			if !placeholder(a) {
				if _, ok := c.resolve(a); !ok {
					bad("no folder %s", a)
				}
			}
		}
	}
}

// boolFlag names the flags of the workbook's programs that take no value.
func boolFlag(name string) bool {
	switch name {
	case "list", "prove", "mistakes", "busy", "tests", "write", "all", "client", "race":
		return true
	}
	return false
}

// resolve finds the folder a command's path names, from the root: from where the
// command runs, else from its page's folder, else (an exercise's sheet) from the
// answer, where the learner's copy is. mine/NAME is what begin makes: the answer
// of exercise NAME (stage N for sheet exN). A folder of Go files is preferred.
func (c command) resolve(p string) (string, bool) {
	found := ""
	for _, from := range []string{c.dir, c.page, c.page + "/answer"} {
		if from == "" {
			continue
		}
		rel := path.Join(from, p)
		if strings.HasPrefix(rel, "mine/") || rel == "mine" {
			parts := strings.SplitN(rel, "/", 3)
			if len(parts) < 2 {
				return "", false
			}
			var ans string
			if len(parts[1]) == 3 && strings.HasPrefix(parts[1], "ex") && parts[1][2] >= '0' && parts[1][2] <= '5' {
				ans = "stage" + parts[1][2:]
			} else if e, err := Find(parts[1]); err == nil {
				ans = e.AnswerDir()
			} else {
				return "", false
			}
			if len(parts) == 3 {
				ans = path.Join(ans, parts[2])
			}
			rel = ans
		}
		full := filepath.Join(root, filepath.FromSlash(rel))
		if _, err := os.Stat(full); err != nil {
			continue
		}
		if goFiles, _ := filepath.Glob(filepath.Join(full, "*.go")); len(goFiles) > 0 {
			return rel, true
		}
		if found == "" {
			found = rel
		}
	}
	return found, found != ""
}

var testFunc = regexp.MustCompile(`(?m)^func ((?:Test|Benchmark|Fuzz|Example)\w*)\(`)

// testNames lists the test, benchmark and fuzz functions of a package folder.
func testNames(dir string) []string {
	files, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(dir), "*_test.go"))
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, m := range testFunc.FindAllSubmatch(b, -1) {
			names = append(names, string(m[1]))
		}
	}
	return names
}

// definesFlag says whether the Go files of a folder (its tests, or its program)
// define a flag called name: they spell it as a string.
func definesFlag(dir, name string, tests bool) bool {
	files, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(dir), "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") != tests {
			continue
		}
		b, err := os.ReadFile(f)
		if err == nil && strings.Contains(string(b), `"`+name+`"`) {
			return true
		}
	}
	return false
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
