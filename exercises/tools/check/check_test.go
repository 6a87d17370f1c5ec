package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// root is the workbook's top folder, seen from this package's folder.
const root = "../../.."

// shared is the checker the progression tests use: each stage is built once.
var shared *checker

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "chatcheck-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared = newChecker(context.Background(), tmp, 10*time.Second)
	code := m.Run()
	os.RemoveAll(tmp)
	// Every program the checker started has been reaped, every client closed.
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

var progression struct {
	once sync.Once
	prog [][]result
}

// measured checks the workbook's stage0..stage5, once for all the tests that need it.
func measured(t *testing.T) [][]result {
	progression.once.Do(func() { progression.prog = shared.measureAll(root) })
	require.Len(t, progression.prog, lastStage+1)
	return progression.prog
}

// The workbook's promise: each stage passes every property it requires, fails each
// property the next stage adds, and fails what it no longer does (stage4 stops echoing).
func TestProgression(t *testing.T) {
	t.Parallel()
	prog := measured(t)
	for stage, results := range prog {
		for i, p := range properties {
			r := results[i]
			switch {
			case p.requires(stage) == "required":
				if !assert.True(t, r.pass, "stage%d must pass %q", stage, p.name) {
					t.Logf("saw: %s", r.saw)
				}
			case p.from == stage+1 || p.until == stage-1:
				assert.False(t, r.pass, "stage%d must fail %q: stage%d adds it", stage, p.name, p.from)
			}
		}
	}
	// The in-process rows say what they saw.
	row := func(name string) int {
		for i, p := range properties {
			if p.name == name {
				return i
			}
		}
		t.Fatalf("no property %q", name)
		return -1
	}
	assert.Contains(t, prog[0][row("Close stops the server")].saw, "the checker's in-process test does not build with it")
	assert.Contains(t, prog[2][row("Close waits for every client")].saw, "Close returned while a client's goroutine was still running")
	assert.Contains(t, prog[3][row("writes nothing to clients that left")].saw, "got none of them")

	// The race is found where it is, and named so that a learner can find it.
	race := prog[4][len(properties)-1]
	require.False(t, race.pass)
	assert.Contains(t, race.saw, "main.(*Server).")
	assert.Contains(t, race.saw, "server.go:")
	// Stage0 has no network: every network row says so in one way.
	assert.Contains(t, prog[0][2].saw, "no -addr flag")
}

// The table in exercises/README.md is the one the checker measures today.
func TestReadmeIsCurrent(t *testing.T) {
	t.Parallel()
	prog := measured(t)
	got, err := readBlock(filepath.Join(root, progressionFile))
	require.NoError(t, err)
	require.Equal(t, markdown(prog), got,
		"exercises/README.md's progression table is out of date: run `go run ./exercises/tools/check -all -write` and read the diff")
}

// What a learner reads for one stage, and the exit status, follow the table.
func TestReportAndExitStatus(t *testing.T) {
	t.Parallel()
	prog := measured(t)
	var out bytes.Buffer
	require.Equal(t, 0, report(&out, "stage2", 2, prog[2]), out.String())
	assert.Contains(t, out.String(), "serves clients at the same time (not yet)")
	assert.NotContains(t, out.String(), "to do:", "no advice for what the stage does not require yet")

	out.Reset()
	require.Equal(t, 1, report(&out, "stage2", 3, prog[2]), "stage2 is not a stage3")
	assert.Contains(t, out.String(), "serves clients at the same time (required)")
	assert.Contains(t, out.String(), "to do: serve each client in a goroutine")

	// Stage 4 no longer echoes: that row is not required, and not a failure.
	out.Reset()
	require.Equal(t, 0, report(&out, "stage4", 4, prog[4]), out.String())
	assert.Regexp(t, `(?m)^echo +no longer +not required$`, out.String())
	assert.NotContains(t, out.String(), "echo (no longer)")
	assert.Contains(t, markdown(prog), "| echo | 0–3 | pass | pass | pass | pass | not required | not required |")
}

// Without -race, the race row is "not checked", never "fail": every other row is
// still checked, the learner is told what to install, and what to watch instead.
func TestReportWithoutRace(t *testing.T) {
	t.Parallel()
	results := make([]result, len(properties))
	for i := range results {
		results[i] = result{pass: true}
	}
	const why = "not checked: this Go cannot build with -race (it needs cgo, and cgo is off: CGO_ENABLED=0)"
	results[len(properties)-1] = result{failure: &failure{notChecked: true, saw: why, fix: "turn cgo on"}}

	var out bytes.Buffer
	require.Equal(t, 3, report(&out, "mine/ex5", 5, results), out.String())
	assert.Regexp(t, `(?m)^no data race +required +not checked$`, out.String())
	assert.Contains(t, out.String(), "no data race (required):\n    "+why+"\n    to do: turn cgo on\n")
	assert.Contains(t, out.String(), "`go run ./mine/ex5`")
	assert.Contains(t, out.String(), "fatal error: concurrent map writes")
	assert.Contains(t, out.String(), "mine/ex5: the 10 properties that stage 5 requires and this machine can check pass; "+
		"1 was not checked: this Go cannot build with -race (it needs cgo, and cgo is off: CGO_ENABLED=0).")
	assert.NotContains(t, out.String(), "fail")

	// A real failure still counts first.
	results[1] = result{failure: fail("send an error", "it kept the line")}
	out.Reset()
	require.Equal(t, 1, report(&out, "mine/ex5", 5, results), out.String())

	// Where the race row is not required, not being able to check it changes nothing.
	out.Reset()
	results[1] = result{pass: true}
	require.Equal(t, 0, report(&out, "mine/ex3", 3, results), out.String())
	assert.Contains(t, out.String(), "to do: turn cgo on", "still say how to get -race")
}

// A Go that cannot build with -race (here: cgo turned off) gets the race row "not
// checked", with a reason that names the machine, never the program. Only builds
// run here: stage5 plainly, and the -race build that fails at once.
func TestRaceUnavailable(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("on macOS -race needs no cgo")
	}
	t.Setenv("CGO_ENABLED", "0")
	c := newChecker(context.Background(), t.TempDir(), 10*time.Second)
	_, err := c.binary(filepath.Join(root, "stage5"), true)
	f := errFailure(err)
	require.True(t, f.notChecked, f.saw)
	assert.Equal(t, "not checked: this Go cannot build with -race (it needs cgo, and cgo is off: CGO_ENABLED=0)", f.saw)
	assert.Contains(t, f.fix, "unset CGO_ENABLED")

	// A program that does not build at all is still the program's fault.
	_, err = c.binary(filepath.Join("testdata", "nobuild"), true)
	f = errFailure(err)
	assert.False(t, f.notChecked)
	assert.Contains(t, f.fix, "fix the first error")
}

// The race property must fail stage4 every time, fail exercise 5 half done (join and
// leave locked, broadcast not: exercises/mistakes/ex5/broadcast-unlocked.txt) every
// time, and pass stage5 every time. CHECK_RACE_RUNS=30 go test -race -run RaceCheck
// ./exercises/tools/check measures it harder; begin -mistakes (in .ci/run) runs every
// mistake of the sheets, 20 times each.
func TestRaceCheckIsReliable(t *testing.T) {
	t.Parallel()
	runs := 2
	if n, err := strconv.Atoi(os.Getenv("CHECK_RACE_RUNS")); err == nil {
		runs = n
	}
	race := properties[len(properties)-1]
	require.True(t, race.race)
	halfDone := mutate(t, filepath.Join(root, "stage5"), filepath.Join(root, "exercises", "mistakes", "ex5", "broadcast-unlocked.txt"))
	results := make([][3]result, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i][0] = shared.try(race, filepath.Join(root, "stage4"), 4)
			results[i][1] = shared.try(race, halfDone, 5)
			results[i][2] = shared.try(race, filepath.Join(root, "stage5"), 5)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if assert.False(t, r[0].pass, "run %d: stage4's race went unseen", i) {
			assert.Contains(t, r[0].saw, "data race")
		}
		if assert.False(t, r[1].pass, "run %d: the unlocked broadcast went unseen", i) {
			assert.Contains(t, r[1].saw, "main.(*Server).broadcast")
		}
		if !assert.True(t, r[2].pass, "run %d: stage5 must pass", i) {
			t.Log(r[2].saw)
		}
	}
}

// mutate copies the program in dir into a folder of the workbook (so that it builds
// in the workbook's module) and applies a mistake's replacements to its server.go.
// It reads the simple form that the sheets' mistakes use: one file, blocks of
// <<<<<<< old ======= new >>>>>>>.
func mutate(t *testing.T, dir, mistake string) string {
	t.Helper()
	out, err := os.MkdirTemp(filepath.Join(root, ".tmp"), "check-mutant-")
	if os.IsNotExist(err) {
		require.NoError(t, os.MkdirAll(filepath.Join(root, ".tmp"), 0o755))
		out, err = os.MkdirTemp(filepath.Join(root, ".tmp"), "check-mutant-")
	}
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(out) })
	for _, f := range []string{"main.go", "server.go"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(out, f), data, 0o644))
	}
	spec, err := os.ReadFile(mistake)
	require.NoError(t, err)
	require.Contains(t, string(spec), "\n--- server.go\n")
	server, err := os.ReadFile(filepath.Join(out, "server.go"))
	require.NoError(t, err)
	src := strings.ReplaceAll(string(server), "\r\n", "\n")
	blocks := strings.Split(strings.ReplaceAll(string(spec), "\r\n", "\n"), "<<<<<<<\n")[1:]
	require.NotEmpty(t, blocks, mistake)
	for _, b := range blocks {
		old, rest, ok := strings.Cut(b, "\n=======\n")
		require.True(t, ok, mistake)
		nw, _, ok := strings.Cut(rest, ">>>>>>>")
		require.True(t, ok, mistake)
		require.Equal(t, 1, strings.Count(src, old), "in %s:\n%s", mistake, old)
		src = strings.Replace(src, old, strings.TrimSuffix(nw, "\n"), 1)
	}
	require.NoError(t, os.WriteFile(filepath.Join(out, "server.go"), []byte(src), 0o644))
	return out
}

// -only checks one row, and names the rows when it is given something else.
func TestOnly(t *testing.T) {
	t.Parallel()
	code, out := checkProgram(t, "-stage", "2", "-only", "Close stops the server", filepath.Join(root, "stage2"))
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "Close stops the server")
	assert.NotContains(t, out, "echo")
	assert.Contains(t, out, "the 1 properties that stage 2 requires pass")

	for _, args := range [][]string{
		{"-stage", "2", "-only", "no such row", "stage2"},
		{"-all", "-only", "echo"},
	} {
		code, out := checkProgram(t, args...)
		assert.Equal(t, 2, code, "%q", args)
		assert.Contains(t, out, `"no data race"`, "%q: the message lists the properties", args)
	}
}

// -repeat checks one row over and over, and says in how many runs it passed; the
// workbook's proof of its classic mistakes reads that line.
func TestRepeat(t *testing.T) {
	t.Parallel()
	code, out := checkProgram(t, "-stage", "2", "-only", "echo", "-repeat", "2", filepath.Join(root, "stage2"))
	require.Equal(t, 0, code, out)
	require.Equal(t, "echo: passed 2 of 2 runs\n", out)
	code, out = checkProgram(t, "-stage", "2", "-only", "echo", "-repeat", "2", filepath.Join(root, "stage0"))
	require.Equal(t, 1, code, out)
	require.True(t, strings.HasPrefix(out, "echo: passed 0 of 2 runs\nthe last failure saw: "), out)

	for _, args := range [][]string{
		{"-stage", "2", "-repeat", "2", "stage2"},
		{"-stage", "2", "-only", "echo", "-repeat", "0", "stage2"},
	} {
		code, out := checkProgram(t, args...)
		assert.Equal(t, 2, code, "%q", args)
		assert.Contains(t, out, "check: -repeat ", "%q", args)
	}
}

// checkProgram runs the checker as a learner would, on a program under testdata.
func checkProgram(t *testing.T, args ...string) (int, string) {
	var out, errs bytes.Buffer
	code := run(context.Background(), args, &out, &errs)
	return code, out.String() + errs.String()
}

// Broken programs get a message that says what is wrong, not a wall of failures.
func TestBrokenPrograms(t *testing.T) {
	t.Parallel()
	cases := []struct {
		dir  string
		want []string
	}{
		{"nobuild", []string{"does not build", "undefined: listen", "fix the first error"}},
		{"quits", []string{"ended before it accepted a client (exit status 3)", "I give up before listening"}},
		{"silent", []string{"nothing accepted a connection on 127.0.0.1 at the port -addr gave within 1s"}},
		{"fixedport", []string{"it does not listen where -addr says (127.0.0.1 and a free port) but on 127.0.0.1:47913",
			"to do: pass the value of the -addr flag to net.Listen"}},
		{"crashes", []string{"the program ended during the check (exit status 2): panic: a client left and nobody expected it",
			"to do: it crashed"}},
	}
	// The five checks run at once, in goroutines rather than parallel subtests:
	// go test runs only as many parallel tests at a time as there are CPUs, and
	// these mostly wait for their programs.
	type run struct {
		code int
		out  string
	}
	runs := make([]run, len(cases))
	var wg sync.WaitGroup
	for i, tc := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i].code, runs[i].out = checkProgram(t, "-startup", "1s", "-stage", "2", filepath.Join("testdata", tc.dir))
		}()
	}
	wg.Wait()
	for i, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			require.Equal(t, 1, runs[i].code, runs[i].out)
			for _, w := range tc.want {
				assert.Contains(t, runs[i].out, w)
			}
		})
	}
}

// A Ctrl+C (the context cancelled) stops the checker at once, and leaves nothing running.
func TestInterruptKillsThePrograms(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newChecker(ctx, t.TempDir(), time.Minute) // "silent" would be waited for a minute
	launched := make(chan *proc, 100)
	c.onLaunch = func(p *proc) { launched <- p }

	done := make(chan int)
	go func() { done <- runOne(c, filepath.Join("testdata", "silent"), 1, io.Discard, io.Discard) }()
	var p *proc
	select {
	case p = <-launched:
	case <-time.After(30 * time.Second):
		t.Fatal("the checker started no program")
	}
	cancel() // as Ctrl+C does
	select {
	case code := <-done:
		assert.Equal(t, 1, code)
	case <-time.After(10 * time.Second):
		t.Fatal("the checker did not stop after it was interrupted")
	}
	select {
	case <-p.exited: // killed and reaped
	default:
		t.Fatal("a program the checker started still runs")
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{},
		{"-stage", "6", "stage5"},
		{"-stage", "1"},
		{"-all", "stage1"},
		{"-write", "-stage", "1", "stage1"},
	} {
		code, out := checkProgram(t, args...)
		assert.Equal(t, 2, code, "%q", args)
		assert.Contains(t, out, "usage:", "%q", args)
	}
	code, out := checkProgram(t, "-stage", "1", "no/such/folder")
	assert.Equal(t, 2, code)
	assert.Contains(t, out, "no/such/folder is not a folder")

	outside := t.TempDir()
	code, out = checkProgram(t, "-stage", "2", outside)
	assert.Equal(t, 2, code)
	assert.Contains(t, out, outside+" is outside the workbook: put your program in a folder inside it, such as ")
	assert.Contains(t, out, filepath.Join("mine", "ex2")+", so that Go finds the workbook's go.mod")
}

// The table's markers are found, and only the text between them is replaced.
func TestWriteBlock(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "README.md")
	require.NoError(t, os.WriteFile(path, []byte("# title\n\n"+beginMark+"old\n"+endMark+"\n\nafter\n"), 0o644))
	require.NoError(t, writeBlock(path, "new table\n"))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "# title\n\n"+beginMark+"new table\n"+endMark+"\n\nafter\n", string(data))
	got, err := readBlock(path)
	require.NoError(t, err)
	require.Equal(t, "new table\n", got)

	require.NoError(t, os.WriteFile(path, []byte("no markers\n"), 0o644))
	require.Error(t, writeBlock(path, "x"))
	_, err = readBlock(path)
	require.ErrorContains(t, err, "has no lines")
	assert.True(t, strings.HasSuffix(beginMark, "\n"))
}
