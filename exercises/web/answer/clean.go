package main

import "unicode/utf8"

// appendClean appends line to dst with everything that could drive the reader's
// terminal made visible and harmless. A chat line is printed as it comes by nc,
// telnet and most clients, so whatever bytes one client sends, the terminal of
// everybody else interprets:
//
//   - C0 control characters (ESC starts the sequences that clear the screen, set
//     the window title or, with OSC 52, write the clipboard; a bare "\r" goes back
//     to the start of the line, so the rest of it can pose as a line somebody else
//     wrote) become their visible pictures: ESC shows as ␛, "\r" as ␍;
//   - DEL shows as ␡; C1 controls (U+0080 to U+009F, where a terminal may read
//     U+009B as ESC [) and invalid UTF-8 become U+FFFD, the replacement character;
//   - the bidirectional overrides and isolates (U+202A to U+202E, U+2066 to
//     U+2069), which reorder what follows them on screen, and the line and
//     paragraph separators (U+2028, U+2029) become U+FFFD too.
//
// A tab becomes a space. Everything else, accents and emoji included, passes as it is.
func appendClean(dst, line []byte) []byte {
	for len(line) > 0 {
		// Most chat is printable ASCII: copy a whole run of it at once.
		n := 0
		for n < len(line) && line[n] >= 0x20 && line[n] < 0x7f {
			n++
		}
		dst = append(dst, line[:n]...)
		line = line[n:]
		if len(line) == 0 {
			break
		}
		r, size := utf8.DecodeRune(line)
		line = line[size:]
		switch {
		case r == utf8.RuneError && size == 1: // a byte that is not UTF-8
			dst = utf8.AppendRune(dst, utf8.RuneError)
		case r == '\t':
			dst = append(dst, ' ')
		case r < 0x20: // C0: U+2400 is the picture of NUL, U+241B of ESC, ...
			dst = utf8.AppendRune(dst, 0x2400+r)
		case r == 0x7f:
			dst = utf8.AppendRune(dst, '\u2421') // ␡
		case r < 0xa0, // C1
			0x202a <= r && r <= 0x202e, 0x2066 <= r && r <= 0x2069, // bidi overrides, isolates
			r == 0x2028 || r == 0x2029: // line and paragraph separators
			dst = utf8.AppendRune(dst, utf8.RuneError)
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}
