package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tableLines is the Markdown table a report starts with: its lines up to the
// first empty one, after which come the notes.
func tableLines(report string) []string {
	table, _, _ := strings.Cut(report, "\n\n")
	return strings.Split(strings.TrimSpace(table), "\n")
}

// notesOf is what follows the table: one note a line.
func notesOf(report string) []string {
	_, notes, _ := strings.Cut(report, "\n\n")
	return strings.Split(strings.ReplaceAll(strings.TrimSpace(notes), "\n\n", "\n"), "\n")
}

func TestSpreadFormatting(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0.0"}, {0.42, "0.42"}, {9.2, "9.2"}, {92, "92"}, {950, "950"}, {999.7, "1.0k"},
		{9915, "9.9k"}, {116926, "117k"}, {7333688, "7.3M"}, {12.4e6, "12M"}, {2.5e9, "2.5G"},
	} {
		assert.Equal(t, c.want, compact(c.v), "compact(%g)", c.v)
	}
	for _, c := range []struct {
		v    float64
		n    int
		want string
	}{
		{6.94, 2, "6.9"}, {0.93, 2, "0.93"}, {0.0312, 2, "0.031"}, {61.3, 2, "61"}, {117.2, 2, "117"},
		{0.9999, 2, "1.0"}, {9.96, 2, "10"}, {99.7, 2, "100"}, {1.5749, 3, "1.57"}, {0.5, 2, "0.50"},
	} {
		assert.Equal(t, c.want, significant(c.v, c.n), "significant(%g, %d)", c.v, c.n)
	}
	ms, us := time.Millisecond, time.Microsecond
	for _, c := range []struct {
		lo, hi time.Duration
		want   string
	}{
		{1556 * us, 1868 * us, "1.56–1.87ms"},
		{531 * us, 1320 * us, "531µs–1.32ms"},
		{999_700 * us, 1200 * ms, "1.00–1.20s"},
		{35_400 * ms, 44_600 * ms, "35.4–44.6s"},
		{500, 800, "500–800ns"},
		{3 * ms, 3 * ms, "3.00–3.00ms"},
	} {
		assert.Equal(t, c.want, durationRange(c.lo, c.hi), "%v–%v", c.lo, c.hi)
	}

	// A row's spread, over the runs it is the median of.
	runs := func(f func(*row, float64), values ...float64) row {
		var r row
		for _, v := range values {
			var run row
			f(&run, v)
			r.each = append(r.each, run)
		}
		return r
	}
	perSecond := func(r *row, v float64) { r.perSecond = v }
	ns := func(r *row, v float64) { r.nsPerDelivery = v }
	full := func(v float64) string { return commas(int64(v)) }
	for _, c := range []struct {
		name string
		r    row
		f    func(row) float64
		want string
	}{
		{"one run: nothing", row{perSecond: 5}, func(r row) float64 { return r.perSecond }, ""},
		{"millions", runs(perSecond, 7333688, 5558684, 7745184), func(r row) float64 { return r.perSecond }, " (5.6M–7.7M)"},
		{"alike when brief: in full", runs(perSecond, 9915, 9916, 9915), func(r row) float64 { return r.perSecond }, " (9,915–9,916)"},
		{"all equal", runs(perSecond, 92, 92, 92), func(r row) float64 { return r.perSecond }, " (92–92)"},
		{"known in one run only", runs(ns, -1, 260, -1), func(r row) float64 { return r.nsPerDelivery }, ""},
		{"over the runs that know it", runs(ns, -1, 200, 4596), func(r row) float64 { return r.nsPerDelivery }, " (200–4.6k)"},
	} {
		assert.Equal(t, c.want, c.r.spread(c.f, compact, full), c.name)
	}
	p99 := func(r *row, v float64) { r.p99 = time.Duration(v) }
	r := runs(p99, 1572e3, 1556e3, 1868e3)
	assert.Equal(t, " (1.56–1.87ms)", r.spreadDuration(func(r row) time.Duration { return r.p99 }))
	assert.Empty(t, row{p99: ms}.spreadDuration(func(r row) time.Duration { return r.p99 }))

	for _, c := range []struct {
		q    ratio
		want string
	}{
		{ratio{}, "–"},
		{ratio{noBaseline: true}, "–"},
		{ratio{mid: 1, lo: 1, hi: 1, pairs: 3, self: true}, "1×"},
		{ratio{mid: 61.3, lo: 61.3, hi: 61.3, pairs: 1}, "61×"},
		{ratio{mid: 61.3, lo: 52.1, hi: 66.4, pairs: 3}, "61× (52–66×)"},
		{ratio{mid: 0.5, lo: 0.4, hi: 0.5, pairs: 3}, "0.50× (0.40–0.50×)"},
		{ratio{mid: 1, lo: 0.9999, hi: 1.0001, pairs: 3}, "1.0× (1.0–1.0×)"},
		{ratio{mid: 8.5, lo: 8.46, hi: 8.54, pairs: 3}, "8.5× (8.46–8.54×)"},
	} {
		assert.Equal(t, c.want, c.q.String(), "%+v", c.q)
	}
}

// TestRatioPairing: the i-th run of a row is divided by the i-th run of the
// baseline's row of the same configuration, in the file's order; not the
// medians by each other, nor the runs once sorted.
func TestRatioPairing(t *testing.T) {
	run := func(label string, clients int, perSecond float64) row {
		return row{label: label, mode: "chat", clients: clients, senders: clients, msgs: 100,
			perSecond: perSecond, ok: true, serverCPU: -1, toolCPU: -1, nsPerDelivery: -1, rssPerClient: -1}
	}
	for _, c := range []struct {
		name string
		runs []row  // in the file's order
		want string // the cell of the first row labelled "other"
		why  string // and why it is –
	}{
		{"in the file's order", []row{
			run("base", 100, 100), run("other", 100, 1000),
			run("base", 100, 200), run("other", 100, 3000),
			run("base", 100, 400), run("other", 100, 1200),
		}, "10× (3.0–15×)", ""}, // not 6× (medians), nor 7.5× (6–10×) (sorted)
		{"other rows in between", []row{
			run("base", 100, 100), run("base", 10, 1), run("other", 100, 1000), run("other", 10, 5),
			run("base", 100, 200), run("base", 10, 2), run("other", 100, 3000), run("other", 10, 5),
		}, "12× (10–15×)", ""},
		{"one run each", []row{run("base", 100, 100), run("other", 100, 6130)}, "61×", ""},
		{"no baseline row", []row{run("base", 10, 100), run("other", 100, 6130)}, "–", ""},
		{"counts differ", []row{
			run("base", 100, 100), run("other", 100, 1000), run("base", 100, 200), run("base", 100, 300),
		}, "–", "1 run, and base 3 runs: runs are paired in order, so their counts must match"},
		{"the baseline delivered nothing", []row{
			run("base", 100, 100), run("other", 100, 1000), run("base", 100, 0), run("other", 100, 1000),
		}, "–", "base delivered nothing in its run 2"},
	} {
		rows := medians(c.runs)
		q := ratios(rows, "base")
		require.Len(t, q, len(rows), c.name)
		for i, r := range rows {
			if r.label == "base" {
				assert.Equal(t, "1×", q[i].String(), "%s: the baseline's own row", c.name)
			}
		}
		i := 0
		for rows[i].label != "other" {
			i++
		}
		assert.Equal(t, c.want, q[i].String(), c.name)
		assert.Equal(t, c.why, q[i].why, c.name)
		assert.Equal(t, c.name == "no baseline row", q[i].noBaseline, c.name)
	}
}

// tsvLine is a line of a results file from before the CPU columns.
func tsvLine(label, mode string, clients, msgs int, rate float64, perSecond int, p99 time.Duration) string {
	return fmt.Sprintf("%s\t%s\t%d\t%d\t%d\t%g\t100\t100\t1.0\t%d\t1000\t%d\t%d\ttrue\n",
		label, mode, clients, clients, msgs, rate, perSecond, p99, p99)
}

// report runs load -report on a results file made of lines, with more flags.
func report(t *testing.T, lines string, flags ...string) (code int, stdout, stderr string) {
	path := filepath.Join(t.TempDir(), "results.tsv")
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(resultsHeader[:oldFields], "\t")+"\n"+lines), 0o644))
	var out, errs bytes.Buffer
	code = cli(append([]string{"-report", path}, flags...), &out, &errs)
	return code, out.String(), errs.String()
}

// TestReportRatiosCountsDiffer: a file where slow has fewer runs than the
// baseline in one row, and no row of the baseline's in another; a file from
// before the CPU and memory columns.
func TestReportRatiosCountsDiffer(t *testing.T) {
	ms := time.Millisecond
	var lines string
	for i, round := range []struct{ stage5, slow100, slow10 int }{{120_000, 7_200_000, 4_900_000}, {110_000, 7_700_000, 0}, {130_000, 5_500_000, 0}} {
		lines += tsvLine("stage5", "chat", 100, 100, 0, round.stage5, 8000*ms)
		lines += tsvLine("slow", "chat", 100, 100, 0, round.slow100, time.Duration(130+i)*ms)
		if round.slow10 > 0 {
			lines += tsvLine("slow", "chat", 10, 1000, 0, round.slow10, 18*ms)
		}
	}
	lines += tsvLine("stage3", "echo", 100, 1000, 0, 865_000, 110*ms)
	lines += tsvLine("stage3", "echo", 100, 1000, 0, 798_000, 101*ms)
	code, stdout, stderr := report(t, lines, "-baseline", "stage5")
	require.Equal(t, 0, code, stderr)
	table := tableLines(stdout)
	require.Len(t, table, 2+4, stdout)
	assert.Equal(t, "| server | kind | clients | lines each | rate per client | runs | deliveries/s | × stage5 | p50 | p99 | max | every line delivered |", table[0])
	assert.Equal(t, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|", table[1])
	assert.Equal(t, "| stage5 | chat | 100 | 100 | unpaced | 3 | 120,000 (110k–130k) | 1× | 1.00µs | 8.00s (8.00–8.00s) | 8.00s | yes |", table[2])
	// 60×, 70×, 42.3×: not 7.2M / 120k = 60× of the medians.
	assert.Equal(t, "| slow | chat | 100 | 100 | unpaced | 3 | 7,200,000 (5.5M–7.7M) | 60× (42–70×) | 1.00µs | 131ms (130–132ms) | 131ms | yes |", table[3])
	assert.Equal(t, "| slow | chat | 10 | 1,000 | unpaced | 1 | 4,900,000 | – | 1.00µs | 18.0ms | 18.0ms | yes |", table[4])
	assert.Equal(t, "| stage3 | echo | 100 | 1,000 | unpaced | 2 | 831,500 (798k–865k) | – | 1.00µs | 106ms (101–110ms) | 106ms | yes |", table[5])
	assert.Equal(t, []string{
		"Each figure is the median of the row's runs (see runs), with the lowest–highest in brackets; a row of one run shows its figures alone.",
		"× stage5: deliveries/s divided by stage5's in the row of the same kind, clients, lines each and rate, run by run " +
			"(the row's first run by stage5's first, its second by the second...): the median of those ratios, with the lowest–highest in brackets.",
		"– in 2 rows, of slow and stage3: stage5 has no row of the same kind, clients, senders, lines each and rate.",
	}, notesOf(stdout))

	// One run fewer of slow with 100 clients: it cannot be paired.
	lines = strings.Replace(lines, tsvLine("slow", "chat", 100, 100, 0, 5_500_000, 132*ms), "", 1)
	code, stdout, stderr = report(t, lines, "-baseline", "stage5")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "| slow | chat | 100 | 100 | unpaced | 2 | 7,450,000 (7.2M–7.7M) | – |")
	assert.Contains(t, stdout, "\n\n– for slow, chat, 100 clients, 100 lines each, unpaced: 2 runs, and stage5 3 runs: "+
		"runs are paired in order, so their counts must match.\n")

	// Without -baseline, no such column, nor notes on it.
	code, stdout, _ = report(t, lines)
	require.Equal(t, 0, code)
	assert.NotContains(t, stdout, "×")
	assert.Len(t, notesOf(stdout), 1)

	// A baseline that is not in the file is a mistake, which names those that are.
	code, _, stderr = report(t, lines, "-baseline", "stage4")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `-baseline "stage4": no run of that server in `)
	assert.Contains(t, stderr, "(it has stage5, slow, stage3)")
}

// TestReportSpreadOldAndNewFiles: lines from before the CPU columns, from
// before the memory column, and new ones, in one file: the spread of server
// ns/delivery and KiB/client is over the runs that measured them, and the
// note says so. -svg still draws the medians.
func TestReportSpreadOldAndNewFiles(t *testing.T) {
	old := tsvLine("slow", "chat", 100, 100, 0, 7_000_000, 130*time.Millisecond)
	withCPU := strings.TrimSuffix(tsvLine("slow", "chat", 100, 100, 0, 6_000_000, 120*time.Millisecond), "\n") + "\t0.5\t0.4\t25.0\n"
	withMem := strings.TrimSuffix(tsvLine("slow", "chat", 100, 100, 0, 8_000_000, 140*time.Millisecond), "\n") + "\t0.6\t0.4\t35.0\t8.94\n"
	withMem2 := strings.Replace(withMem, "\t8.94\n", "\t12.6\n", 1)
	dir := t.TempDir()
	svg := filepath.Join(dir, "chart.svg")
	code, stdout, stderr := report(t, old+withCPU+withMem+withMem2, "-svg", svg)
	require.Equal(t, 0, code, stderr)
	table := tableLines(stdout)
	require.Len(t, table, 3, stdout)
	assert.Contains(t, table[0], "| max | server ns/delivery | server KiB/client | every line delivered |")
	assert.Equal(t, "| slow | chat | 100 | 100 | unpaced | 4 | 7,500,000 (6.0M–8.0M) | 1.00µs | 135ms (120–140ms) | 135ms | 35 (25–35) | 10.8 (8.9–13) | yes |", table[2])
	assert.Equal(t, []string{"Each figure is the median of 4 runs, with the lowest–highest in brackets " +
		"(for server ns/delivery and KiB/client, of the runs that measured them)."}, notesOf(stdout))
	b, err := os.ReadFile(svg)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(b), "<circle"), "one point in each chart: the median")

	// Only old lines, run once each: the table of old, without notes.
	code, stdout, _ = report(t, old+strings.Replace(old, "slow\tchat\t100\t100\t", "slow\tchat\t10\t10\t", 1))
	require.Equal(t, 0, code)
	assert.NotContains(t, stdout, "ns/delivery")
	assert.NotContains(t, stdout, "(")
	assert.Equal(t, "| slow | chat | 100 | 100 | unpaced | 1 | 7,000,000 | 1.00µs | 130ms | 130ms | yes |", tableLines(stdout)[2])
	assert.NotContains(t, strings.TrimSpace(stdout), "\n\n", "no notes")
}
