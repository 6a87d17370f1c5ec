package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// A frame is one message on the wire: four bytes that hold the length of the
// payload, most significant byte first ("big-endian"), then the payload itself.
//
//	00 00 00 05  h e l l o
//
// TCP delivers a stream of bytes, not messages: one Read may return half a
// message, or two and a bit. The length in front tells the reader where each
// message ends, so the payload may hold anything, newlines and NUL bytes too.

// maxFrame is the largest payload this chat accepts: 1 MiB.
const maxFrame = 1 << 20

// ErrFrameTooLarge is what ReadFrame returns, wrapped, when a frame's length is
// over the limit.
var ErrFrameTooLarge = errors.New("frame too large")

// ReadFrame reads one frame from r and returns its payload. It never reads past
// the end of that frame, so the next call reads the next one.
//
// It returns io.EOF if r ends before the frame begins (the peer left between
// messages), io.ErrUnexpectedEOF if r ends partway through the frame, and an
// error wrapping ErrFrameTooLarge, without reading or allocating the payload,
// if the length is over max.
func ReadFrame(r io.Reader, max int) ([]byte, error) {
	var header [4]byte
	// ReadFull keeps reading until it has all four bytes: a Read may return fewer.
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err // io.EOF if nothing came at all, io.ErrUnexpectedEOF if a part did
	}
	n := binary.BigEndian.Uint32(header[:])

	// Check BEFORE allocating: the length comes from a stranger, and without this
	// check four bytes, ff ff ff ff, would make us allocate 4 GiB.
	if int64(n) > int64(max) {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrFrameTooLarge, n, max)
	}

	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the header promised a payload: ending here is not clean
		}
		return nil, err
	}
	return payload, nil
}

// WriteFrame writes p to w as one frame.
func WriteFrame(w io.Writer, p []byte) error {
	if uint64(len(p)) > math.MaxUint32 {
		return fmt.Errorf("%w: %d bytes do not fit a 4-byte length", ErrFrameTooLarge, len(p))
	}
	frame := make([]byte, 4, 4+len(p))
	binary.BigEndian.PutUint32(frame, uint32(len(p)))
	frame = append(frame, p...)

	// One Write for the whole frame: a net.Conn never mixes the bytes of two
	// Write calls, so two goroutines writing frames to one client cannot
	// interleave their headers and payloads.
	_, err := w.Write(frame)
	return err
}
