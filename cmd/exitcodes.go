package cmd

import (
	"os"
	"strconv"
	"syscall"
)

// Exit codes, the contract with scripts and CI.
const (
	ExitOK = 0
	// ExitBudgetExceeded: the gate failed (a budget line over, a significant
	// regression).
	ExitBudgetExceeded = 1
	// ExitInputError: bad usage, undecodable input, invalid budget file, or a
	// warning under --strict.
	ExitInputError = 2
	// ExitInterrupted: stopped by SIGINT (128 + 2, as shells report it);
	// SIGTERM gives 143 (128 + 15). See Interrupt.
	ExitInterrupted = 130
)

// Interrupt is the cause main gives the context when a signal stops
// hopbudget.
type Interrupt struct{ Signal os.Signal }

func (e Interrupt) Error() string {
	switch e.Signal {
	case syscall.SIGINT:
		return "interrupted (SIGINT)"
	case syscall.SIGTERM:
		return "interrupted (SIGTERM)"
	}
	return "interrupted (" + e.Signal.String() + ")"
}

// Code is the exit code: 128 + the signal's number.
func (e Interrupt) Code() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return ExitInterrupted
}

// exitError carries an exit code out of a command's RunE.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return "exit code " + strconv.Itoa(e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func inputError(err error) error { return &exitError{code: ExitInputError, err: err} }
