package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// report prints the table of one program's check and returns the exit status:
// 0 when every property that the stage requires passes, 1 when one fails, and 3
// when none fails but one could not be checked on this machine (the race row,
// when this Go cannot build with -race).
func report(w io.Writer, dir string, stage int, results []result) int {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintf(tw, "property\tstage %d\tresult\n", stage)
	for i, p := range properties {
		if results[i].skipped {
			continue // -only named another property
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.name, p.requires(stage), verdict(p, stage, results[i]))
	}
	tw.Flush()

	// Then what went wrong. Rows that failed in the same way are told once. For a
	// property the stage does not require yet, only what was seen: what to do about
	// it is the lesson of a later exercise. A property the stage no longer requires
	// is nobody's concern. What could not be checked comes with what to install.
	required, failed, unchecked := 0, 0, 0
	var order []string
	var race *failure
	rows := map[string][]string{}
	fixes := map[string]string{}
	for i, p := range properties {
		r := results[i]
		if r.skipped {
			continue
		}
		need := p.requires(stage) == "required"
		if need {
			required++
		}
		if r.pass || p.requires(stage) == "no longer" {
			continue
		}
		switch {
		case r.notChecked:
			race = r.failure
			fixes[r.saw] = r.fix
			if need {
				unchecked++
			}
		case need:
			failed++
			if r.fix != "" {
				fixes[r.saw] = r.fix
			}
		}
		if rows[r.saw] == nil {
			order = append(order, r.saw)
		}
		rows[r.saw] = append(rows[r.saw], fmt.Sprintf("%s (%s)", p.name, p.requires(stage)))
	}
	for _, saw := range order {
		which := strings.Join(rows[saw], ", ")
		if len(rows[saw]) == len(properties) {
			which = "every property"
		}
		if race != nil && saw == race.saw {
			fmt.Fprintf(w, "\n%s:\n    %s\n", which, saw) // it says "not checked: ..."
		} else {
			fmt.Fprintf(w, "\n%s:\n    saw: %s\n", which, saw)
		}
		if fix := fixes[saw]; fix != "" {
			fmt.Fprintf(w, "    to do: %s\n", fix)
		}
	}
	if race != nil && stage >= 4 {
		fmt.Fprintf(w, "\n%s\n", withoutRace(dir))
	}

	fmt.Fprintln(w)
	switch {
	case failed > 0:
		fmt.Fprintf(w, "%s: %d of the %d properties that stage %d requires fail.\n", dir, failed, required, stage)
		return 1
	case unchecked > 0:
		fmt.Fprintf(w, "%s: the %d properties that stage %d requires and this machine can check pass; "+
			"%d was not checked: %s.\n", dir, required-unchecked, stage, unchecked, strings.TrimPrefix(race.saw, "not checked: "))
		return 3
	}
	fmt.Fprintf(w, "%s: the %d properties that stage %d requires pass.\n", dir, required, stage)
	return 0
}

// withoutRace is what a learner without -race can still see of stage4's race. The
// runtime notices some concurrent writes to a map by itself, and crashes; measured
// on stage4 with the load tool (-clients 1000 -msgs 1) on a shared 2-core machine,
// 9 runs of 20 crashed, and 4 of 6 in an earlier series.
func withoutRace(dir string) string {
	run := filepath.ToSlash(filepath.Clean(dir))
	if !filepath.IsAbs(dir) {
		run = "./" + run
	}
	return "Without -race you can still see a race on a map, though not every time: run the server " +
		"(`go run " + run + "`) and, in another terminal, let a thousand clients join at once " +
		"(`go run ./exercises/tools/load -clients 1000 -msgs 1`). A map that goroutines write without a lock " +
		"may crash it with `fatal error: concurrent map writes`; run it a few times. " +
		"A run that does not crash proves nothing: only the race detector tells."
}

// verdict is a row's result for a stage: pass or fail, "not checked" when this
// machine could not check it, and "not required" when the stage has moved past it
// (stage4 no longer echoes: it passes lines on).
func verdict(p property, stage int, r result) string {
	switch {
	case p.requires(stage) == "no longer":
		return "not required"
	case r.pass:
		return "pass"
	case r.notChecked:
		return "not checked"
	default:
		return "fail"
	}
}

// The README's progression table sits between these two lines.
const (
	beginMark = "<!-- BEGIN progression -->\n"
	endMark   = "<!-- END progression -->"
)

// markdown renders the progression: rows are properties, columns are stages.
func markdown(prog [][]result) string {
	var b strings.Builder
	b.WriteString("| property | required in stages |")
	for stage := range prog {
		fmt.Fprintf(&b, " stage%d |", stage)
	}
	b.WriteString("\n|---|---|")
	for range prog {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for i, p := range properties {
		fmt.Fprintf(&b, "| %s | %s |", p.name, p.span())
		for stage := range prog {
			fmt.Fprintf(&b, " %s |", verdict(p, stage, prog[stage][i]))
		}
		b.WriteString("\n")
	}
	b.WriteString("\nEach stage passes what it requires and fails what the next stage adds. " +
		"The checker measures this table from the outside, as clients would (`go run ./exercises/tools/check -all`; " +
		"`go run ./exercises/tools/check -all -write` rewrites it here, and its test fails when it is out of date). " +
		"How each property is checked:\n\n")
	for _, p := range properties {
		fmt.Fprintf(&b, "- **%s**: %s\n", p.name, p.about)
	}
	return b.String()
}

// readBlock returns what stands between the markers in the file.
func readBlock(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := string(data)
	i, j := strings.Index(s, beginMark), strings.Index(s, endMark)
	if i < 0 || j < i {
		return "", fmt.Errorf("%s has no lines %q and %q", path, strings.TrimSpace(beginMark), endMark)
	}
	return s[i+len(beginMark) : j], nil
}

// writeBlock replaces what stands between the markers in the file with block.
func writeBlock(path, block string) error {
	if _, err := readBlock(path); err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(data)
	i, j := strings.Index(s, beginMark), strings.Index(s, endMark)
	return os.WriteFile(path, []byte(s[:i+len(beginMark)]+block+s[j:]), 0o644)
}
