package main

import (
	"testing"

	"chatbook/exercises/tools/chattest"
)

// These tests build the real program and talk to it as a learner would.

// Two terminals, as the README says: one nc watches, the other says something.
func TestProgramWithNetcat(t *testing.T) { chattest.ChatWithNetcat(t) }

// telnet sends \r\n line endings; the others get the line without the \r.
func TestProgramWithTelnet(t *testing.T) { chattest.ChatWithTelnet(t) }

// A port in use, a wrong flag: one line says what went wrong, and the exit code too.
func TestPortInUse(t *testing.T) { chattest.PortInUse(t) }
func TestWrongFlag(t *testing.T) { chattest.WrongFlag(t) }
