package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The spread of repeated runs, and ratios against a baseline server measured
// in the same rounds: what -report shows besides the medians.

// spread writes the lowest and highest of f over the runs of r where it is
// known (not negative), in brackets and with a space before: " (6.9M–7.6M)";
// or "" if fewer than two runs know it. Both are written with brief (k and M,
// two digits), or with full if brief writes them alike: 9,915–9,916, 92–92.
func (r row) spread(f func(row) float64, brief, full func(float64) string) string {
	lo, hi, n := math.Inf(1), math.Inf(-1), 0
	for _, run := range r.each {
		if v := f(run); v >= 0 {
			lo, hi, n = math.Min(lo, v), math.Max(hi, v), n+1
		}
	}
	if n < 2 {
		return ""
	}
	l, h := brief(lo), brief(hi)
	if l == h {
		l, h = full(lo), full(hi)
	}
	return " (" + l + "–" + h + ")"
}

// spreadDuration is spread for a duration: " (1.56–1.87ms)", " (531µs–1.32ms)".
func (r row) spreadDuration(f func(row) time.Duration) string {
	if len(r.each) < 2 {
		return ""
	}
	lo, hi := f(r.each[0]), f(r.each[0])
	for _, run := range r.each[1:] {
		lo, hi = min(lo, f(run)), max(hi, f(run))
	}
	return " (" + durationRange(lo, hi) + ")"
}

// durationRange writes lo–hi with three significant digits, as short does,
// the unit once if they share it: 1.56–1.87ms, 531µs–1.32ms.
func durationRange(lo, hi time.Duration) string {
	lu, ln := durationUnit(lo)
	hu, hn := durationUnit(hi)
	l, h := significant(float64(lo)/float64(lu), 3), significant(float64(hi)/float64(hu), 3)
	if ln != hn {
		return l + ln + "–" + h + hn
	}
	return l + "–" + h + hn
}

// durationUnit is the unit to write d in: the largest of s, ms, µs and ns
// that d is at least one of (999.7ms is 1.0s, not 1000ms).
func durationUnit(d time.Duration) (time.Duration, string) {
	for _, u := range []struct {
		size time.Duration
		name string
	}{{time.Second, "s"}, {time.Millisecond, "ms"}, {time.Microsecond, "µs"}} {
		if float64(d) >= 0.9995*float64(u.size) {
			return u.size, u.name
		}
	}
	return 1, "ns"
}

// compact writes v with two significant digits, in thousands (k), millions (M)
// or billions (G) from a thousand on: 0.42, 92, 950, 9.9k, 117k, 6.9M, 12M.
func compact(v float64) string {
	for _, u := range []struct {
		size float64
		name string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if v >= 0.9995*u.size {
			return significant(v/u.size, 2) + u.name
		}
	}
	return significant(v, 2)
}

// significant writes v with at least n significant digits, and no decimals
// beyond them: for 2, 6.9, 0.93, 0.031, 61 and 117; 0.9999 is 1.0.
func significant(v float64, n int) string {
	if v <= 0 {
		return strconv.FormatFloat(v, 'f', n-1, 64)
	}
	e := int(math.Floor(math.Log10(v)))
	if p := math.Pow(10, float64(n-1-e)); math.Round(v*p)/p >= math.Pow(10, float64(e+1)) {
		e++ // it rounds up to the next power of ten: 9.96 is 10, not 10.0
	}
	return strconv.FormatFloat(v, 'f', max(n-1-e, 0), 64)
}

// ratio is a row's deliveries/s as a multiple of the baseline server's in the
// same row: one ratio for each pair of runs, and their median and spread.
type ratio struct {
	mid, lo, hi float64
	pairs       int    // how many: 0 if there is no ratio
	self        bool   // a row of the baseline itself: 1×
	noBaseline  bool   // no ratio, because the baseline has no such row
	why         string // no ratio, for another reason
}

// String writes the ratio as its cell: 61× (52–66×), 1× for the baseline
// itself, – if there is none.
func (q ratio) String() string {
	switch {
	case q.pairs == 0:
		return "–"
	case q.self:
		return "1×"
	case q.pairs == 1:
		return significant(q.mid, 2) + "×"
	}
	l, h := significant(q.lo, 2), significant(q.hi, 2)
	if l3, h3 := significant(q.lo, 3), significant(q.hi, 3); l == h && l3 != h3 {
		l, h = l3, h3
	}
	return fmt.Sprintf("%s× (%s–%s×)", significant(q.mid, 2), l, h)
}

// ratios gives, for each of rows (of medians), its deliveries/s as a multiple
// of the baseline server's in its row of the same kind, clients, senders,
// lines each and rate. The runs are paired by their order in the file: the
// i-th run of a row with the i-th of the baseline's, as a script that measures
// the servers in alternating rounds takes them side by side; a ratio for each
// pair, then their median. Paired so, a slow moment of the machine slows both
// sides of a ratio rather than one. The baseline's own rows are 1×.
func ratios(rows []row, baseline string) []ratio {
	type key struct {
		mode                   string
		clients, senders, msgs int
		rate                   float64
	}
	keyOf := func(r row) key { return key{r.mode, r.clients, r.senders, r.msgs, r.rate} }
	base := map[key]row{}
	for _, r := range rows {
		if r.label == baseline {
			base[keyOf(r)] = r
		}
	}
	out := make([]ratio, len(rows))
	for i, r := range rows {
		b, found := base[keyOf(r)]
		switch {
		case r.label == baseline:
			out[i] = ratio{mid: 1, lo: 1, hi: 1, pairs: max(r.runs, 1), self: true}
			continue
		case !found:
			out[i].noBaseline = true
			continue
		}
		runs, baseRuns := r.each, b.each
		if runs == nil { // a row that is not a median: one run
			runs = []row{r}
		}
		if baseRuns == nil {
			baseRuns = []row{b}
		}
		if len(runs) != len(baseRuns) {
			out[i].why = fmt.Sprintf("%s, and %s %s: runs are paired in order, so their counts must match",
				plural(len(runs), "run"), baseline, plural(len(baseRuns), "run"))
			continue
		}
		v := make([]float64, len(runs))
		for j := range runs {
			if baseRuns[j].perSecond <= 0 {
				out[i].why = fmt.Sprintf("%s delivered nothing in its run %d", baseline, j+1)
				break
			}
			v[j] = runs[j].perSecond / baseRuns[j].perSecond
		}
		if out[i].why != "" {
			continue
		}
		out[i] = ratio{mid: medianOf(v), lo: slices.Min(v), hi: slices.Max(v), pairs: len(v)}
	}
	return out
}

// notes are what the table needs said under it: what its brackets are, what
// the baseline's column is, and why a row has no ratio. One line each.
func notes(rows []row, baseline string, against []ratio, withCPU, withMem bool) []string {
	var out []string
	var counts []int // how many runs the rows of several have
	single, partial := false, false
	for _, r := range rows {
		switch {
		case r.runs <= 1:
			single = true
			continue
		case !slices.Contains(counts, r.runs):
			counts = append(counts, r.runs)
		}
		known := func(f func(row) float64) bool {
			return !slices.ContainsFunc(r.each, func(run row) bool { return f(run) < 0 })
		}
		if withCPU && r.nsPerDelivery >= 0 && !known(func(r row) float64 { return r.nsPerDelivery }) ||
			withMem && r.rssPerClient >= 0 && !known(func(r row) float64 { return r.rssPerClient }) {
			partial = true
		}
	}
	if len(counts) > 0 {
		s := fmt.Sprintf("Each figure is the median of %d runs, with the lowest–highest in brackets", counts[0])
		if len(counts) > 1 {
			s = "Each figure is the median of the row's runs (see runs), with the lowest–highest in brackets"
		}
		if partial {
			s += " (for server ns/delivery and KiB/client, of the runs that measured them)"
		}
		if single {
			s += "; a row of one run shows its figures alone"
		}
		out = append(out, s+".")
	}
	if baseline == "" {
		return out
	}
	out = append(out, fmt.Sprintf("× %s: deliveries/s divided by %s's in the row of the same kind, clients, "+
		"lines each and rate, run by run (the row's first run by %s's first, its second by the second...): "+
		"the median of those ratios, with the lowest–highest in brackets.", baseline, baseline, baseline))
	var missing []string // the labels of the rows with no baseline row
	n := 0
	for i, q := range against {
		r := rows[i]
		switch {
		case q.noBaseline:
			n++
			if !slices.Contains(missing, r.label) {
				missing = append(missing, r.label)
			}
		case q.why != "":
			out = append(out, fmt.Sprintf("– for %s: %s.", describe(r), q.why))
		}
	}
	if n > 0 {
		which := fmt.Sprintf("in %s rows, of %s", commas(int64(n)), and(missing))
		if n == 1 {
			which = "for " + describe(rows[slices.IndexFunc(against, func(q ratio) bool { return q.noBaseline })])
		}
		out = append(out, fmt.Sprintf("– %s: %s has no row of the same kind, clients, senders, lines each and rate.",
			which, baseline))
	}
	return out
}

// describe names a row of the table in words: slow, 100 clients, 100 lines each, unpaced.
func describe(r row) string {
	rate := "unpaced"
	if r.rate > 0 {
		rate = fmt.Sprintf("%g/s", r.rate)
	}
	return fmt.Sprintf("%s, %s, %s, %s each, %s", r.label, r.mode, plural(r.clients, "client"), plural(r.msgs, "line"), rate)
}

// and joins words into a list: a; a and b; a, b and c.
func and(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
