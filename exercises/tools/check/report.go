package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// report prints the table of one program's check and returns the exit status:
// 0 when every property that the stage requires passes.
func report(w io.Writer, dir string, stage int, results []result) int {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintf(tw, "property\tstage %d\tresult\n", stage)
	for i, p := range properties {
		if results[i].skipped {
			continue // -only named another property
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.name, p.requires(stage), verdict(results[i]))
	}
	tw.Flush()

	// Then what went wrong. Rows that failed in the same way are told once. For a
	// property the stage does not require yet, only what was seen: what to do about
	// it is the lesson of a later exercise.
	required, failed := 0, 0
	var order []string
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
		if r.pass {
			continue
		}
		if need {
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
		fmt.Fprintf(w, "\n%s:\n    saw: %s\n", which, saw)
		if fix := fixes[saw]; fix != "" {
			fmt.Fprintf(w, "    to do: %s\n", fix)
		}
	}

	fmt.Fprintln(w)
	if failed > 0 {
		fmt.Fprintf(w, "%s: %d of the %d properties that stage %d requires fail.\n", dir, failed, required, stage)
		return 1
	}
	fmt.Fprintf(w, "%s: the %d properties that stage %d requires pass.\n", dir, required, stage)
	return 0
}

func verdict(r result) string {
	if r.pass {
		return "pass"
	}
	return "fail"
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
			fmt.Fprintf(&b, " %s |", verdict(prog[stage][i]))
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
