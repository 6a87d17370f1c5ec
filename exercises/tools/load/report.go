package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A results file keeps one line per run, its fields separated by tabs, so that
// runs against different servers, one after the other, end up in one table.
// The last four came later: first the three CPU times, then the server's
// memory per client. A file may have lines without them (older versions of the
// tool wrote 14 fields, then 17), and they are empty when not measured.
var resultsHeader = []string{"label", "mode", "clients", "senders", "msgs", "rate",
	"expected", "delivered", "seconds", "per_second", "p50_ns", "p99_ns", "max_ns", "ok",
	"server_cpu_s", "tool_cpu_s", "server_ns_per_delivery", "server_rss_per_client_kib"}

// How many fields a line had before the CPU times, and before the memory.
const (
	oldFields = 14
	cpuFields = 17
)

// row is one line of a results file.
type row struct {
	label, mode            string
	clients, senders, msgs int
	rate                   float64
	expected, delivered    int64
	seconds, perSecond     float64
	p50, p99, max          time.Duration
	ok                     bool
	// CPU seconds of the server and of the tool during the run, and the
	// server's nanoseconds per delivery; negative: not measured.
	serverCPU, toolCPU, nsPerDelivery float64
	// How much the server's memory (RSS) grew per connected client, in KiB;
	// negative: not measured.
	rssPerClient float64
	runs         int   // with medians: how many runs this row sums up
	each         []row // with medians: those runs, in the file's order
}

func rowOf(label string, res *result) row {
	r := row{label: label, mode: res.mode, clients: res.cfg.clients, senders: res.cfg.senders,
		msgs: res.cfg.msgs, rate: res.cfg.rate, expected: res.expected, delivered: res.delivered,
		seconds: res.elapsed.Seconds(), perSecond: res.perSecond(),
		p50: res.lat.percentile(50), p99: res.lat.percentile(99), max: res.lat.max, ok: res.ok(),
		serverCPU: -1, toolCPU: -1, nsPerDelivery: -1, rssPerClient: res.mem.perClientKiB()}
	if u := res.cpu; u.measured {
		if u.server >= 0 {
			r.serverCPU, r.nsPerDelivery = u.server.Seconds(), u.nsPerDelivery()
		}
		if u.tool >= 0 {
			r.toolCPU = u.tool.Seconds()
		}
	}
	return r
}

func (r row) fields() []string {
	return []string{r.label, r.mode, strconv.Itoa(r.clients), strconv.Itoa(r.senders), strconv.Itoa(r.msgs),
		strconv.FormatFloat(r.rate, 'g', -1, 64), strconv.FormatInt(r.expected, 10), strconv.FormatInt(r.delivered, 10),
		strconv.FormatFloat(r.seconds, 'f', 4, 64), strconv.FormatFloat(r.perSecond, 'f', 0, 64),
		strconv.FormatInt(int64(r.p50), 10), strconv.FormatInt(int64(r.p99), 10), strconv.FormatInt(int64(r.max), 10),
		strconv.FormatBool(r.ok), known(r.serverCPU, 3), known(r.toolCPU, 3), known(r.nsPerDelivery, 1),
		known(r.rssPerClient, 2)}
}

// known writes v with prec decimals, or "" if it is negative: not measured.
func known(v float64, prec int) string {
	if v < 0 {
		return ""
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// appendRow adds r to the results file, with the header first if the file is new.
func appendRow(path string, r row) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if info, err := f.Stat(); err == nil && info.Size() == 0 {
		fmt.Fprintln(f, strings.Join(resultsHeader, "\t"))
	}
	fmt.Fprintln(f, strings.Join(r.fields(), "\t"))
	return f.Close()
}

// readRows reads a results file.
func readRows(path string) ([]row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []row
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != len(resultsHeader) && len(fields) != cpuFields && len(fields) != oldFields {
			return nil, fmt.Errorf("%s:%d: %d fields, want %d (or %d, without the memory, or %d, without the CPU times either)",
				path, n, len(fields), len(resultsHeader), cpuFields, oldFields)
		}
		if fields[0] == resultsHeader[0] {
			continue // a header
		}
		var r row
		var errs []error
		num := func(s string) int64 {
			v, err := strconv.ParseInt(s, 10, 64)
			errs = append(errs, err)
			return v
		}
		float := func(s string) float64 {
			v, err := strconv.ParseFloat(s, 64)
			errs = append(errs, err)
			return v
		}
		r.label, r.mode = fields[0], fields[1]
		r.clients, r.senders, r.msgs = int(num(fields[2])), int(num(fields[3])), int(num(fields[4]))
		r.rate, r.expected, r.delivered = float(fields[5]), num(fields[6]), num(fields[7])
		r.seconds, r.perSecond = float(fields[8]), float(fields[9])
		r.p50, r.p99, r.max = time.Duration(num(fields[10])), time.Duration(num(fields[11])), time.Duration(num(fields[12]))
		r.ok = fields[13] == "true"
		r.serverCPU, r.toolCPU, r.nsPerDelivery, r.rssPerClient = -1, -1, -1, -1
		maybe := func(s string) float64 {
			if s == "" {
				return -1
			}
			return float(s)
		}
		if len(fields) >= cpuFields {
			r.serverCPU, r.toolCPU, r.nsPerDelivery = maybe(fields[14]), maybe(fields[15]), maybe(fields[16])
		}
		if len(fields) > cpuFields {
			r.rssPerClient = maybe(fields[17])
		}
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

// medians merges the runs that differ only in their results into one row, with
// the median of each figure: a machine that is busy now and then makes single
// runs vary; the median of three is much steadier. Rows stay in file order.
func medians(rows []row) []row {
	type key struct {
		label, mode            string
		clients, senders, msgs int
		rate                   float64
	}
	groups := map[key][]row{}
	var order []key
	for _, r := range rows {
		k := key{r.label, r.mode, r.clients, r.senders, r.msgs, r.rate}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	var out []row
	for _, k := range order {
		g := groups[k]
		m := g[0]
		m.runs, m.each = len(g), g
		m.ok = !slices.ContainsFunc(g, func(r row) bool { return !r.ok })
		m.expected = median(g, func(r row) int64 { return r.expected })
		m.delivered = median(g, func(r row) int64 { return r.delivered })
		m.perSecond = float64(median(g, func(r row) int64 { return int64(r.perSecond) }))
		m.p50 = time.Duration(median(g, func(r row) int64 { return int64(r.p50) }))
		m.p99 = time.Duration(median(g, func(r row) int64 { return int64(r.p99) }))
		m.max = time.Duration(median(g, func(r row) int64 { return int64(r.max) }))
		m.serverCPU = medianKnown(g, func(r row) float64 { return r.serverCPU })
		m.toolCPU = medianKnown(g, func(r row) float64 { return r.toolCPU })
		m.nsPerDelivery = medianKnown(g, func(r row) float64 { return r.nsPerDelivery })
		m.rssPerClient = medianKnown(g, func(r row) float64 { return r.rssPerClient })
		out = append(out, m)
	}
	return out
}

// median returns the median of f over rows: the middle one once sorted, or the
// mean of the two in the middle.
func median(rows []row, f func(row) int64) int64 {
	v := make([]int64, len(rows))
	for i, r := range rows {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// medianKnown is the median of f over the rows where it is known (not
// negative), or -1 if it is known in none.
func medianKnown(rows []row, f func(row) float64) float64 {
	var v []float64
	for _, r := range rows {
		if x := f(r); x >= 0 {
			v = append(v, x)
		}
	}
	return medianOf(v)
}

// medianOf is the median of v, which it sorts, or -1 if v is empty.
func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return -1
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// writeTable writes rows as a Markdown table, then notes on what it shows. If
// the server's CPU was measured in any of them, the table has a column for its
// nanoseconds per delivery; if its memory was, one for its memory per client;
// empty where not measured. A row of several runs shows their spread next to
// the median: deliveries/s, p99 and those two. If baseline is not empty, a
// column gives each row's deliveries/s as a multiple of the baseline server's,
// run by run (see ratios).
func writeTable(w io.Writer, rows []row, baseline string) {
	withCPU := slices.ContainsFunc(rows, func(r row) bool { return r.nsPerDelivery >= 0 })
	withMem := slices.ContainsFunc(rows, func(r row) bool { return r.rssPerClient >= 0 })
	ratioHead, ratioRule, extraHead, extraRule := "", "", "", ""
	var against []ratio
	if baseline != "" {
		against = ratios(rows, baseline)
		ratioHead, ratioRule = " × "+baseline+" |", "--:|"
	}
	if withCPU {
		extraHead, extraRule = extraHead+" server ns/delivery |", extraRule+"--:|"
	}
	if withMem {
		extraHead, extraRule = extraHead+" server KiB/client |", extraRule+"--:|"
	}
	fmt.Fprintln(w, "| server | kind | clients | lines each | rate per client | runs | deliveries/s |"+ratioHead+
		" p50 | p99 | max |"+extraHead+" every line delivered |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|"+ratioRule+"--:|--:|--:|"+extraRule+"---|")
	for i, r := range rows {
		rate := "unpaced"
		if r.rate > 0 {
			rate = fmt.Sprintf("%g/s", r.rate)
		}
		every := "yes"
		if !r.ok {
			every = fmt.Sprintf("**no**: %.0f%% (median)", 100*float64(r.delivered)/float64(max(r.expected, 1)))
		}
		perSecond := commas(int64(r.perSecond)) + r.spread(func(r row) float64 { return r.perSecond }, compact,
			func(v float64) string { return commas(int64(v)) })
		if against != nil {
			perSecond += " | " + against[i].String()
		}
		p99 := short(r.p99) + r.spreadDuration(func(r row) time.Duration { return r.p99 })
		extra := ""
		cell := func(v float64, f func(row) float64, format func(float64) string) {
			if v < 0 {
				extra += " |" // not measured
			} else {
				extra += " " + format(v) + r.spread(f, compact, format) + " |"
			}
		}
		if withCPU {
			cell(r.nsPerDelivery, func(r row) float64 { return r.nsPerDelivery }, nanos)
		}
		if withMem {
			cell(r.rssPerClient, func(r row) float64 { return r.rssPerClient }, kibs)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %d | %s | %s | %s | %s |%s %s |\n", r.label, r.mode,
			commas(int64(r.clients)), commas(int64(r.msgs)), rate, r.runs, perSecond,
			short(r.p50), p99, short(r.max), extra, every)
	}
	for _, note := range notes(rows, baseline, against, withCPU, withMem) {
		fmt.Fprintf(w, "\n%s\n", note)
	}
}

// writeSVG draws two charts side by side, against the number of clients, one
// line for each label: deliveries per second in the runs as fast as they go,
// and the p99 latency in the paced runs (-rate; if there are none, in all).
// Both axes are logarithmic: from 10 to 1,000 clients, each step is ten times
// the last. It is plain SVG written by hand: a few lines, circles and texts.
func writeSVG(w io.Writer, rows []row) {
	const width, height, pad = 460.0, 320.0, 60.0
	var labels []string
	var unpaced, paced []row
	for _, r := range rows {
		if !slices.Contains(labels, r.label) {
			labels = append(labels, r.label)
		}
		if r.rate > 0 {
			paced = append(paced, r)
		} else {
			unpaced = append(unpaced, r)
		}
	}
	latencyTitle := "p99 latency"
	if len(paced) == 0 {
		paced = rows
	} else if rate := paced[0].rate; !slices.ContainsFunc(paced, func(r row) bool { return r.rate != rate }) {
		latencyTitle = fmt.Sprintf("p99 latency, each client sending %g/s", rate)
	}
	colors := []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"}

	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`+"\n",
		2*width, height+20*float64(len(labels))+10)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	charts := []struct {
		title string
		rows  []row
		value func(row) float64
		tick  func(float64) string
	}{
		{"deliveries per second, unpaced", unpaced, func(r row) float64 { return r.perSecond }, powerOfTen},
		{latencyTitle, paced, func(r row) float64 { return r.p99.Seconds() },
			secondsTick},
	}
	for i, ch := range charts {
		x0 := float64(i) * width
		// The range of each axis, widened to whole powers of ten.
		xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		for _, r := range ch.rows {
			if v := ch.value(r); v > 0 {
				xlo, xhi = math.Min(xlo, float64(r.clients)), math.Max(xhi, float64(r.clients))
				ylo, yhi = math.Min(ylo, v), math.Max(yhi, v)
			}
		}
		if math.IsInf(xlo, 0) {
			continue // nothing to draw
		}
		xlo, xhi = math.Floor(math.Log10(xlo)), math.Max(math.Ceil(math.Log10(xhi)), math.Floor(math.Log10(xlo))+1)
		// A point too close to the edge of a chart is hard to see: leave a margin.
		ylo, yhi = math.Floor(math.Log10(ylo)-0.1), math.Ceil(math.Log10(yhi)+0.1)
		px := func(clients float64) float64 {
			return x0 + pad + (math.Log10(clients)-xlo)/(xhi-xlo)*(width-1.5*pad)
		}
		py := func(v float64) float64 { return height - pad - (math.Log10(v)-ylo)/(yhi-ylo)*(height-1.5*pad) }

		fmt.Fprintf(w, `<text x="%.1f" y="20" text-anchor="middle" font-weight="bold">%s</text>`+"\n",
			x0+width/2, ch.title)
		fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle">clients (log scale)</text>`+"\n",
			x0+width/2, height-pad/2+12)
		for e := xlo; e <= xhi; e++ {
			x := px(math.Pow(10, e))
			fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", x, py(math.Pow(10, ylo)), x, py(math.Pow(10, yhi)))
			fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, height-pad+16, commas(int64(math.Pow(10, e))))
		}
		for e := ylo; e <= yhi; e++ {
			y := py(math.Pow(10, e))
			fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", px(math.Pow(10, xlo)), y, px(math.Pow(10, xhi)), y)
			fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", x0+pad-4, y+4, ch.tick(math.Pow(10, e)))
		}
		for j, label := range labels {
			color := colors[j%len(colors)]
			var points []string
			for _, r := range ch.rows {
				v := ch.value(r)
				if r.label != label || v <= 0 {
					continue
				}
				x, y := px(float64(r.clients)), py(v)
				points = append(points, fmt.Sprintf("%.1f,%.1f", x, y))
				fill := color
				if !r.ok {
					fill = "white" // a hollow point: this run did not deliver every line
				}
				fmt.Fprintf(w, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s" stroke="%s" stroke-width="2"/>`+"\n", x, y, fill, color)
			}
			fmt.Fprintf(w, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(points, " "), color)
		}
	}
	for j, label := range labels {
		y := height + 20*float64(j) + 5
		fmt.Fprintf(w, `<rect x="%.0f" y="%.0f" width="14" height="10" fill="%s"/>`, pad, y-9, colors[j%len(colors)])
		fmt.Fprintf(w, `<text x="%.0f" y="%.0f">%s</text>`+"\n", pad+20, y, escapeXML(label))
	}
	fmt.Fprintf(w, `<text x="%.0f" y="%.0f" fill="#555">hollow point: not every line was delivered</text>`+"\n",
		width+pad, height+5)
	fmt.Fprintln(w, "</svg>")
}

// powerOfTen writes a power of ten short, for an axis: 1, 10, 100, 1k, 10k... 1M.
func powerOfTen(v float64) string {
	e := max(int(math.Round(math.Log10(v))), 0)
	units := []string{"", "k", "M", "G"}
	u := min(e/3, len(units)-1)
	return "1" + strings.Repeat("0", e-3*u) + units[u]
}

// secondsTick writes a power of ten of seconds short, for an axis: 100µs, 1ms, 10s.
func secondsTick(v float64) string {
	switch {
	case v > 0.9:
		return powerOfTen(v) + "s"
	case v > 0.0009:
		return powerOfTen(v*1e3) + "ms"
	default:
		return powerOfTen(v*1e6) + "µs"
	}
}

// escapeXML makes s safe to put in an SVG text.
func escapeXML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
