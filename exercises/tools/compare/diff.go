package main

import (
	"fmt"
	"sort"
	"strings"
)

// context is how many unchanged lines a hunk shows around each change, as diff -u does.
const context = 3

// op is one line of an edit script: ' ' kept, '-' removed, '+' added.
type op struct {
	kind byte
	text string
}

// unified returns the unified diff of a and b ("" when they are equal). It finds a
// longest common subsequence of lines; stage files are short, so the simple
// quadratic table is fast enough and easy to check.
func unified(nameA, nameB, a, b string) string {
	x, y := splitLines(a), splitLines(b)
	ops := editScript(x, y)
	var out strings.Builder
	for start := 0; start < len(ops); {
		// Find the next change; a hunk begins context lines before it.
		first := start
		for first < len(ops) && ops[first].kind == ' ' {
			first++
		}
		if first == len(ops) {
			break
		}
		lo := max(first-context, start)
		// Extend the hunk while the next change is close enough to share context.
		hi, gap := first, 0
		for i := first; i < len(ops); i++ {
			if ops[i].kind == ' ' {
				gap++
				if gap > 2*context {
					break
				}
			} else {
				gap, hi = 0, i
			}
		}
		hi = min(hi+context+1, len(ops))
		if out.Len() == 0 {
			fmt.Fprintf(&out, "--- %s\n+++ %s\n", nameA, nameB)
		}
		writeHunk(&out, ops, lo, hi)
		start = hi
	}
	return out.String()
}

// writeHunk writes ops[lo:hi] with its @@ header.
func writeHunk(out *strings.Builder, ops []op, lo, hi int) {
	// Line numbers (1-based) of the hunk's first line on each side.
	lineA, lineB := 1, 1
	for _, o := range ops[:lo] {
		if o.kind != '+' {
			lineA++
		}
		if o.kind != '-' {
			lineB++
		}
	}
	countA, countB := 0, 0
	for _, o := range ops[lo:hi] {
		if o.kind != '+' {
			countA++
		}
		if o.kind != '-' {
			countB++
		}
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", span(lineA, countA), span(lineB, countB))
	for _, o := range ops[lo:hi] {
		out.WriteByte(o.kind)
		out.WriteString(o.text)
		out.WriteByte('\n')
	}
}

// span formats a hunk range as diff -u does: "3" for one line, "3,4" for more, and
// for none the line before, "2,0".
func span(line, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", line-1)
	case 1:
		return fmt.Sprint(line)
	}
	return fmt.Sprintf("%d,%d", line, count)
}

// editScript turns x into y with as few removals and additions as it can.
func editScript(x, y []string) []op {
	// lcs[i][j] is the length of a longest common subsequence of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []op
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			ops = append(ops, op{' ', x[i]})
			i, j = i+1, j+1
		case j < len(y) && (i == len(x) || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, op{'+', y[j]})
			j++
		default:
			ops = append(ops, op{'-', x[i]})
			i++
		}
	}
	// Show removals before additions within each run of changes, as diff -u does.
	for s := 0; s < len(ops); {
		if ops[s].kind == ' ' {
			s++
			continue
		}
		e := s
		for e < len(ops) && ops[e].kind != ' ' {
			e++
		}
		sort.SliceStable(ops[s:e], func(a, b int) bool { return ops[s+a].kind == '-' && ops[s+b].kind == '+' })
		s = e
	}
	return ops
}

// splitLines splits text into lines without their newlines.
func splitLines(text string) []string {
	if text == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
}

// changedLines counts the removed and added lines of a unified diff.
func changedLines(d string) int {
	n := 0
	for _, line := range strings.Split(d, "\n") {
		if (strings.HasPrefix(line, "-") && !strings.HasPrefix(line, "--- ")) ||
			(strings.HasPrefix(line, "+") && !strings.HasPrefix(line, "+++ ")) {
			n++
		}
	}
	return n
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
