package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// root is the workbook's top folder, seen from this package's folder.
const root = "../../.."

// Every stageN/CHANGES.diff must be exactly what compare writes today, or a learner
// would read a lesson that the code no longer teaches.
func TestChangesDiffIsCurrent(t *testing.T) {
	for n := 1; n <= 5; n++ {
		old, cur := filepath.Join(root, stage(n-1)), filepath.Join(root, stage(n))
		want, err := stageChanges(old, cur)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(cur, "CHANGES.diff"))
		require.NoError(t, err)
		require.Equal(t, want, string(got),
			"%s/CHANGES.diff is stale: run `go run ./exercises/tools/compare -write` and read the diff", stage(n))
	}
}

// main.go is the same from stage1 to stage5 but its first line, the one that says
// what the stage is: so each CHANGES.diff shows the lesson, in server.go, alone.
func TestMainIsTheSameFromStage1On(t *testing.T) {
	body := func(n int) string {
		b, err := os.ReadFile(filepath.Join(root, stage(n), "main.go"))
		require.NoError(t, err)
		first, rest, _ := strings.Cut(string(b), "\n")
		require.True(t, strings.HasPrefix(first, "// "+strings.ToUpper(stage(n)[:1])+stage(n)[1:]+" is "),
			"%s/main.go's first line names the stage: %q", stage(n), first)
		return rest
	}
	for n := 2; n <= 5; n++ {
		require.Equal(t, body(1), body(n), "%s/main.go differs from stage1's below its first line", stage(n))
	}
}

// From stage2 on, each lesson is a few dozen changed lines. A bigger diff usually means
// code moved or was renamed without a reason in the lesson.
func TestLessonsStaySmall(t *testing.T) {
	for n := 2; n <= 5; n++ {
		d, err := stageChanges(filepath.Join(root, stage(n-1)), filepath.Join(root, stage(n)))
		require.NoError(t, err)
		require.LessOrEqual(t, changedLines(d), 60, "the lesson of %s changes too many lines:\n%s", stage(n), d)
	}
}

// The diff must say exactly how to get from one stage to the next: applying it to the
// old files gives the new ones, for every pair of stages and for the edge cases.
func TestDiffAppliesBack(t *testing.T) {
	cases := map[string][2]string{
		"empty to text":     {"", "a\nb\n"},
		"text to empty":     {"a\nb\n", ""},
		"change at start":   {"a\nb\nc\nd\ne\nf\ng\nh\n", "A\nb\nc\nd\ne\nf\ng\nh\n"},
		"change at end":     {"a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nd\ne\nf\ng\nH\n"},
		"two far changes":   {"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "x\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ny\n"},
		"two close changes": {"1\n2\n3\n4\n5\n6\n", "x\n2\n3\n4\n5\ny\n"},
		"insert only":       {"a\nc\n", "a\nb\nc\n"},
	}
	for n := 1; n <= 5; n++ {
		for _, f := range []string{"main.go", "server.go"} {
			a, err := os.ReadFile(filepath.Join(root, stage(n-1), f))
			require.NoError(t, err)
			b, err := os.ReadFile(filepath.Join(root, stage(n), f))
			require.NoError(t, err)
			cases[stage(n)+"/"+f] = [2]string{string(a), string(b)}
		}
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			d := unified("a", "b", c[0], c[1])
			if c[0] == c[1] {
				require.Empty(t, d)
				return
			}
			require.Equal(t, c[1], apply(t, c[0], d), "diff:\n%s", d)
		})
	}
}

// The format is diff -u's, so a learner can read it and patch can apply it.
func TestUnifiedFormat(t *testing.T) {
	got := unified("old/f.go", "new/f.go", "a\nb\nc\nd\ne\n", "a\nb\nC\nd\ne\nf\n")
	want := "--- old/f.go\n+++ new/f.go\n@@ -1,5 +1,6 @@\n a\n b\n-c\n+C\n d\n e\n+f\n"
	require.Equal(t, want, got)
	require.Empty(t, unified("x", "y", "same\n", "same\n"))
}

// A folder the learner made (with an extra file) compares cleanly against a stage.
func TestCompareDirs(t *testing.T) {
	mine := t.TempDir()
	for _, f := range []string{"main.go", "server.go"} {
		b, err := os.ReadFile(filepath.Join(root, "stage3", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(mine, f), b, 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(mine, "extra.go"), []byte("package main\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(mine, "extra_test.go"), []byte("package main\n"), 0o644))

	d, err := compareDirs(filepath.Join(root, "stage3"), mine, isProgram)
	require.NoError(t, err)
	require.Equal(t, "--- /dev/null\n+++ "+filepath.Base(mine)+"/extra.go\n@@ -0,0 +1 @@\n+package main\n", d)
}

// The headers name each side by its folder, as typed: two answer/ folders stay apart.
func TestLabelsNameBothFolders(t *testing.T) {
	for _, c := range []struct{ old, new, wantOld, wantNew string }{
		{"exercises/slow/answer", "exercises/hub/answer", "exercises/slow/answer", "exercises/hub/answer"},
		{"stage2", "mine/ex2", "stage2", "mine/ex2"},
		{"./stage2/", "mine/ex2", "stage2", "mine/ex2"},
		{"../../../stage2", "../../../stage3", "stage2", "stage3"},
	} {
		o, n := labels(filepath.FromSlash(c.old), filepath.FromSlash(c.new))
		require.Equal(t, c.wantOld, o, c.old)
		require.Equal(t, c.wantNew, n, c.new)
	}
	tmp := t.TempDir() // absolute, on every system
	o, n := labels(filepath.Join(tmp, "a", "slow", "answer"), filepath.Join(tmp, "b", "hub", "answer"))
	require.Equal(t, "slow/answer", o)
	require.Equal(t, "hub/answer", n)
}

// apply applies unified diff d to text, checking every context and removed line.
func apply(t *testing.T, text, d string) string {
	t.Helper()
	old := splitLines(text)
	var out []string
	next := 0 // index in old of the first line not yet copied
	lines := strings.Split(strings.TrimSuffix(d, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "+++ ") {
			continue
		}
		require.True(t, strings.HasPrefix(line, "@@ -"), "expected a hunk header, got %q", line)
		start := hunkStart(t, line)
		out = append(out, old[next:start]...)
		next = start
		for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "@@") {
			i++
			l := lines[i]
			switch l[0] {
			case ' ', '-':
				require.Less(t, next, len(old), "hunk runs past the end")
				require.Equal(t, old[next], l[1:], "context or removed line does not match")
				if l[0] == ' ' {
					out = append(out, old[next])
				}
				next++
			case '+':
				out = append(out, l[1:])
			default:
				t.Fatalf("bad diff line %q", l)
			}
		}
	}
	out = append(out, old[next:]...)
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

// hunkStart returns the 0-based index in the old text where a hunk "@@ -L,N +..." starts.
func hunkStart(t *testing.T, header string) int {
	field := strings.Fields(header)[1][1:] // "L,N" or "L"
	l, n, found := strings.Cut(field, ",")
	start, err := strconv.Atoi(l)
	require.NoError(t, err)
	if found && n == "0" {
		return start // an empty range names the line before it
	}
	return start - 1
}

func Example_unified() {
	fmt.Print(unified("stage3/x.go", "stage4/x.go", "echo(line)\n", "broadcast(line)\n"))
	// Output:
	// --- stage3/x.go
	// +++ stage4/x.go
	// @@ -1 +1 @@
	// -echo(line)
	// +broadcast(line)
}
