package cmd

// Exit codes, the contract with scripts and CI.
const (
	ExitOK = 0
	// ExitBudgetExceeded: the gate failed (a budget line over, a significant
	// regression).
	ExitBudgetExceeded = 1
	// ExitInputError: bad usage, undecodable input, invalid budget file, or a
	// warning under --strict.
	ExitInputError = 2
)

// exitError carries an exit code out of a command's RunE.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func inputError(err error) error { return &exitError{code: ExitInputError, err: err} }
